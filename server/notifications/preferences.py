"""What each member chose to be told, per kind and channel (in the inbox, by push), and their
quiet hours; a kind nobody chose for follows its default (in the inbox, and ``push_default``).

``notify`` asks ``wanted`` when it writes; delivery asks ``push_wanted`` again just before
sending, so a kind muted meanwhile is not pushed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from server.common.tx import commit, insert_ignore
from server.extensions import db
from server.members.models import Member
from server.notifications.kinds import KINDS, get_kind
from server.notifications.models import NotificationPreference, QuietHours


def wanted(member_ids: list[int], kind: str) -> dict[int, tuple[bool, bool]]:
    """(in_app, push) per member for ``kind``: their choice, else the kind's default."""
    default = (True, get_kind(kind).push_default)
    chosen = {
        m: (i, p)
        for m, i, p in db.session.execute(
            sa.select(
                NotificationPreference.member_id,
                NotificationPreference.in_app,
                NotificationPreference.push,
            ).where(
                NotificationPreference.kind == kind,
                NotificationPreference.member_id.in_(member_ids),
            )
        )
    }
    return {m: chosen.get(m, default) for m in member_ids}


def push_wanted(pairs: set[tuple[int, str]]) -> dict[tuple[int, str], bool]:
    """Whether each (member, kind) is still to be pushed: their choice, else the kind's default
    (no push for a kind no longer registered)."""
    members = {m for m, _k in pairs}
    chosen = {
        (m, k): p
        for m, k, p in db.session.execute(
            sa.select(
                NotificationPreference.member_id,
                NotificationPreference.kind,
                NotificationPreference.push,
            ).where(NotificationPreference.member_id.in_(members))
        )
    }
    return {
        (m, k): chosen.get((m, k), KINDS[k].push_default if k in KINDS else False) for m, k in pairs
    }


def get_preferences(member: Member) -> dict[str, Any]:
    """The member's choice for every kind (or its default), and their quiet hours."""
    chosen = {
        p.kind: p
        for p in db.session.execute(
            sa.select(NotificationPreference).where(NotificationPreference.member_id == member.id)
        ).scalars()
    }
    quiet = db.session.get(QuietHours, member.id)
    return {
        "kinds": [
            {
                "kind": name,
                "label": kind.label,
                "in_app": chosen[name].in_app if name in chosen else True,
                "push": chosen[name].push if name in chosen else kind.push_default,
            }
            for name, kind in sorted(KINDS.items())
        ],
        "quiet_hours": {"start": quiet.start, "end": quiet.end} if quiet else None,
    }


def update_preferences(member: Member, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change choices per kind and channel, and quiet hours (``None`` turns them off)."""
    # Two devices may save at once: each row is made with INSERT … ON CONFLICT DO NOTHING, then
    # changed, so the second never trips over the first's new row.
    for item in changes.get("kinds", []):
        kind = get_kind(item["kind"])
        default = {"member_id": member.id, "kind": kind.name, "in_app": True,
                   "push": kind.push_default}  # fmt: skip
        insert_ignore(NotificationPreference, default)
        chosen = {k: item[k] for k in ("in_app", "push") if k in item}
        if chosen:
            db.session.execute(
                sa.update(NotificationPreference)
                .where(
                    NotificationPreference.member_id == member.id,
                    NotificationPreference.kind == kind.name,
                )
                .values(**chosen)
                .execution_options(synchronize_session=False)
            )
    if "quiet_hours" in changes:
        hours = changes["quiet_hours"]
        if hours is None:
            db.session.execute(sa.delete(QuietHours).where(QuietHours.member_id == member.id))
        elif not insert_ignore(QuietHours, {"member_id": member.id, **hours}):
            db.session.execute(
                sa.update(QuietHours)
                .where(QuietHours.member_id == member.id)
                .values(start=hours["start"], end=hours["end"])
                .execution_options(synchronize_session=False)
            )
    commit()
    db.session.expire_all()  # what get_preferences() reads next is what was written
    return get_preferences(member)
