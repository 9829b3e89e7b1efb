"""The shared Chinese-aware search, on the test database (SQLite FTS5 or PostgreSQL GIN)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from server.common import folding, search
from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from tests.common.fold_words import (
    APART,
    MAINLAND_SENTENCES,
    MAINLAND_WORDS,
    PAIRS,
    SENTENCE_PAIRS,
)


def test_fold_turns_traditional_and_taiwan_phrases_into_simplified():
    assert search.fold("網絡安全") == "网络安全"
    assert search.fold("網路") == "网络"  # a Taiwan phrase, not only a character
    assert search.fold("軟體設計") == "软件设计"
    assert search.fold("ＡＰＰ開發") == "app开发"  # full width folded, lower-cased
    assert search.fold("他看著我") == "他看着我"  # a Taiwan variant of a character


@pytest.mark.parametrize(("mainland", "taiwan"), PAIRS)
def test_a_mainland_word_and_its_taiwan_or_hong_kong_spelling_fold_to_the_mainland_one(
    mainland, taiwan
):
    assert search.fold(taiwan) == search.fold(mainland) == mainland.lower()


@pytest.mark.parametrize(("taiwan", "mainland"), SENTENCE_PAIRS)
def test_a_taiwan_sentence_folds_as_the_mainland_sentence_that_says_the_same(taiwan, mainland):
    assert search.fold(taiwan) == search.fold(mainland)


def test_the_words_of_issue_15_keep_their_meaning():
    """tw2sp read them as Taiwan phrases: 程序 → 进程, 程序员 → 进程员, 小程序 → 小进程,
    应用程序 → 应用进程, 文件 → 文档, 文件夹 → 文档夹."""
    for word in ["程序", "程序员", "小程序", "应用程序", "文件", "文件夹"]:
        assert search.fold(word) == word
    assert search.fold("进程") == "进程" != search.fold("程序")
    assert search.fold("文档") == "文档" != search.fold("文件")


@pytest.mark.parametrize("text", MAINLAND_WORDS + MAINLAND_SENTENCES)
def test_mainland_words_and_sentences_fold_to_themselves(text):
    """Nor is a Taiwan phrase found across two words: 很多|工作 holds no 多工 (multitasking),
    很快|取得 no 快取 (cache)."""
    assert search.fold(text) == unicodedata.normalize("NFKC", text).lower()


_EVERY = [w for pair in PAIRS + APART for w in pair] + MAINLAND_WORDS
_PIECES = _EVERY + list(folding.PHRASES) + list(folding.PHRASES.values()) + list("的了很多工作，")


@pytest.mark.parametrize(
    "text", _EVERY + MAINLAND_SENTENCES + [s for p in SENTENCE_PAIRS for s in p]
)
def test_folding_twice_is_folding_once(text):
    assert search.fold(search.fold(text)) == search.fold(text)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map("".join))
def test_folding_twice_is_folding_once_whatever_the_words_around(text):
    """A phrase jieba did not cut out among its Taiwan neighbours may be a word among their
    mainland spellings: passes repeat until nothing changes. Highlighting folds alike, each
    folded character pointing into the text, in order."""
    folded = search.fold(text)
    assert search.fold(folded) == folded
    mapped, starts, ends = folding.fold_with_map(text)
    assert mapped == folded and len(starts) == len(ends) == len(folded)
    assert all(0 <= s < e <= len(text) for s, e in zip(starts, ends, strict=True))
    assert starts == sorted(starts)


def test_index_keeps_the_words_inside_long_words():
    tokens = search.index_tokens("我在研究網絡安全課程")
    assert {"网络", "安全", "网络安全", "课程"} <= set(tokens)
    assert search.query_tokens("网络安全") == ["网络安全"]


def _index(app, docs):
    with app.app_context():
        for ref_id, (title, body) in docs.items():
            search.index_document("post", ref_id, title, body)
        commit()


def _search(app, query, kind="post"):
    with app.app_context():
        hits = search.search_hits(kind, query)
        rows = db.session.execute(sa.select(hits.c.ref_id).order_by(hits.c.rank, hits.c.ref_id))
        return [r for (r,) in rows]


DOCS = {
    1: ("網絡安全入門", "自由職業者如何保護客戶資料"),
    2: ("网络营销怎么做", "新媒体运营的十个技巧"),
    3: ("軟體外包報價", "接案時怎樣估算工時"),
    4: ("Freelance pricing", "How to price a design contract"),
    5: ("设计师的一天", "安全感来自稳定的客户"),
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("网络", {1, 2}),  # Simplified query finds the Traditional thread
        ("網絡", {1, 2}),  # and the reverse
        ("網路", {1, 2}),  # Taiwan wording finds mainland wording
        ("网络安全", {1}),
        ("软件", {3}),
        ("報價", {3}),
        ("PRICING", {4}),
        ("安全", {1, 5}),
        ("客户", {1, 5}),
        ("网络 客户", {1}),  # every word must match
        ("区块链", set()),
        ("", set()),
        ("！？。", set()),
    ],
)
def test_search_folds_scripts_and_segments_words(app, query, expected):
    _index(app, DOCS)
    assert set(_search(app, query)) == expected


def test_each_spelling_of_a_pair_finds_the_other(app):
    """Issue #15: a mainland query meets the Taiwan post that means the same, and the reverse."""
    _index(app, {i: ("", word) for i, word in enumerate(w for pair in PAIRS for w in pair)})
    for k, (mainland, taiwan) in enumerate(PAIRS):
        for query in (mainland, taiwan):
            assert {2 * k, 2 * k + 1} <= set(_search(app, query)), (mainland, taiwan, query)


