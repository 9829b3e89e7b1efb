"""The ceiling: the least a Flask + SQLAlchemy app can do to serve a page of the directory.

One endpoint, ``GET /members?cursor=<id>``, reads 20 rows of the real ``members`` table by keyset
(``WHERE id < :cursor ORDER BY id DESC LIMIT 20``) with SQLAlchemy Core and returns them as JSON
with Flask's default JSON provider. No authentication, no schema, no middleware, no ETag, no
metrics, no logging. ``GET /healthz`` answers without touching the database.

Served by ``bench/api_bench.py`` with exactly the gunicorn settings of the real app::

    DATABASE_URL=... gunicorn -w 2 bench.ceiling_app:app
"""

from __future__ import annotations

import os
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
