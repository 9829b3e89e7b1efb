"""search_fold: what was stored folded by OpenCC's tw2sp is folded again by the new fold (issue
#15: 程序 stays 程序, a Taiwan 程式設計師 folds to 程序员, 很多工作 stays whole)

Rewritten, in batches of ``BATCH`` rows by id:

- the forum's search documents (``search_documents`` of kind ``forum_post``), from their posts
  and threads exactly as ``server.forum.state.index_post`` writes them (the folded text alone
  cannot be folded again: tw2sp turned 程序 into 进程 and both are 进程 now). The SQLite FTS5
  table follows by its triggers, the PostgreSQL ``tsv`` column by being generated;
- the folded name and city keys of members and alliances, where they hold what the old fold
  made of the name or city (an erased member's empty key is not).

Folding is application code, and the index must be what the application writes: the upgrade
imports it, when there is something to rewrite. The downgrade folds with tw2sp again.

Revision ID: 0018_search_fold
Revises: 0017_chat_log_moderator_id
Create Date: 2026-12-01 14:45:00

"""

import unicodedata
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from alembic import op

revision = "0018_search_fold"
down_revision = "0017_chat_log_moderator_id"
branch_labels = None
depends_on = None

BATCH = 500
KIND = "forum_post"  # server.forum.state.SEARCH_KIND

documents = sa.table(
    "search_documents",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("ref_id", sa.Integer),
    sa.column("content", sa.Text),
    sa.column("tokens", sa.Text),
)
posts = sa.table(
    "forum_posts",
    sa.column("id", sa.Integer),
    sa.column("thread_id", sa.Integer),
    sa.column("number", sa.Integer),
    sa.column("body", sa.Text),
)
threads = sa.table("forum_threads", sa.column("id", sa.Integer), sa.column("title", sa.String))
members = sa.table(
    "members",
    sa.column("id", sa.Integer),
    sa.column("username", sa.String),
    sa.column("display_name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("city", sa.String),
    sa.column("city_key", sa.String),
)
alliances = sa.table(
    "alliances",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("city", sa.String),
    sa.column("city_key", sa.String),
)

Fold = Callable[[str], str]


def _tw2sp() -> Fold:
    """The fold before this revision: NFKC, OpenCC tw2sp, lower case."""
    import opencc

    converter = opencc.OpenCC("tw2sp")
    return lambda text: str(converter.convert(unicodedata.normalize("NFKC", text))).lower()


def _new() -> Fold:
    from server.common.folding import fold

    return fold


def _batches(select: sa.Select) -> Iterator[list[sa.Row]]:
    """The rows of ``select`` (its first column the table's id), ``BATCH`` at a time."""
    bind, last = op.get_bind(), 0
    id_column = select.selected_columns[0]
    while rows := bind.execute(
        select.where(id_column > last).order_by(id_column).limit(BATCH)
    ).all():
        yield rows
        last = rows[-1][0]


def _refold_documents(fold: Fold | None) -> None:
    """Each forum document again from its post: with the application's ``document_fields``
    (``fold`` None), or with ``fold`` and the application's tokens."""
    from server.common import search
    from server.common.text import plain_text

    def fields(title: str, body: str) -> tuple[str, str]:
        if fold is None:
            return search.document_fields(title, body)
        folded = fold(f"{title}\n{body}" if title else body)
        return " ".join(folded.split()), " ".join(search.folded_tokens(folded))

    select = (
        sa.select(
            documents.c.id,
            documents.c.content,
            documents.c.tokens,
            posts.c.number,
            posts.c.body,
            threads.c.title,
        )
        .join(posts, posts.c.id == documents.c.ref_id)
        .join(threads, threads.c.id == posts.c.thread_id)
        .where(documents.c.kind == KIND)
    )
    update = (
        documents.update()
        .where(documents.c.id == sa.bindparam("b_id"))
        .values(content=sa.bindparam("b_content"), tokens=sa.bindparam("b_tokens"))
    )
    for rows in _batches(select):
        changed = []
        for id_, content, tokens, number, body, title in rows:
            new = fields(title if number == 1 else "", plain_text(body))
            if new != (content, tokens):
                changed.append({"b_id": id_, "b_content": new[0], "b_tokens": new[1]})
        if changed:
            op.get_bind().execute(update, changed)


# Each key, its column's length, and how the application makes it from its row (members:
# server.members.service.name_key and the profile update; alliances: server/alliances/service.py).
KEYS: list[tuple[sa.TableClause, str, int, Callable[[sa.Row, Fold], str | None]]] = [
    (members, "name_key", 200, lambda row, fold: f"{fold(row.display_name)} {row.username}"),
    (members, "city_key", 50, lambda row, fold: fold(row.city) if row.city else None),
    (alliances, "name_key", 200, lambda row, fold: fold(row.name)),
    (alliances, "city_key", 50, lambda row, fold: fold(row.city) if row.city else None),
]


def _refold_keys(old: Fold, new: Fold) -> None:
    """The name and city keys that ``old`` made, as ``new`` makes them; a key that is not what
    ``old`` made of its row (an erased member's empty one) is left alone, and so is one the
    new fold would make longer than its column."""
    for table, key, length, make in KEYS:
        update = (
            table.update()
            .where(table.c.id == sa.bindparam("b_id"))
            .values({key: sa.bindparam("b_key")})
        )
        select = sa.select(table).where(table.c[key].is_not(None), table.c[key] != "")
        for rows in _batches(select):
            changed = []
            for row in rows:
                stored = row._mapping[key]
                if stored != make(row, old):
                    continue
                value = make(row, new)
                if value is not None and value != stored and len(value) <= length:
                    changed.append({"b_id": row.id, "b_key": value})
            if changed:
                op.get_bind().execute(update, changed)


def _anything_to_do() -> bool:
    bind = op.get_bind()
    return any(
        bind.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
        for table in (documents, members, alliances)
    )


def upgrade():
    if not _anything_to_do():
        return
    _refold_documents(None)
    _refold_keys(_tw2sp(), _new())


def downgrade():
    if not _anything_to_do():
        return
    _refold_documents(_tw2sp())
    _refold_keys(_new(), _tw2sp())
