"""Inbox entries and pushes that must not outlive what they quote.

An entry quotes its content in ``data`` (``excerpt``, a thread's ``title``…), and a push shows
that text on phones. When a feature hides, deletes or erases content it calls ``forget()``
inside its own transaction, naming the entries that quote it by kind, subject and the id in
their data (or by actor, for an erased account). Then:

- the quoted keys of those entries are emptied (``""``: every value keeps its type, for apps
  that decode ``data``) and listed in ``data["gone"]``; rendering says "(no longer available)"
  there in the reader's language (``kinds.GONE``), so the entry still says what happened and
  where (``delete=True`` removes the entries instead: an erased account's mentions and messages
  in others' inboxes);
- pushes not yet sent are not sent;
- pushes already shown — or being sent right now — are withdrawn from the phones, with the
  same withdraw message reading sends. A deleted entry's withdraw keeps what the phone needs in
  ``PushDelivery.detached``, so it is delivered after the entry is gone.

Entries collapse per subject and their ``data`` always quotes the latest event (with the
latest actor), so one entry quotes at most one piece of content at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, cast

import sqlalchemy as sa

from server.common.tx import on_commit
from server.extensions import db
from server.notifications.delivery import start_delivery
from server.notifications.kinds import GONE
from server.notifications.models import Notification, PushDelivery
from server.notifications.pushes import withdrawals

__all__ = ["GONE", "forget"]


def forget(
    kinds: Collection[str],
    *,
    subjects: Collection[str] = (),
    subject_prefixes: Collection[str] = (),
    quoting: Mapping[str, int] | None = None,
    actor_id: int | None = None,
    keys: Collection[str] = ("excerpt",),
    delete: bool = False,
) -> int:
    """Entries of ``kinds`` that quote content which is gone stop quoting it (their ``keys``
    are blanked, or with ``delete`` the entries go), and their pushes are withdrawn.

    Entries are chosen by ``subjects`` and ``subject_prefixes`` (``"forum.thread:7:"``), by
    ``quoting`` (data key → id of the content, as ``{"post_id": 5}``) and by ``actor_id``; all
    that are given must hold. Call inside the acting transaction; returns how many entries.
    """
    where: list[sa.ColumnElement[bool]] = [Notification.kind.in_(list(kinds))]
    by_subject: list[sa.ColumnElement[bool]] = (
        [Notification.subject.in_(list(subjects))] if subjects else []
    )
    by_subject += [_starting_with(Notification.subject, prefix) for prefix in subject_prefixes]
    if by_subject:
        where.append(sa.or_(*by_subject))
    for key, value in (quoting or {}).items():
        where.append(Notification.data[key].as_integer() == value)
    if actor_id is not None:
        where.append(Notification.actor_id == actor_id)
    if len(where) == 1:
        raise ValueError("forget() needs subjects, quoting or an actor: not every entry")

    entries = db.session.execute(
        sa.select(
            Notification.id,
            Notification.kind,
            Notification.subject,
            Notification.data,
            Notification.read_at,
        )
        .where(*where)
        # A repeat being written now either waits or no longer quotes it. Locked in id order,
        # as notify() locks what it updates: two forgets, or a forget and a notify, on the same
        # entries queue up instead of deadlocking.
        .order_by(Notification.id)
        .with_for_update()
    ).all()
    if not delete:  # forgotten already (hidden, then deleted): nothing left to do
        entries = [e for e in entries if any(_quotes(e.data, k) for k in keys)]
    if not entries:
        return 0
    ids = [e.id for e in entries]
    # A read entry's pushes were withdrawn when it was read.
    withdraw = withdrawals([e.id for e in entries if e.read_at is None], detached=delete)
    if delete:
        # The entry goes (its waiting pushes with it); the withdraw keeps what the phone needs.
        about = {
            e.id: {"kind": e.kind, "subject": e.subject, "notification_id": e.id} for e in entries
        }
        for row in withdraw:
            row["detached"] = about[row.pop("notification_id")]
            row["notification_id"] = None
        db.session.execute(
            sa.delete(Notification)
            .where(Notification.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    else:
        table = cast(sa.Table, Notification.__table__)  # a plain executemany, one new data each
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("entry_id"))
            .values(data=sa.bindparam("new_data", type_=table.c.data.type)),
            [{"entry_id": e.id, "new_data": _blanked(e.data, keys)} for e in entries],
        )
        # Not sent yet: never sent (a send in flight is withdrawn after it, below).
        db.session.execute(
            sa.update(PushDelivery)
            .where(
                PushDelivery.notification_id.in_(ids),
                PushDelivery.purpose == "show",
                PushDelivery.status == "pending",
                PushDelivery.lease.is_(None),
            )
            .values(status="skipped", last_error="forgotten")
            .execution_options(synchronize_session=False)
        )
    if withdraw:
        db.session.execute(sa.insert(PushDelivery), withdraw)
        on_commit(start_delivery)
    return len(entries)


def _starting_with(
    column: sa.ColumnElement[str] | sa.orm.QueryableAttribute[str], prefix: str
) -> sa.ColumnElement[bool]:
    """``column`` starts with ``prefix``: a range of strings in code-point order, which the
    subject index serves on both databases.

    Not LIKE: SQLite's ignores case and so no index serves it, PostgreSQL's is served only when
    planned for the pattern's value (not in a prepared statement's generic plan). Nor plain
    ``>=``/``<`` on PostgreSQL: under the database's collation (glibc, ICU) "forum.thread:7:1"
    need not sort between "forum.thread:7:" and "forum.thread:7;" — entries would be missed.
    Its ``~>=~``/``~<~`` compare bytes as SQLite's BINARY does, and the index's
    ``varchar_pattern_ops`` serve them (migration 0012)."""
    if not prefix:
        raise ValueError("an empty prefix is every entry")
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # the first string past every "prefix…"
    if db.session.get_bind().dialect.name == "postgresql":
        at_least, below = (column.op(op, is_comparison=True) for op in ("~>=~", "~<~"))
        return sa.and_(at_least(prefix), below(end))
    return sa.and_(column >= prefix, column < end)


def _quotes(data: Mapping[str, Any] | None, key: str) -> bool:
    return (data or {}).get(key) not in (None, "")


def _blanked(data: Mapping[str, Any] | None, keys: Collection[str]) -> dict[str, Any]:
    """``data`` without the quoted ``keys``: emptied (same type), and named in ``gone``."""
    data = dict(data or {})
    gone = [k for k in keys if _quotes(data, k)]
    blanked = {k: ("" if k in gone else v) for k, v in data.items()}
    blanked["gone"] = sorted({*data.get("gone", ()), *gone})
    return blanked
