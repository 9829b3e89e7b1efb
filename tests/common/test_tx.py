"""insert_ignore() says whether it added a row, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from server.common.time import utcnow
from server.common.tx import insert_ignore
from server.notifications.models import Device


def test_insert_ignore_tells_a_new_row_from_a_conflict_with_an_autoincrement_key(app, make_member):
    """PostgreSQL adds RETURNING for the new id, and psycopg then reports rowcount -1."""
    member = make_member()
    with app.app_context():
        now = utcnow()
        device = {"member_id": member.id, "token": "tx-phone-1", "platform": "android",
                  "created_at": now, "last_seen_at": now}  # fmt: skip
        assert insert_ignore(Device, device) is True
        assert insert_ignore(Device, device) is False