def test_a_mainland_word_no_longer_finds_the_word_tw2sp_made_of_it(app):
    _index(app, {1: ("", "小程序的报价"), 2: ("", "进程管理"), 3: ("", "文件"), 4: ("", "文档")})
    assert _search(app, "程序") == [1]  # it found 进程 (程序 was folded to 进程)
    assert _search(app, "进程") == [2]
    assert _search(app, "文件") == [3]
    assert _search(app, "文档") == [4]
    assert _search(app, "程式") == [1]  # the Taiwan spelling finds the mainland post


def test_phrase_search_needs_the_words_together(app):
    _index(app, {1: ("", "网络安全很重要"), 2: ("", "安全的网络很重要")})
    assert set(_search(app, "安全 网络")) == {1, 2}
    assert _search(app, '"網絡安全"') == [1]
    assert _search(app, '"安全的网络"') == [2]


def test_query_syntax_is_inert(app):
    """Search syntax and SQL in a query are text to look for: they never widen the search
    (an injected OR, a wildcard) nor fail it."""
    _index(app, DOCS)
    for hostile in ('"', 'a" OR "b', "' OR 1=1 --", "%", "_", "\\", "*", "NEAR(x y)"):
        assert _search(app, hostile) == [], hostile  # matches nothing, not everything
    assert _search(app, "网络*") == _search(app, "网络") != []  # no prefix wildcard, no error
    assert _search(app, "网络 OR 外包") == []  # OR is a word, not an operator


def test_reindex_replaces_and_remove_forgets(app):
    _index(app, {7: ("旧标题", "旧内容")})
    assert _search(app, "旧内容") == [7]
    _index(app, {7: ("新标题", "新内容")})
    assert _search(app, "旧内容") == [] and _search(app, "新内容") == [7]
    with app.app_context():
        search.remove_document("post", 7)
        commit()
    assert _search(app, "新内容") == []


def test_kinds_are_separate(app):
    _index(app, {1: ("网络", "")})
    assert _search(app, "网络", kind="course") == []


def test_better_matches_rank_first(app):
    _index(
        app,
        {
            1: ("报价", "报价 报价 报价 合同报价"),
            2: ("其他", "一次提到报价而已，其余都在讲别的事情"),
        },
    )
    assert _search(app, "报价") == [1, 2]


