"""The inbox, preferences, devices and announcements over HTTP."""

from __future__ import annotations

import sqlalchemy as sa

from server.common.tx import commit
from server.extensions import db
from server.notifications import service
from server.notifications.models import Device
from tests.notifications.helpers import DATA  # registers the test.reply kind


def _notify(app, member, subject="thread:1"):
    with app.app_context():
        [nid] = service.notify([member.id], "test.reply", subject, DATA)
        commit()
        return nid


def test_announcement_reaches_every_device_end_to_end(
    app, client, fake_fcm, make_member, auth_headers
):
    organiser = make_member(role="organiser", display_name="组织者")
    readers = [make_member(locale=loc) for loc in ("zh-Hans", "zh-Hant", "en")]
    for i, member in enumerate(readers):
        r = client.post(
            "/api/v1/devices",
            headers=auth_headers(member),
            json={"token": f"announce-token-{i}", "platform": "android", "app_version": "1.4.0"},
        )
        assert r.status_code == 200
    member_try = client.post(
        "/api/v1/announcements",
        headers=auth_headers(readers[0]),
        json={"title": "周末线下聚会", "body": "本周六下午两点，杭州。"},
    )
    assert member_try.status_code == 403
    posted = client.post(
        "/api/v1/announcements",
        headers=auth_headers(organiser),
        json={"title": "周末线下聚会", "body": "本周六下午两点，杭州。"},
    )
    assert posted.status_code == 202
    announcement_id = posted.get_json()["id"]
    assert fake_fcm.tokens() == {f"announce-token-{i}": 1 for i in range(3)}
    message = fake_fcm.received[0].message
    assert message["notification"] == {"title": "周末线下聚会", "body": "本周六下午两点，杭州。"}
    assert message["data"]["announcement_id"] == str(announcement_id)
    inbox = client.get("/api/v1/notifications", headers=auth_headers(readers[2])).get_json()
    assert inbox["items"][0]["title"] == "周末线下聚会"
    assert inbox["items"][0]["actor"]["display_name"] == "组织者"
    # ids are integers in the inbox, as for every kind (a push's data is all strings)
    assert inbox["items"][0]["data"] == {
        "announcement_id": announcement_id,
        "title": "周末线下聚会",
        "body": "本周六下午两点，杭州。",
    }


def test_inbox_pages_newest_first_with_constant_queries(
    app, client, make_member, auth_headers, count_queries
):
    member = make_member()
    for i in range(25):
        _notify(app, member, subject=f"thread:{i}")
    headers = auth_headers(member)
    seen, cursor, counts = [], None, []
    while True:
        url = "/api/v1/notifications?limit=10" + (f"&cursor={cursor}" if cursor else "")
        with count_queries() as q:
            page = client.get(url, headers=headers).get_json()
        counts.append(q.count)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 25 and seen == sorted(seen, reverse=True)
    assert len(set(counts)) == 1 and counts[0] == 2  # the session, the page (actors joined)


def test_mark_read_and_read_all(app, client, make_member, auth_headers):
    member, other = make_member(), make_member()
    first = _notify(app, member, "thread:1")
    _notify(app, member, "thread:2")
    theirs = _notify(app, other, "thread:3")
    headers = auth_headers(member)
    # Someone else's notification is not ours to read: 404, as if it did not exist.
    assert client.post(f"/api/v1/notifications/{theirs}/read", headers=headers).status_code == 404
    assert client.post(f"/api/v1/notifications/{first}/read", headers=headers).status_code == 204
    unread = client.get("/api/v1/notifications?unread=true", headers=headers).get_json()["items"]
    assert len(unread) == 1
    assert client.post("/api/v1/notifications/read-all", headers=headers).get_json() == {
        "marked": 1
    }
    assert client.get("/api/v1/notifications/unread-count", headers=headers).get_json() == {
        "unread": 0
    }
    assert client.get(
        "/api/v1/notifications/unread-count", headers=auth_headers(other)
    ).get_json() == {"unread": 1}


