"""Bulk factories for tests (and benchmarks) that need thousands of rows quickly."""

from __future__ import annotations

import sqlalchemy as sa

from server.common.time import utcnow
from server.extensions import db
from server.members.models import Member
from server.notifications.models import Device


def insert_members(count: int, prefix: str = "bulk") -> list[int]:
    """``count`` members in one statement (no password: they never sign in); their ids."""
    rows = member_rows(count, prefix)
    return list(db.session.execute(sa.insert(Member).returning(Member.id), rows).scalars())


def member_rows(count: int, prefix: str = "bulk") -> list[dict[str, object]]:
    now = utcnow()
    return [
        {
            "email": f"{prefix}{i}@example.com",
            "username": f"{prefix}{i}",
            "display_name": f"成员{i}",
            "name_key": "",
            "bio": "",
            "locale": ("zh-Hans", "zh-Hant", "en")[i % 3],
            "time_zone": "Asia/Shanghai",
            "profile_visibility": "members",
            "role": "member",
            "occupation_tags": [],
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]


def insert_devices(member_ids: list[int], prefix: str = "bulk-token") -> None:
    """One Android device per member, token ``{prefix}-{member id}``."""
    db.session.execute(
        sa.insert(Device),
        [{"member_id": m, "token": f"{prefix}-{m}", "platform": "android"} for m in member_ids],
    )
