"""``GET /forum/search``: posts and titles through the shared Chinese-aware index.

The index knows words; this module knows who may see what: hidden and deleted posts, and posts
of hidden or deleted threads, never appear. Results are ranked (best first: relevance × recency,
``server.common.search.search_hits``) and paged by (rank, id), so a next page continues exactly
where the last one ended (a rank does not change with time).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload

from server.common import search as fulltext
from server.common.pagination import Page, SortKey, keyset_page
from server.common.text import plain_text
from server.forum import access
from server.forum.categories import load_category
from server.forum.models import ForumCategory, ForumPost, ForumThread, ForumThreadTag
from server.forum.state import SEARCH_KIND
from server.members.models import Member


@dataclass
class SearchResult:
    post: ForumPost
    thread: ForumThread
    title_html: str
    snippet: str


def search_posts(
    member: Member,
    *,
    q: str,
    category_id: int | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    limit: int,
    cursor: str | None,
) -> Page[SearchResult]:
    """Posts matching ``q`` (Traditional and Simplified alike), filtered by category, tag or
    author, each with its thread's title and a snippet, matches marked."""
    parsed = fulltext.parse_query(q)
    post, thread = aliased(ForumPost), aliased(ForumThread)
    conditions: list[sa.ColumnElement[bool]] = [
        post.deleted_at.is_(None),
        post.hidden_at.is_(None),
        thread.deleted_at.is_(None),
        thread.hidden.is_(False),
    ]
    hidden = access.hidden_category_ids(member)
    if hidden:
        conditions.append(thread.category_id.not_in(hidden))
    if category_id is not None:
        category = load_category(category_id, member)
        conditions.append(
            thread.category_id.in_(
                sa.select(ForumCategory.id).where(
                    sa.or_(ForumCategory.id == category.id, ForumCategory.parent_id == category.id)
                )
            )
        )
    if tag:
        conditions.append(
            sa.exists().where(
                ForumThreadTag.thread_id == thread.id,
                ForumThreadTag.tag == tag.strip().lower(),
            )
        )
    if author_id is not None:
        conditions.append(post.author_id == author_id)

    def scope(ref_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        # checked per match before candidates are counted: what the caller may not see, or
        # filtered out, never takes a candidate's place
        return (
            sa.select(post.id)
            .join(thread, thread.id == post.thread_id)
            .where(post.id == ref_id, *conditions)
            .exists()
        )

    hits = fulltext.search_hits(SEARCH_KIND, parsed, scope=scope)
    stmt = (
        sa.select(ForumPost, ForumThread, hits.c.rank)
        .join(hits, hits.c.ref_id == ForumPost.id)
        .join(ForumThread, ForumThread.id == ForumPost.thread_id)
        .options(joinedload(ForumPost.author))
    )
    page = keyset_page(
        stmt,
        [SortKey(hits.c.rank, descending=False), SortKey(hits.c.ref_id, descending=False)],
        name="forum.search",
        limit=limit,
        cursor=cursor,
        scalars=False,
        key_of=lambda row: [row[2], row[0].id],
    )
    items = [
        SearchResult(
            post=post,
            thread=thread,
            title_html=fulltext.highlight(thread.title, parsed, width=200),
            snippet=fulltext.highlight(plain_text(post.body), parsed),
        )
        for post, thread, _rank in page.items
    ]
    return Page(items, page.next_cursor)