def test_preferences_and_quiet_hours(client, make_member, auth_headers):
    headers = {**auth_headers(make_member()), "Accept-Language": "zh-TW"}
    prefs = client.get("/api/v1/notifications/preferences", headers=headers).get_json()
    announcement = next(k for k in prefs["kinds"] if k["kind"] == "announcement")
    assert announcement == {
        "kind": "announcement",
        "label": "組織者公告",
        "in_app": True,
        "push": True,
    }
    assert prefs["quiet_hours"] is None
    changed = client.patch(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={
            "kinds": [{"kind": "announcement", "push": False}],
            "quiet_hours": {"start": "22:30", "end": "07:00"},
        },
    ).get_json()
    assert changed["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    assert next(k for k in changed["kinds"] if k["kind"] == "announcement")["push"] is False
    bad = client.patch(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"kinds": [{"kind": "no.such.kind"}], "quiet_hours": {"start": "25:00", "end": "7"}},
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"kinds", "quiet_hours"}
    off = client.patch(
        "/api/v1/notifications/preferences", headers=headers, json={"quiet_hours": None}
    )
    assert off.get_json()["quiet_hours"] is None


def test_devices_register_move_and_delete(app, client, make_member, auth_headers):
    alice, bob = make_member(), make_member()
    body = {"token": "shared-phone-token", "platform": "ios", "locale": "zh-Hant"}
    assert client.post("/api/v1/devices", headers=auth_headers(alice), json=body).status_code == 200
    again = client.post(
        "/api/v1/devices", headers=auth_headers(alice), json={**body, "app_version": "2.0"}
    )
    assert again.get_json()["app_version"] == "2.0"
    # Bob signs in on the same phone: the token is his now.
    assert client.post("/api/v1/devices", headers=auth_headers(bob), json=body).status_code == 200
    assert client.get("/api/v1/devices", headers=auth_headers(alice)).get_json()["items"] == []
    assert [
        d["token"]
        for d in client.get("/api/v1/devices", headers=auth_headers(bob)).get_json()["items"]
    ] == ["shared-phone-token"]
    gone = client.delete("/api/v1/devices/shared-phone-token", headers=auth_headers(alice))
    assert gone.status_code == 404  # not hers to delete
    assert (
        client.delete("/api/v1/devices/shared-phone-token", headers=auth_headers(bob)).status_code
        == 204
    )
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Device.id))).scalar_one() == 0
    bad = client.post(
        "/api/v1/devices", headers=auth_headers(bob), json={"token": "x", "platform": "symbian"}
    )
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"token", "platform"}


def test_export_and_erase_cover_notifications_and_devices(app, client, make_member, auth_headers):
    from tests.conftest import PASSWORD

    member = make_member()
    headers = auth_headers(member)
    client.post(
        "/api/v1/devices", headers=headers, json={"token": "erase-me-token", "platform": "android"}
    )
    _notify(app, member)
    section = client.get("/api/v1/me/export", headers=headers).get_json()["sections"][
        "notifications"
    ]
    assert section["devices"][0]["token"] == "erase-me-token"
    assert section["notifications"][0]["kind"] == "test.reply"
    assert (
        client.delete("/api/v1/me", headers=headers, json={"password": PASSWORD}).status_code == 204
    )
    with app.app_context():
        tokens = db.session.execute(sa.select(Device.token)).scalars().all()
    assert "erase-me-token" not in tokens


def test_every_kind_carries_the_data_the_readme_documents(app):
    """The README's table is the apps' contract for ``data``: it names every kind, with each
    key and type the kind declares, and the keys a push's deep link carries."""
    import re
    from pathlib import Path

    from server.notifications.kinds import KINDS

    readme = Path(__file__).parents[2].joinpath("README.md").read_text()
    table = readme.split("| kind | `data` in the inbox | deep-link keys in a push |\n")[1]
    rows = {}
    for line in table.split("\n\n")[0].splitlines()[1:]:  # after the |---| line
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        for kind in re.findall(r"`([a-z_.]+)`", cells[0]):
            rows[kind] = cells
    documented = {name: kind for name, kind in KINDS.items() if not name.startswith("test.")}
    assert set(rows) == set(documented)
    for name, kind in documented.items():
        _kind_cell, data_cell, link_cell = rows[name]
        declared = dict(re.findall(r"`([a-z_]+)` (integer|string|object)", data_cell))
        if data_cell.startswith("as `"):
            base = re.match(r"as `([a-z_.]+)`", data_cell).group(1)
            declared = dict(re.findall(r"`([a-z_]+)` (integer|string|object)", rows[base][1]))
            declared |= dict(re.findall(r"`([a-z_]+)` (integer|string|object)", data_cell))
        assert declared == dict(kind.data), name
        assert re.findall(r"`([a-z_]+)`", link_cell) == list(kind.link_keys), name
        assert set(kind.link_keys) <= set(kind.data), name
