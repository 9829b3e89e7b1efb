"""Abuse of sign-in and password checks: the limits hold against the tricks that beat them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_limiter.util import get_remote_address

from server.auth.models import AuthSession
from server.common.http import trust_proxies
from server.extensions import db
from tests.conftest import PASSWORD

LOGIN = "/api/v1/auth/login"


def _from(address: str) -> dict[str, dict[str, str]]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_one_attacker_cannot_lock_the_owner_out(client, make_member):
    victim = make_member(email="alice@example.com")
    for _ in range(10):
        r = client.post(
            LOGIN, json={"email": victim.email, "password": "guess"}, **_from("6.6.6.6")
        )
        assert r.status_code == 401
    assert (
        client.post(
            LOGIN, json={"email": victim.email, "password": "x"}, **_from("6.6.6.6")
        ).status_code
        == 429
    )
    own = client.post(LOGIN, json={"email": victim.email, "password": PASSWORD}, **_from("1.2.3.4"))
    assert own.status_code == 200


def test_a_crowd_of_addresses_is_stopped_per_account(client, app, make_member):
    victim = make_member(email="bob@example.com")
    app.config["LOGIN_FAILURE_LIMIT_ACCOUNT"] = "20/hour"
    try:
        for i in range(20):
            r = client.post(
                LOGIN, json={"email": victim.email, "password": "guess"}, **_from(f"10.0.{i}.1")
            )
            assert r.status_code == 401
        r = client.post(
            LOGIN, json={"email": victim.email, "password": "guess"}, **_from("10.9.9.9")
        )
        assert r.status_code == 429
    finally:
        app.config["LOGIN_FAILURE_LIMIT_ACCOUNT"] = "100/hour"


def test_bodies_the_limiter_cannot_read_are_bodies_the_view_refuses(client, make_member):
    victim = make_member(email="carol@example.com")
    for _ in range(10):
        client.post(LOGIN, json={"email": victim.email, "password": "guess"})
    tricks = [
        b'{"email": NaN, "email": "carol@example.com", "password": "correct horse battery"}',
        b'{"email": "carol@example.com", "password": "correct horse battery", "x": 1e400}',
    ]
    for body in tricks:
        r = client.post(LOGIN, data=body, content_type="application/json")
        assert r.status_code in {400, 422, 429}, r.get_json()
        assert r.status_code != 200


def test_wrong_passwords_on_signed_in_checks_are_limited(client, make_member, auth_headers):
    member = make_member()
    headers = auth_headers(member)
    for _ in range(5):
        r = client.delete("/api/v1/me", headers=headers, json={"password": "guess"})
        assert r.status_code == 403
    for _ in range(5):
        r = client.post(
            "/api/v1/auth/password",
            headers=headers,
            json={"current_password": "guess", "new_password": "whatever123"},
        )
        assert r.status_code == 403
    blocked = client.delete("/api/v1/me", headers=headers, json={"password": PASSWORD})
    assert blocked.status_code == 429
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # reading is not limited


def test_old_reset_links_die_with_a_new_password(client, app, make_member, auth_headers):
    member = make_member(email="dan@example.com")
    for _ in range(2):
        client.post("/api/v1/auth/password-reset", json={"email": member.email})
    links = [m.body.split("token=")[1].split()[0] for m in app.extensions["mail_outbox"]]
    assert len(links) == 2
    changed = client.post(
        "/api/v1/auth/password",
        headers=auth_headers(member),
        json={"current_password": PASSWORD, "new_password": "new password 1"},
    )
    assert changed.status_code == 204
    for token in links:
        r = client.post(
            "/api/v1/auth/password-reset/confirm",
            json={"token": token, "new_password": "hijacked!!"},
        )
        assert r.status_code == 400


def test_sessions_are_capped_per_member(client, app, make_member):
    member = make_member()
    app.config["MAX_SESSIONS_PER_MEMBER"] = 3
    try:
        tokens = [
            client.post(LOGIN, json={"email": member.email, "password": PASSWORD}).get_json()
            for _ in range(4)
        ]
    finally:
        app.config["MAX_SESSIONS_PER_MEMBER"] = 20
    first = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {tokens[0]['access_token']}"}
    )
    assert first.status_code == 401
    for t in tokens[1:]:
        assert (
            client.get(
                "/api/v1/me", headers={"Authorization": f"Bearer {t['access_token']}"}
            ).status_code
            == 200
        )
    with app.app_context():
        live = db.session.execute(
            sa.select(sa.func.count()).where(AuthSession.revoked_at.is_(None))
        ).scalar_one()
    assert live == 3


def test_forwarded_for_is_trusted_only_behind_configured_proxies():
    def seen(hops: int) -> str:
        app = Flask("proxy-test")
        app.config["TRUSTED_PROXIES"] = hops
        app.add_url_rule("/ip", "ip", get_remote_address)
        trust_proxies(app)
        return (
            app.test_client()
            .get(
                "/ip",
                headers={"X-Forwarded-For": "203.0.113.7"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            )
            .get_data(as_text=True)
        )

    assert seen(0) == "127.0.0.1"  # a client cannot pick its own address
    assert seen(1) == "203.0.113.7"  # behind one proxy, the proxy's word is taken


def test_a_user_agent_with_control_characters_is_stored_clean(client, app, make_member):
    member = make_member()
    r = client.post(
        LOGIN,
        json={"email": member.email, "password": PASSWORD},
        headers={"User-Agent": "Jiayuan/1.0 \x00\x07(Android)"},
    )
    assert r.status_code == 200
    with app.app_context():
        agent = db.session.execute(sa.select(AuthSession.user_agent)).scalar_one()
    assert agent == "Jiayuan/1.0 (Android)"