def test_words_jieba_cuts_differently_in_context_are_found(app):
    # alone, 碳中和 is cut 碳中 + 和; inside the sentence, 碳 + 中 + 和: character pairs match
    _index(app, {1: ("", "有人做过碳中和咨询项目吗？"), 2: ("", "中和反应与碳酸钙")})
    assert _search(app, "碳中和咨询") == [1]
    assert _search(app, "碳中和") == [1]
    assert set(_search(app, "碳")) == {1, 2}  # a word, or the start of a pair (碳酸)
    assert _search(app, "咨询项目") == [1]


def test_only_the_newest_candidates_are_ranked(app):
    _index(app, {i: ("", f"报价 第{i}版") for i in range(1, 8)})
    with app.app_context():
        hits = search.search_hits("post", "报价", candidates=3)
        found = db.session.execute(sa.select(hits.c.ref_id)).scalars()
        assert set(found) == {5, 6, 7}  # the three indexed last


def test_a_scope_applies_before_the_candidates_are_counted(app):
    _index(app, {i: ("", f"报价 第{i}版") for i in range(1, 8)})
    with app.app_context():
        hits = search.search_hits(
            "post", "报价", candidates=3, scope=lambda ref_id: ref_id <= 4
        )  # the four oldest are the only ones the caller may see
        found = db.session.execute(sa.select(hits.c.ref_id)).scalars()
        assert set(found) == {2, 3, 4}


def test_phrases_without_words_and_huge_tokens_are_harmless(app):
    url = "https://example.com/?t=" + "A1b2" * 600  # one 2.4 KB "word"
    _index(app, {1: ("", f"看这个 {url} 报价单")})
    for query in ('"%"', '"!"', '"😀"', '"（）"', '"\'"', "_"):
        assert _search(app, query) == []
    assert _search(app, "报价单") == [1]
    assert _search(app, "example.com") == [1]  # the URL's words are indexed, not the blob


def test_highlighting_stays_linear_when_folding_changes_length(monkeypatch):
    """Ligatures (ﬁ, ㍿) and Taiwan phrases (程式設計 → 编程) change the folded length; the marks
    stay on the right characters, and OpenCC is asked once a pass whatever the length (it was
    asked once per character: 12-26 ms a result instead of 0.7 ms)."""
    assert search.highlight("Find the ﬁle on ㍿ 軟體公司 today", "file 软件") == (
        "Find the <mark>ﬁle</mark> on ㍿ <mark>軟體</mark>公司 today"
    )
    assert search.highlight("İstanbul ＡＢＣ 碳中和", "abc 碳中和") == (
        "İstanbul <mark>ＡＢＣ</mark> <mark>碳中和</mark>"
    )

    class Counting:
        def __init__(self, converter):
            self.converter, self.calls = converter, 0

        def convert(self, text):
            self.calls += 1
            return self.converter.convert(text)

    counting = Counting(folding._chars)
    monkeypatch.setattr(folding, "_chars", counting)
    for text in ["ﬁ㍿ 碳中和咨詢服務 " * 500, "我的部落格寫程式設計心得，" * 400]:
        counting.calls = 0
        snippet = search.highlight(text, "咨询 心得")
        assert "<mark>" in snippet
        assert counting.calls <= folding.MAX_PASSES, counting.calls
    assert search.highlight("我的部落格寫程式設計心得，" * 400, "博客 编程", width=12) == (
        "我的<mark>部落格</mark>寫<mark>程式設計</mark>心得…"
    )


def test_a_mainland_word_marks_the_taiwan_phrase_it_was_found_as():
    assert search.highlight("他是程式設計師，在台北寫程式。", "程序员") == (
        "他是<mark>程式設計師</mark>，在台北寫程式。"
    )
    assert search.highlight("他是程式設計師，在台北寫程式。", "程序") == (
        "他是<mark>程式設計師</mark>，在台北寫<mark>程式</mark>。"  # as 程序 in 程序员
    )
    assert search.highlight("我有很多工作要做", "多任务") == "我有很多工作要做"


