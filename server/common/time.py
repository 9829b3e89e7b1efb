"""Times are stored in UTC and shown in the caller's time zone (default Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, g, has_request_context

_ZONES: dict[str, ZoneInfo] = {}


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone(name: str) -> ZoneInfo:
    tz = _ZONES.get(name)
    if tz is None:
        tz = _ZONES[name] = ZoneInfo(name)
    return tz


def is_time_zone(name: str) -> bool:
    if name not in available_timezones():
        return False
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class UTCDateTime(sa.TypeDecorator[datetime]):
    """An aware UTC datetime on every database: SQLite keeps no offset, so we add it back."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use server.common.time.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def display_zone() -> ZoneInfo:
    """The zone of the member making the request, else the configured default."""
    name = None
    if has_request_context():
        name = g.get("member_time_zone")
    return zone(name or current_app.config["DEFAULT_TIME_ZONE"])


def local_iso(value: datetime) -> str:
    """The one way a time leaves the server (API answers, events, the export): ISO 8601 in
    the caller's time zone with its offset, to the second: ``2026-11-26T15:04:05+08:00``."""
    return value.astimezone(display_zone()).isoformat(timespec="seconds")


class LocalDateTime(ma.fields.DateTime):
    """ISO 8601 with the offset of the caller's time zone, e.g. ``2026-11-26T15:04:05+08:00``."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is None:
            return None
        return local_iso(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=display_zone())
        return parsed.astimezone(UTC)
