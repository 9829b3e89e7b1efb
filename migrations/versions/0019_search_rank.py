"""search_rank: search documents carry their recency and the length of their title, so that
results rank by relevance × recency alike on both databases (issue #15)

- ``recency`` (``server.common.search.recency``: ``2 ** (days since 2020 / half-life)``) of the
  post's ``created_at`` for the forum's documents, of ``updated_at`` for any other kind;
- ``title_chars``: how much of the folded content is the title (a thread's first post), from
  the application's ``title_chars``, as ``index_document`` writes it;
- on SQLite the trigger that rewrites the FTS5 index on an update fires only when ``tokens``
  change, so that writing these columns (here, and on every edit) leaves the index alone.

Written in batches of ``BATCH`` rows by id. The downgrade drops the columns (SQLite ≥ 3.35).

Revision ID: 0019_search_rank
Revises: 0018_search_fold
Create Date: 2026-12-01 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019_search_rank"
down_revision = "0018_search_fold"
branch_labels = None
depends_on = None

BATCH = 2000
KIND = "forum_post"  # server.forum.state.SEARCH_KIND

documents = sa.table(
    "search_documents",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("ref_id", sa.Integer),
    sa.column("content", sa.Text),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("recency", sa.Float),
    sa.column("title_chars", sa.Integer),
)
posts = sa.table(
    "forum_posts",
    sa.column("id", sa.Integer),
    sa.column("thread_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
threads = sa.table("forum_threads", sa.column("id", sa.Integer), sa.column("title", sa.String))

UPDATE_TRIGGER = (
    "CREATE TRIGGER search_documents_au AFTER UPDATE {of}ON search_documents BEGIN "
    "INSERT INTO search_documents_fts(search_documents_fts, rowid, tokens) "
    "VALUES ('delete', old.id, old.tokens); "
    "INSERT INTO search_documents_fts(rowid, tokens) VALUES (new.id, new.tokens); END"
)


def _backfill() -> None:
    from datetime import UTC

    from server.common.search import recency, title_chars

    bind = op.get_bind()
    select = (
        sa.select(
            documents.c.id,
            documents.c.kind,
            documents.c.content,
            documents.c.updated_at,
            posts.c.number,
            posts.c.created_at,
            threads.c.title,
        )
        .outerjoin(posts, sa.and_(documents.c.kind == KIND, posts.c.id == documents.c.ref_id))
        .outerjoin(threads, threads.c.id == posts.c.thread_id)
    )
    update = (
        documents.update()
        .where(documents.c.id == sa.bindparam("b_id"))
        .values(recency=sa.bindparam("b_recency"), title_chars=sa.bindparam("b_title"))
    )
    last = 0
    while rows := bind.execute(
        select.where(documents.c.id > last).order_by(documents.c.id).limit(BATCH)
    ).all():
        values = []
        for id_, _kind, content, updated_at, number, created_at, title in rows:
            when = created_at or updated_at
            when = when if when.tzinfo else when.replace(tzinfo=UTC)  # SQLite keeps no offset
            in_title = title_chars(title, content) if number == 1 and title else 0
            values.append({"b_id": id_, "b_recency": recency(when), "b_title": in_title})
        bind.execute(update, values)
        last = rows[-1][0]


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS search_documents_au")
        op.execute(UPDATE_TRIGGER.format(of="OF tokens "))
    op.add_column(
        "search_documents",
        sa.Column("recency", sa.Float(), nullable=False, server_default="1.0"),
    )
    op.add_column(
        "search_documents",
        sa.Column("title_chars", sa.Integer(), nullable=False, server_default="0"),
    )
    _backfill()


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column in ("title_chars", "recency"):
        op.execute(f"ALTER TABLE search_documents DROP COLUMN {column}")
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS search_documents_au")
        op.execute(UPDATE_TRIGGER.format(of=""))
