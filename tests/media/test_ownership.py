"""A picture belongs to its uploader: only they read, delete or attach it; a feature attaches
it to one thing; what nobody attached is swept after a day; the day's quota holds; the export
lists it with its URLs and erasure takes its files (issue #16).

Attaching is the API other features call (``server.media.attachments``), exercised here as
they will: inside a transaction of the app, by the member whose request it is."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from server.common.time import utcnow
from server.common.tx import commit
from server.errors import DomainError
from server.extensions import db
from server.media import attachments, sweep
from server.media.models import Media
from server.members.models import Member
from tests.conftest import PASSWORD
from tests.media import pictures


@contextmanager
def acting(app: Flask, member: Any) -> Iterator[Member]:
    """A feature's transaction on behalf of ``member`` (committed with the house's commit,
    which runs what waits for it: the files' purge)."""
    with app.test_request_context("/api/v1/"):
        yield db.session.get(Member, member.id)
        commit()


def _refused(code: str, fn: Any, *args: Any) -> None:
    with pytest.raises(DomainError) as refused:
        fn(*args)
    assert refused.value.code == code
    db.session.rollback()


def test_another_member_can_neither_see_nor_attach_my_upload(app, media, store, make_member):
    me, other = make_member(), make_member()
    mine = media.upload(me, pictures.small_png())
    for method in ("GET", "DELETE"):
        body = media.call(other, method, f"/api/v1/media/{mine['id']}", 404,
                          headers={"Accept-Language": "en"})  # fmt: skip
        assert (body["code"], body["message"]) == ("media_not_found", "No such upload of yours.")
    assert media.call(other, "GET", "/api/v1/media", 200)["items"] == []
    with acting(app, other) as them:
        _refused("media_not_found", attachments.claim, them, mine["id"], "member.avatar", other.id)
        _refused("media_not_found", attachments.claim_all, them, [mine["id"]], "forum.post", 1)
    assert media.call(me, "GET", f"/api/v1/media/{mine['id']}", 200)["attached"] is False
    assert len(store.keys()) == 2


def test_an_upload_is_attached_to_one_thing_and_released_with_it(app, media, store, make_member):
    me = make_member()
    avatar = media.upload(me, pictures.small_png(colour=(0, 128, 0)))
    with acting(app, me) as member:
        attachments.claim(member, avatar["id"], "member.avatar", me.id)
    with acting(app, me) as member:
        same = attachments.claim(member, avatar["id"], "member.avatar", me.id)  # no change
        assert same.purpose == "member.avatar"
        _refused("media_in_use", attachments.claim, member, avatar["id"], "alliance.avatar", 7)
    shown = media.call(me, "GET", f"/api/v1/media/{avatar['id']}", 200)
    assert (shown["attached"], shown["purpose"]) == (True, "member.avatar")
    body = media.call(me, "DELETE", f"/api/v1/media/{avatar['id']}", 409)
    assert body["code"] == "media_in_use"
    assert media.call(me, "GET", "/api/v1/media", 200, query_string={"attached": "false"}) == {
        "items": [], "next_cursor": None}  # fmt: skip

    # a new avatar: the old one is released, and its files go once that commits
    newer = media.upload(me, pictures.small_png(colour=(0, 0, 128)))
    with acting(app, me) as member:
        attachments.claim(member, newer["id"], "member.avatar", me.id)
        assert attachments.release("member.avatar", me.id, keep=[newer["id"]]) == 1
    media.call(me, "GET", f"/api/v1/media/{avatar['id']}", 404)
    assert len(store.keys()) == 2 and all(k.split("-")[0] in newer["display"]["url"]
                                          for k in store.keys())  # fmt: skip


