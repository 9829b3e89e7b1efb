"""Forum search: Traditional and Simplified alike, snippets marked, visibility respected."""

from __future__ import annotations

import pytest

from tests.forum.helpers import seed_threads


def _search(forum, member, **query):
    return forum.call(member, "GET", "/search", 200, query_string=query)["items"]


def test_traditional_found_by_simplified_and_the_reverse(forum, make_member, category):
    author, reader = make_member(), make_member()
    traditional = forum.thread(
        author,
        category["id"],
        "公眾號從零到一萬粉",
        body="分享一下經驗：固定更新頻率，認真回覆讀者留言。",
    )
    simplified = forum.thread(
        author, category["id"], "网络安全入门", body="软件更新要及时，密码不要重复使用。"
    )
    hits = _search(forum, reader, q="公众号 经验")
    assert [h["thread_id"] for h in hits] == [traditional["id"]]
    assert "<mark>公眾號</mark>" in hits[0]["title_html"]
    assert "<mark>經驗</mark>" in hits[0]["snippet"]
    hits = _search(forum, reader, q="網路安全 軟體")
    assert [h["thread_id"] for h in hits] == [simplified["id"]]
    assert "<mark>软件</mark>" in hits[0]["snippet"]


def test_a_mainland_query_finds_the_taiwan_post_that_means_the_same_and_the_reverse(
    forum, make_member, category
):
    """Issue #15: a mainland 程序员 was folded to 进程员 and a Taiwan 程式設計師 to 程序员, so that
    neither found the other, and a 程序 query found posts about 进程."""
    author, reader = make_member(), make_member()
    taiwan = forum.thread(
        author, category["id"], "徵程式設計師", body="接案做小程式，檔案放在雲端資料夾。"
    )
    mainland = forum.thread(
        author, category["id"], "招程序员", body="做小程序外包，文件放在共享文件夹。"
    )
    process = forum.thread(author, category["id"], "进程管理", body="讲操作系统的进程调度。")
    for query in ("程序员", "程式設計師"):
        hits = _search(forum, reader, q=query)
        assert {h["thread_id"] for h in hits} == {taiwan["id"], mainland["id"]}, query
    [hit] = [h for h in _search(forum, reader, q="程序员") if h["thread_id"] == taiwan["id"]]
    assert hit["title_html"] == "徵<mark>程式設計師</mark>"
    for query in ("小程序 文件夹", "小程式 資料夾"):
        hits = _search(forum, reader, q=query)
        assert {h["thread_id"] for h in hits} == {taiwan["id"], mainland["id"]}, query
    assert "<mark>資料夾</mark>" in next(
        h["snippet"] for h in _search(forum, reader, q="文件夹") if h["thread_id"] == taiwan["id"]
    )
    assert process["id"] not in {h["thread_id"] for h in _search(forum, reader, q="程序")}
    assert [h["thread_id"] for h in _search(forum, reader, q="进程")] == [process["id"]]


def test_replies_are_found_and_snippets_are_escaped(forum, make_member, category):
    author, replier = make_member(), make_member()
    thread = forum.thread(author, category["id"], "合同怎么写")
    reply = forum.reply(replier, thread["id"], "记得写清楚<b>版权</b>使用范围和付款节点。")
    [hit] = _search(forum, author, q="版权")
    assert hit["post_id"] == reply["id"] and hit["number"] == 2 and hit["title"] == "合同怎么写"
    assert hit["snippet"] == "记得写清楚&lt;b&gt;<mark>版权</mark>&lt;/b&gt;使用范围和付款节点。"


