"""The ceiling: the least a Flask + SQLAlchemy app can do to serve the app's list pages.

Each endpoint reads 20 rows of the real tables by keyset with one SQLAlchemy Core query and
returns them as JSON with Flask's default JSON provider. No authentication, no schema, no
middleware, no ETag, no metrics, no logging. ``GET /healthz`` answers without touching the
database.

- ``GET /members?cursor=<id>``: a page of the directory (``WHERE id < :cursor ORDER BY id DESC
  LIMIT 20``), for ``bench/api_bench.py``.
- ``GET /forum/threads?cursor=<pinned>,<bumped_at ISO 8601>,<id>``: a page of the forum's front
  page in the order of ``GET /api/v1/forum/threads`` (visible threads, site-wide pins first, then
  by last post: ``ORDER BY pinned_globally DESC, bumped_at DESC, id DESC``, the row after the
  cursor as in ``server.common.pagination``), with the columns a list shows and the author's and
  last poster's names joined in. Not read: the caller's reading state (the app's outer join) and
  hidden categories (the app asks; the bench's forum has none). For ``bench/forum_bench.py`` and
  ``bench/api_bench.py``.
- ``GET /forum/threads/<id>/posts?from_number=<n>``: 20 posts of a thread from post ``n`` by
  number (``WHERE thread_id = :thread AND number >= :n ORDER BY number``), with the author's
  name; the HTML of a hidden or deleted post left out, as the app leaves it out. Not read:
  reactions and what a post replies to. For ``bench/forum_bench.py``.

Served by ``bench/api_bench.py`` and ``bench/forum_bench.py`` with exactly the gunicorn settings
of the real app::

    DATABASE_URL=... gunicorn -w 2 bench.ceiling_app:app
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, request

PAGE = 20
NO_CURSOR = 2**62  # larger than any id: page 1


def _engine_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _make_engine() -> sa.Engine:
    url = _engine_url(os.environ["DATABASE_URL"])
    if url.startswith("postgresql"):
        # The same pool the real app configures for PostgreSQL (server/config.py).
        return sa.create_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800)
    return sa.create_engine(url)


engine = _make_engine()

PAGE_QUERY = sa.text(
    "SELECT id, username, display_name, city, bio FROM members "
    "WHERE id < :cursor ORDER BY id DESC LIMIT :limit"
)

_THREADS_SQL = (
    "SELECT t.id, t.title, t.excerpt, t.category_id, t.tags, t.reply_count, t.reaction_count, "
    "t.view_count, t.highest_number AS post_count, t.pinned, t.pinned_globally, t.locked, "
    "t.created_at, t.bumped_at, t.author_id, a.username AS author_username, "
    "a.display_name AS author_display_name, t.last_poster_id, "
    "lp.display_name AS last_poster_display_name "
    "FROM forum_threads t JOIN members a ON a.id = t.author_id "
    "LEFT JOIN members lp ON lp.id = t.last_poster_id "
    "WHERE t.deleted_at IS NULL AND t.hidden = false {after}"
    "ORDER BY t.pinned_globally DESC, t.bumped_at DESC, t.id DESC LIMIT :limit"
)
_THREAD_TYPES = {"tags": sa.JSON(), "created_at": sa.DateTime(), "bumped_at": sa.DateTime()}
THREADS_FIRST = sa.text(_THREADS_SQL.format(after="")).columns(**_THREAD_TYPES)
THREADS_AFTER = (
    sa.text(
        _THREADS_SQL.format(
            after="AND (t.pinned_globally, t.bumped_at, t.id) < (:pinned, :bumped_at, :id) "
        )
    )
    .bindparams(sa.bindparam("bumped_at", type_=sa.DateTime()))
    .columns(**_THREAD_TYPES)
)
POSTS_QUERY = sa.text(
    "SELECT p.id, p.number, p.author_id, a.username AS author_username, "
    "a.display_name AS author_display_name, p.reply_to_id, "
    "CASE WHEN p.deleted_at IS NULL AND p.hidden_at IS NULL THEN p.html END AS html, "
    "p.version, p.reaction_count, p.created_at, p.edited_at "
    "FROM forum_posts p JOIN members a ON a.id = p.author_id "
    "WHERE p.thread_id = :thread_id AND p.number >= :from_number "
    "ORDER BY p.number LIMIT :limit"
)

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/members")
def members() -> dict[str, Any]:
    cursor = request.args.get("cursor", type=int) or NO_CURSOR
    with engine.connect() as conn:
        rows = conn.execute(PAGE_QUERY, {"cursor": cursor, "limit": PAGE}).mappings().all()
    items = [dict(row) for row in rows]
    next_cursor = str(items[-1]["id"]) if len(items) == PAGE else None
    return {"items": items, "next_cursor": next_cursor}


def _utc(value: datetime) -> datetime:
    """SQLite keeps UTC without an offset (as the app's ``UTCDateTime``); PostgreSQL keeps it."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@app.get("/forum/threads")
def forum_threads() -> dict[str, Any]:
    cursor = request.args.get("cursor")
    params: dict[str, Any] = {"limit": PAGE}
    query = THREADS_FIRST
    if cursor:
        pinned, bumped_at, last_id = cursor.split(",")
        bumped = _utc(datetime.fromisoformat(bumped_at))
        if engine.dialect.name == "sqlite":
            bumped = bumped.replace(tzinfo=None)
        params.update(pinned=pinned == "1", bumped_at=bumped, id=int(last_id))
        query = THREADS_AFTER
    with engine.connect() as conn:
        rows = conn.execute(query, params).mappings().all()
    items = [dict(row) for row in rows]
    next_cursor = None
    if len(items) == PAGE:
        last = items[-1]
        next_cursor = (
            f"{int(last['pinned_globally'])},{_utc(last['bumped_at']).isoformat()},{last['id']}"
        )
    return {"items": items, "next_cursor": next_cursor}


@app.get("/forum/threads/<int:thread_id>/posts")
def forum_posts(thread_id: int) -> dict[str, Any]:
    from_number = request.args.get("from_number", type=int) or 1
    params = {"thread_id": thread_id, "from_number": from_number, "limit": PAGE}
    with engine.connect() as conn:
        rows = conn.execute(POSTS_QUERY, params).mappings().all()
    items = [dict(row) for row in rows]
    next_from = items[-1]["number"] + 1 if len(items) == PAGE else None
    return {"items": items, "next_from_number": next_from}
