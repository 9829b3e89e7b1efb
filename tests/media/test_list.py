"""``GET /api/v1/media``, the caller's uploads, built by the list rule: one select of plain rows,
pages by cursor, the same number of queries for 3 uploads or 40, and the compiled serialiser
answers what ``MediaSchema`` answers (``server/common/rows.py``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.common.time import utcnow
from server.extensions import db
from server.media import service
from server.media.models import Media
from server.media.schemas import MediaSchema
from tests.rows import same_as_marshmallow, signed_in


def _insert(owner_id: int, count: int, start: int = 0) -> None:
    """``count`` uploads' rows (their files do not matter to a list)."""
    now = utcnow()
    rows = [
        {
            "owner_id": owner_id,
            "digest": f"{owner_id:08x}{start + i:024x}",
            "kind": "image",
            "source_format": "jpeg",
            "format": "webp",
            "animated": i % 5 == 0,
            "display_width": 1080,
            "display_height": 1440,
            "thumb_width": 320,
            "thumb_height": 427,
            "blurhash": "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
            "color": "#a1b2c3",
            "size": 1000 + i,
            "purpose": "forum.post" if i % 3 == 0 else None,
            "subject_id": i if i % 3 == 0 else None,
            "created_at": now - timedelta(minutes=count - i),
        }
        for i in range(count)
    ]
    db.session.execute(sa.insert(Media), rows)


def test_my_uploads_page_by_cursor(app, media, make_member):
    me, other = make_member(), make_member()
    with app.app_context():
        _insert(me.id, 5)
        _insert(other.id, 2, start=100)
        db.session.commit()
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = media.call(me, "GET", "/api/v1/media", 200, query_string=query)
        seen.append([item["id"] for item in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [i for page in seen for i in page]
    assert [len(page) for page in seen] == [2, 2, 1] and ids == sorted(ids, reverse=True)
    attached = media.call(me, "GET", "/api/v1/media", 200, query_string={"attached": "true"})
    assert {item["purpose"] for item in attached["items"]} == {"forum.post"}
    assert len(attached["items"]) == 2  # uploads 0 and 3 of 5


@pytest.mark.parametrize("count", [3, 40])
def test_a_page_costs_the_same_queries_whatever_its_size(app, client, auth_headers, make_member,
                                                         count_queries, count):  # fmt: skip
    me = make_member()
    with app.app_context():
        _insert(me.id, count)
        db.session.commit()
    headers = auth_headers(me)
    with count_queries() as queries:
        r = client.get("/api/v1/media?limit=100", headers=headers)
    assert r.status_code == 200 and len(r.get_json()["items"]) == count
    assert queries.count == 2, queries.statements  # the session (with the member), the page


def test_the_compiled_list_answers_what_the_schema_answers(app, auth_headers, media,
                                                           make_member):  # fmt: skip
    me = make_member()
    with app.app_context():
        _insert(me.id, 7)
        db.session.commit()
    for lang in ("zh-Hant", "en"):
        with signed_in(app, auth_headers, me, lang) as caller:
            fast = same_as_marshmallow(
                MediaSchema,
                service.list_media(caller, limit=100, cursor=None),
                lambda _items: list(
                    db.session.execute(
                        sa.select(Media).where(Media.owner_id == me.id).order_by(Media.id.desc())
                    ).scalars()
                ),
            )
            assert len(fast) == 7
            assert fast[0]["display"]["url"].startswith("http://localhost/media/")
