"""Devices per member are capped, and only live ones (seen lately) get pushes (issue #10: 150
made-up tokens turned one message into 150 pushes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import sqlalchemy as sa

from server.common.time import utcnow
from server.extensions import db
from server.notifications.models import Device, PushDelivery
from tests.conftest import ROOT, _database_url
from tests.notifications.device_race import REGISTRATIONS
from tests.notifications.helpers import notify_reply


def _register(caller, headers, token, platform="android"):
    """The device ``token`` registered by who ``headers`` sign in as."""
    body = {"token": token, "platform": platform}
    return caller.call(None, "POST", "/api/v1/devices", 200, headers=headers, json=body)


def test_150_tokens_leave_the_10_most_recently_seen(
    caller, app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    headers = auth_headers(member)
    for n in range(150):
        _register(caller, headers, f"made-up-token-{n:03d}")
    _register(caller, headers, "made-up-token-000")  # an app started again: seen just now
    kept = [d["token"] for d in client.get("/api/v1/devices", headers=headers).get_json()["items"]]
    assert sorted(kept) == ["made-up-token-000"] + [f"made-up-token-{n}" for n in range(141, 150)]

    notify_reply(app, [member])
    assert sorted(fake_fcm.tokens()) == sorted(kept)  # one message, 10 pushes


def test_the_cap_is_a_setting(caller, app, client, make_member, auth_headers):
    app.config["PUSH_DEVICES_PER_MEMBER"] = 2
    try:
        member = make_member()
        headers = auth_headers(member)
        for token in ("phone-old", "tablet-mid", "phone-new"):
            _register(caller, headers, token)
        devices = client.get("/api/v1/devices", headers=headers).get_json()["items"]
        assert sorted(d["token"] for d in devices) == ["phone-new", "tablet-mid"]
    finally:
        app.config["PUSH_DEVICES_PER_MEMBER"] = 10


def test_devices_not_seen_for_the_live_window_get_no_push(app, fake_fcm, make_member):
    member = make_member()
    with app.app_context():
        days = app.config["PUSH_DEVICE_LIVE_DAYS"]
        db.session.add_all(
            [
                Device(member_id=member.id, token="phone-in-use", platform="android"),
                Device(
                    member_id=member.id,
                    token="phone-in-a-drawer",
                    platform="ios",
                    last_seen_at=utcnow() - timedelta(days=days, minutes=1),
                ),
            ]
        )
        db.session.commit()
    notify_reply(app, [member])
    assert fake_fcm.tokens() == {"phone-in-use": 1}
    with app.app_context():  # nothing was even queued for the stale one
        assert db.session.execute(sa.select(sa.func.count(PushDelivery.id))).scalar_one() == 1


def test_concurrent_registrations_keep_the_cap(tmp_path):
    """Real concurrent registrations, each on its own connection (SQLite or PostgreSQL, as the
    suite runs): the cap holds and none of them fails."""
    url, drop = _database_url(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "k" * 40,
        "JWT_SECRET_KEY": "j" * 40,
        "PUSH_DEVICES_PER_MEMBER": "3",
    }
    try:
        run = subprocess.run(
            [sys.executable, "-m", "tests.notifications.device_race"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        drop()
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert len(result["tokens"]) == 3
    assert set(result["tokens"]) <= {f"racing-phone-{n:02d}" for n in range(REGISTRATIONS)}


def test_the_api_tells_apps_to_register_at_every_start(client):
    """A device is live only from its registration: the contract says so where app developers
    read it (issue #10 review)."""
    spec = client.get("/api/v1/openapi.json").get_json()
    register = spec["paths"]["/api/v1/devices"]["post"]
    assert "every start" in register["description"]
    assert "PUSH_DEVICE_LIVE_DAYS" in register["description"]
    data = spec["components"]["schemas"]["Notification"]["properties"]["data"]
    assert "`gone`" in data["description"] and "empty string" in data["description"]
