"""The shared Chinese-aware search, on the test database (SQLite FTS5 or PostgreSQL GIN)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.common import search
from server.common.tx import commit
from server.extensions import db


def test_fold_turns_traditional_and_taiwan_phrases_into_simplified():
    assert search.fold("網絡安全") == "网络安全"
    assert search.fold("網路") == "网络"  # a Taiwan phrase, not only a character
    assert search.fold("軟體設計") == "软件设计"
    assert search.fold("ＡＰＰ開發") == "app开发"  # full width folded, lower-cased


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
    """Ligatures (ﬁ, ㍿) and phrase conversions change the folded length; the marks stay on the
    right characters, and OpenCC is asked a bounded number of times whatever the length
    (it was asked once per character: 12-26 ms a result instead of 0.7 ms)."""
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

    counting = Counting(search._converter)
    monkeypatch.setattr(search, "_converter", counting)
    search._convert_char.cache_clear()
    for text in ["ﬁ㍿ 碳中和咨詢服務 " * 500, "我的部落格寫程式設計心得，" * 400]:
        counting.calls = 0
        snippet = search.highlight(text, "咨询 心得")
        assert "<mark>" in snippet
        assert counting.calls <= 2 + 40, counting.calls  # two passes, and distinct characters