def _ranked(app, query, **kwargs):
    """``[(ref_id, rank)]`` best first, as a feature reads the hits."""
    with app.app_context():
        hits = search.search_hits("post", query, **kwargs)
        return [tuple(r) for r in db.session.execute(sa.select(hits.c.ref_id, hits.c.rank))]


def _index_dated(app, docs):
    with app.app_context():
        for ref_id, (title, body, days_ago) in docs.items():
            dated = utcnow() - timedelta(days=days_ago)
            search.index_document("post", ref_id, title, body, dated=dated)
        commit()


def test_among_equal_matches_the_newer_ranks_first(app):
    _index_dated(app, {1: ("", "报价单", 60), 2: ("", "报价单", 1), 3: ("", "报价单", 20)})
    assert [ref for ref, _ in _ranked(app, "报价")] == [2, 3, 1]


def test_a_better_match_outranks_a_newer_one_until_recency_weighs_more(app):
    """Relevance × recency: one half-life (HALF_LIFE_DAYS) halves a document's weight, so a
    title match a week old still beats a passing mention of today, and not one of a year ago."""
    half_life = search.HALF_LIFE_DAYS
    _index_dated(
        app,
        {
            1: ("报价怎么定", "先问预算再报价", 7),  # in the title, twice
            2: ("随便聊聊", "顺便提一句报价的事情，其余都是别的内容，说来话长。", 0),
            3: ("报价怎么定", "先问预算再报价", 12 * half_life),
        },
    )
    assert [ref for ref, _ in _ranked(app, "报价")] == [1, 2, 3]


def test_the_title_outweighs_the_body(app):
    _index_dated(app, {1: ("", "合同范本和报价单", 0), 2: ("合同范本", "报价单", 0)})
    assert [ref for ref, _ in _ranked(app, "合同")] == [2, 1]


def test_an_edit_keeps_the_date_and_a_rank_does_not_change_with_time(app):
    """The rank is a product of stored columns: the same whenever it is asked, so a cursor
    holding it continues exactly; re-indexing an edit keeps the document's date."""
    _index_dated(app, {1: ("", "报价单", 30), 2: ("", "报价单", 3)})
    before = _ranked(app, "报价")
    _index(app, {1: ("", "报价单")})  # an edit: no date given
    assert _ranked(app, "报价") == before
    with app.app_context():
        stored = db.session.execute(
            sa.select(search.SearchDocument.recency).where(search.SearchDocument.ref_id == 1)
        ).scalar_one()
        assert stored == pytest.approx(search.recency(utcnow() - timedelta(days=30)), rel=1e-6)


def test_every_match_is_ranked_when_there_are_fewer_than_the_candidates(app):
    """The bound is in matching documents: a word found in 5 of 50 documents is ranked over
    all 5, however many others were written since."""
    docs = {i: ("", f"无关的内容 第{i}篇", 0) for i in range(1, 51)}
    docs |= {i: ("", "碳中和咨询", 400 - i) for i in (3, 9, 27, 33, 48)}
    _index_dated(app, docs)
    assert [ref for ref, _ in _ranked(app, "碳中和咨询", candidates=5)] == [48, 33, 27, 9, 3]


@pytest.mark.parametrize("walked", [(2, 4), search.WALKED])
def test_the_newest_candidates_do_not_depend_on_how_many_documents_are_walked(
    app, monkeypatch, walked
):
    """PostgreSQL reads the newest documents one by one (WALKED: here 2, then 2 more), then
    older ones through its index: the candidates are the newest matches either way, scope
    applied before counting."""
    monkeypatch.setattr(search, "WALKED", walked)
    _index(app, {i: ("", f"报价 第{i}版" if i % 2 else f"别的 第{i}版") for i in range(1, 15)})
    with app.app_context():
        for scope, expected in [(None, {13, 11, 9}), (lambda ref_id: ref_id <= 7, {7, 5, 3})]:
            hits = search.search_hits("post", "报价", candidates=3, scope=scope)
            assert set(db.session.execute(sa.select(hits.c.ref_id)).scalars()) == expected