def test_a_posts_pictures_follow_its_edits(app, media, store, make_member):
    me = make_member()
    one, two, three = (media.upload(me, pictures.small_png(colour=(i, 0, 0)))["id"]
                       for i in (10, 20, 30))  # fmt: skip
    with acting(app, me) as member:
        held = attachments.claim_all(member, [two, one], "forum.post", 42)
        assert [m.id for m in held] == [two, one]
    with acting(app, me) as member:  # edited: one stays, three comes, two goes
        attachments.claim_all(member, [three, one], "forum.post", 42)
    kept = media.call(me, "GET", "/api/v1/media", 200, query_string={"attached": "true"})
    assert [item["id"] for item in kept["items"]] == [three, one]
    assert len(store.keys()) == 4
    text = f"看图 ![第一张](media:{one}) 和 ![](media:{three}) 还有 ![](media:{one})"
    assert attachments.referenced_ids(text) == [one, three]
    with app.test_request_context("/api/v1/"):
        assert set(attachments.images([one, three, 99999])) == {one, three}


def test_the_same_picture_twice_shares_its_files_until_both_are_gone(media, store, make_member):
    me = make_member()
    photo = pictures.small_png(colour=(1, 2, 3))
    first, second = media.upload(me, photo), media.upload(me, photo)
    assert first["id"] != second["id"] and first["display"] == second["display"]
    media.call(me, "DELETE", f"/api/v1/media/{first['id']}", 204)
    assert len(store.keys()) == 2  # the second still names them
    media.call(me, "DELETE", f"/api/v1/media/{second['id']}", 204)
    assert store.keys() == []
    # another member's copy of the same bytes has names of its own
    other = media.upload(make_member(), photo)
    assert other["display"]["url"] != first["display"]["url"]


def test_unattached_uploads_are_swept_after_a_day(app, media, store, make_member):
    me = make_member()
    stale, used, fresh = (media.upload(me, pictures.small_png(colour=(0, i, 0)))["id"]
                          for i in (40, 50, 60))  # fmt: skip
    with acting(app, me) as member:
        attachments.claim(member, used, "member.avatar", me.id)
    with app.app_context():
        db.session.execute(
            sa.update(Media)
            .where(Media.id.in_([stale, used]))
            .values(created_at=utcnow() - timedelta(hours=25))
        )
        db.session.commit()
        assert sweep.sweep_unattached() == 1
    media.call(me, "GET", f"/api/v1/media/{stale}", 404)
    for kept in (used, fresh):
        media.call(me, "GET", f"/api/v1/media/{kept}", 200)
    assert len(store.keys()) == 4


def test_the_days_quota_counts_what_was_stored(app, media, store, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "MEDIA_DAILY_UPLOADS", 2)
    me = make_member()
    first = media.upload(me, pictures.small_png(colour=(9, 9, 9)))
    media.upload(me, pictures.small_png(colour=(8, 8, 8)))
    media.call(me, "DELETE", f"/api/v1/media/{first['id']}", 204)  # no place given back
    r = media.client.post("/api/v1/media", headers=media.auth_headers(me),
                          data={"file": (io.BytesIO(pictures.small_png()), "x.png")})  # fmt: skip
    assert r.status_code == 429 and r.get_json()["code"] == "media_quota_exceeded"
    assert 1 <= int(r.headers["Retry-After"]) <= 86400
    assert len(store.keys()) == 2
    media.upload(make_member(), pictures.small_png(colour=(7, 7, 7)))  # others have their own


def test_the_export_lists_uploads_and_erasure_takes_their_files(app, media, store, make_member):
    me = make_member()
    up = media.upload(me, pictures.photo_with_gps(upright=(300, 400)))
    with acting(app, me) as member:
        attachments.claim(member, up["id"], "member.avatar", me.id)
    export = media.call(me, "GET", "/api/v1/me/export", 200)["sections"]["media"]
    (item,) = export["uploads"]
    assert (item["id"], item["purpose"], item["display_url"], item["thumb_url"]) == (
        up["id"], "member.avatar", up["display"]["url"], up["thumb"]["url"])  # fmt: skip
    assert export["daily_uploads"][0]["uploads"] == 1
    media.call(me, "DELETE", "/api/v1/me", 204, json={"password": PASSWORD})
    assert store.keys() == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Media)) == 0
