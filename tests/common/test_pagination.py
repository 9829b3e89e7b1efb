"""The keyset pagination helper: every row once, in order, whatever the sort keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from server.common.pagination import SortKey, keyset_page
from server.extensions import db
from server.members.models import Member

SAME_TIME = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "keys",
    [
        lambda: [SortKey(Member.id)],
        lambda: [SortKey(Member.created_at), SortKey(Member.id)],  # ties on time
        lambda: [SortKey(Member.display_name, descending=False), SortKey(Member.id)],  # mixed
        lambda: [
            SortKey(Member.created_at, descending=False),
            SortKey(Member.id, descending=False),
        ],
    ],
)
def test_every_row_once_in_order(app, make_member, keys):
    names = ["丙", "甲", "乙", "甲", "丁", "乙", "甲"]
    for i, name in enumerate(names):
        make_member(display_name=name, created_at=SAME_TIME if i % 2 else datetime.now(UTC))
    with app.app_context():
        order = keys()
        expected = [
            m.id
            for m in db.session.execute(
                sa.select(Member).order_by(
                    *(k.column.desc() if k.descending else k.column.asc() for k in order)
                )
            ).scalars()
        ]
        seen, cursor = [], None
        while True:
            page = keyset_page(sa.select(Member), order, name="t", limit=2, cursor=cursor)
            seen += [m.id for m in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == expected and len(seen) == len(names)