def test_hidden_and_deleted_posts_never_appear(forum, make_member, moderator, category):
    author, replier, reader = make_member(), make_member(), make_member()
    thread = forum.thread(author, category["id"], "报价经验交流")
    hidden = forum.reply(replier, thread["id"], "这条帖子讲报价但会被隐藏。")
    deleted = forum.reply(replier, thread["id"], "这条帖子讲报价但会被删除。")
    forum.call(moderator, "POST", f"/posts/{hidden['id']}/moderation", 200, json={"action": "hide"})
    forum.call(replier, "DELETE", f"/posts/{deleted['id']}", 204)
    assert [h["number"] for h in _search(forum, reader, q="报价")] == [1]
    forum.call(
        moderator, "POST", f"/threads/{thread['id']}/moderation", 200, json={"action": "delete"}
    )
    assert _search(forum, reader, q="报价") == []


def test_filters_and_pages(app, forum, make_member, organiser, category):
    a, b = make_member(), make_member()
    other = forum.category(organiser, "别的版块")
    seed_threads(app, a, category["id"], 5)
    seed_threads(app, b, other["id"], 3)
    assert len(_search(forum, a, q="测试", limit=100)) == 8
    assert len(_search(forum, a, q="测试", category_id=other["id"])) == 3
    assert len(_search(forum, a, q="测试", author_id=a.id)) == 5
    assert len(_search(forum, a, q="测试", tag="测试")) == 8
    assert _search(forum, a, q="测试", tag="别的") == []
    seen, cursor = [], None
    while True:
        page = forum.call(
            a,
            "GET",
            "/search",
            200,
            query_string={"q": "测试", "limit": 3, **({"cursor": cursor} if cursor else {})},
        )
        seen += [h["post_id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 8


def test_title_matches_rank_first_then_closer_matches(forum, make_member, category):
    """Relevance × recency (server/common/search.py): the word in a title counts most, then
    how much of a short post it is; among equals the newer post comes first."""
    author, reader = make_member(), make_member()
    titled = forum.thread(
        author, category["id"], "报价单怎么写", body="先列清楚工作内容和交付时间。"
    )
    chatty = forum.thread(
        author, category["id"], "随便聊聊", body="今天收到一个报价，有点低，大家觉得呢？"
    )
    short = forum.reply(reader, chatty["id"], "报价低可以再谈。")
    hits = _search(forum, reader, q="报价")
    assert [(h["thread_id"], h["number"]) for h in hits] == [
        (titled["id"], 1),
        (chatty["id"], short["number"]),
        (chatty["id"], 1),
    ]


def test_search_queries_are_constant(
    app, client, forum, make_member, auth_headers, count_queries, category
):
    a = make_member()
    seed_threads(app, a, category["id"], 12, replies=1)
    headers = auth_headers(a)
    counts = []
    for limit in (2, 20):
        with count_queries() as q:
            r = client.get(
                "/api/v1/forum/search", headers=headers, query_string={"q": "测试", "limit": limit}
            )
        assert len(r.get_json()["items"]) == limit
        counts.append(q.count)
    assert counts[0] == counts[1] <= 3


def test_bad_search_input_is_a_4xx(forum, make_member):
    member = make_member()
    assert (
        forum.call(member, "GET", "/search", 422, query_string={"q": ""})["code"]
        == "validation_error"
    )
    assert (
        forum.call(member, "GET", "/search", 422, query_string={"q": "长" * 201})["code"]
        == "validation_error"
    )
    assert _search(forum, member, q='"" ... ***') == []


def test_search_for_a_phrase_of_punctuation_and_posts_with_huge_words(forum, make_member, category):
    author = make_member()
    forum.thread(
        author, category["id"], "超长链接", body="看这个 https://example.com/?t=" + "A1b2" * 600
    )
    for query in ('"%"', '"!"', '"😀"'):
        assert forum.call(author, "GET", "/search", 200, query_string={"q": query})["items"] == []
    assert (
        len(forum.call(author, "GET", "/search", 200, query_string={"q": "超长链接"})["items"]) == 1
    )


def _run_0018(app, step: str, name: str = "0018_search_fold") -> None:
    """Migration 0018's (or ``name``'s) ``upgrade`` or ``downgrade``, on this test's
    connection."""
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from server.extensions import db

    path = Path(__file__).parents[2] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with app.app_context():
        with Operations.context(MigrationContext.configure(db.session.connection())):
            getattr(module, step)()
        db.session.commit()


def test_0018_folds_what_tw2sp_folded_again(app, forum, make_member, category):
    """Documents and name keys written by tw2sp (downgrade writes them so) are written again as
    the application writes them now, and the searches of issue #15 find them."""
    import sqlalchemy as sa

    from server.common import search
    from server.extensions import db
    from server.forum.models import ForumPost
    from server.members.models import Member

    author, reader = make_member(display_name="程序猿小王"), make_member()
    taiwan = forum.thread(author, category["id"], "徵程式設計師", body="接案做**小程式**。")
    mainland = forum.thread(author, category["id"], "招程序员", body="很多工作要做。")
    reply = forum.reply(reader, mainland["id"], "文件夹发我")

    def stored() -> dict[int, tuple[str, str]]:
        with app.app_context():
            rows = db.session.execute(
                sa.select(
                    search.SearchDocument.ref_id,
                    search.SearchDocument.content,
                    search.SearchDocument.tokens,
                ).where(search.SearchDocument.kind == "forum_post")
            )
            return {ref_id: (content, tokens) for ref_id, content, tokens in rows}

    def name_key() -> str:
        with app.app_context():
            return db.session.get(Member, author.id).name_key

    now = stored()
    with app.app_context():
        assert now[reply["id"]] == search.document_fields("", "文件夹发我")
        first = db.session.scalar(
            sa.select(ForumPost.id).where(
                ForumPost.thread_id == mainland["id"], ForumPost.number == 1
            )
        )
    assert now[first][0] == "招程序员 很多工作要做。"
    _run_0018(app, "downgrade")
    before = stored()
    assert before[reply["id"]][0] == "文档夹发我"
    assert before[first][0] == "招进程员 很多任务作要做。"
    assert name_key() == f"进程猿小王 {author.username}"
    assert [h["thread_id"] for h in _search(forum, reader, q="程序员")] == [taiwan["id"]]
    _run_0018(app, "upgrade")
    assert stored() == now
    assert name_key() == f"程序猿小王 {author.username}"
    hits = _search(forum, reader, q="程序员")
    assert {h["thread_id"] for h in hits} == {taiwan["id"], mainland["id"]}


def test_0019_dates_documents_by_their_posts_and_measures_their_titles(
    app, forum, make_member, category
):
    """Documents written before 0019 get the recency of their post's time and the length of
    their title (a first post's); the ranks they give are those the application writes."""
    from datetime import timedelta

    import sqlalchemy as sa

    from server.common import search
    from server.common.time import utcnow
    from server.extensions import db
    from server.forum.models import ForumPost

    author, reader = make_member(), make_member()
    old = forum.thread(author, category["id"], "報價單怎麼寫", body="先列清楚工作內容。")
    new = forum.thread(author, category["id"], "随便聊聊", body="今天收到一个报价。")
    documents = search.SearchDocument.__table__

    def stored() -> dict[int, tuple[float, int]]:
        with app.app_context():
            rows = db.session.execute(
                sa.select(documents.c.ref_id, documents.c.recency, documents.c.title_chars)
            )
            return {ref_id: (recency, chars) for ref_id, recency, chars in rows}

    with app.app_context():  # the old thread was written 90 days ago
        first = db.session.scalar(sa.select(ForumPost).where(ForumPost.thread_id == old["id"]))
        first.created_at = utcnow() - timedelta(days=90)
        db.session.commit()
        dated, first_id = first.created_at, first.id
    _run_0018(app, "downgrade", "0019_search_rank")
    _run_0018(app, "upgrade", "0019_search_rank")
    after = stored()
    assert after[first_id] == (pytest.approx(search.recency(dated)), len("报价单怎么写"))
    assert [h["thread_id"] for h in _search(forum, reader, q="报价")] == [new["id"], old["id"]]
    assert _search(forum, reader, q="工作内容")[0]["thread_id"] == old["id"]  # FTS still there
