"""The devices that receive a member's pushes: registration, the cap, and which are live.

Apps register their push token on every start, so ``last_seen_at`` says when a device was
last in use. A member keeps at most ``PUSH_DEVICES_PER_MEMBER`` devices (one more forgets the
least recently seen, as sessions do), and only devices seen within ``PUSH_DEVICE_LIVE_DAYS``
get pushes. Registrations of one member are serialised, so concurrent ones keep the cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from server.common.time import utcnow
from server.common.tx import changed, commit, insert_ignore
from server.errors import NotFound, register_messages
from server.extensions import db
from server.members.models import Member
from server.notifications.models import Device, PushDelivery

register_messages(
    {
        "device_not_found": {
            "zh-Hans": "找不到该设备。",
            "zh-Hant": "找不到該裝置。",
            "en": "No such device.",
        },
    }
)


def live_since(now: datetime) -> datetime:
    """Devices not seen (registered: apps re-register on start) since then get no pushes."""
    return now - timedelta(days=current_app.config["PUSH_DEVICE_LIVE_DAYS"])


def _lock_member(member_id: int) -> None:
    """Serialise one member's device registrations: PostgreSQL locks the member's row; SQLite
    takes its write lock now (a no-op write), before anything is read."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Member.id).where(Member.id == member_id).with_for_update())
    else:
        # updated_at named so that its onupdate does not fire: nothing about the member changes
        db.session.execute(
            sa.update(Member).where(Member.id == member_id).values(updated_at=Member.updated_at)
        )


def register_device(member: Member, data: Mapping[str, Any]) -> Device:
    """Register or refresh a push token (apps do on every start); a token seen on another
    account moves here. Past ``PUSH_DEVICES_PER_MEMBER`` the least recently seen goes."""
    _lock_member(member.id)
    now = utcnow()
    fields = {
        "platform": data["platform"],
        "app_version": data.get("app_version"),
        "locale": data.get("locale"),
        "last_seen_at": now,
    }
    # Two members may race for one token (a phone changing hands): one insert wins.
    if not insert_ignore(
        Device, {"token": data["token"], "member_id": member.id, "created_at": now, **fields}
    ):
        device = db.session.execute(
            sa.select(Device).where(Device.token == data["token"]).with_for_update()
        ).scalar_one()
        if device.member_id != member.id:
            # The phone changed hands (or accounts): nothing queued for the old owner follows.
            db.session.execute(sa.delete(PushDelivery).where(PushDelivery.device_id == device.id))
            device.member_id, device.created_at = member.id, now
        for name, value in fields.items():
            setattr(device, name, value)
        db.session.flush()
    _cap_devices(member.id)
    device = db.session.execute(
        sa.select(Device)
        .where(Device.token == data["token"])
        .execution_options(populate_existing=True)
    ).scalar_one()
    commit()
    return device


def _cap_devices(member_id: int) -> None:
    """Keep ``PUSH_DEVICES_PER_MEMBER`` devices: the least recently seen ones go (with their
    queue), as the least recently used sessions do."""
    cap = max(1, current_app.config["PUSH_DEVICES_PER_MEMBER"])  # the one just registered
    beyond = (
        sa.select(Device.id)
        .where(Device.member_id == member_id)
        .order_by(Device.last_seen_at.desc(), Device.id.desc())
        .offset(cap)
        .scalar_subquery()
    )
    db.session.execute(
        sa.delete(Device).where(Device.id.in_(beyond)).execution_options(synchronize_session=False)
    )


def unregister_device(member: Member, token: str) -> None:
    """Forget one of the member's own devices (sign-out on the phone)."""
    if "\x00" in token:  # PostgreSQL cannot compare it; no token holds one
        raise NotFound("device_not_found")
    deleted = changed(sa.delete(Device).where(Device.token == token, Device.member_id == member.id))
    if not deleted:
        raise NotFound("device_not_found")
    commit()


def list_devices(member: Member) -> list[Device]:
    """The member's devices, oldest registration first: at most ``PUSH_DEVICES_PER_MEMBER``
    (``register_device`` forgets the least recently registered past it), so never paged."""
    return list(
        db.session.execute(
            sa.select(Device).where(Device.member_id == member.id).order_by(Device.id)
        ).scalars()
    )
