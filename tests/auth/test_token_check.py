"""How a request's token is checked (``server/auth/tokens.py``, ``server/auth/claims.py``): the
signature is verified once per token and process, the session and member are read on every
request in the query that loads the member, and the answers stay those of flask-jwt-extended."""

from __future__ import annotations

from datetime import timedelta

import jwt as pyjwt
import pytest
from flask_jwt_extended import create_access_token

from server.auth import claims


@pytest.fixture
def verifications(monkeypatch):
    """How many times PyJWT verified a signature."""
    seen = {"n": 0}
    verify = pyjwt.api_jws.PyJWS._verify_signature

    def counted(self, *args, **kwargs):
        seen["n"] += 1
        return verify(self, *args, **kwargs)

    monkeypatch.setattr(pyjwt.api_jws.PyJWS, "_verify_signature", counted)
    return seen


def test_a_token_is_verified_once_per_process(client, organiser, auth_headers, verifications):
    headers = auth_headers(organiser)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert verifications["n"] == 1
    # an Idempotency-Key write: its hook, the rate-limit key and the view all check the token
    created = client.post(
        "/api/v1/alliances", json={"name": "一次验签"}, headers={**headers, "Idempotency-Key": "k1"}
    )
    assert created.status_code == 201, created.get_json()
    assert client.get("/api/v1/members?limit=5", headers=headers).status_code == 200
    assert verifications["n"] == 1


def test_the_session_is_read_on_every_request(client, make_member, auth_headers, count_queries):
    headers = auth_headers(make_member())
    for _ in range(2):
        with count_queries() as q:
            assert client.get("/api/v1/me", headers=headers).status_code == 200
        assert q.count == 1  # the member, through its live session
        assert "auth_sessions" in q.statements[0] and "revoked_at IS NULL" in q.statements[0]


def test_a_verified_token_still_expires(app, client, make_member, auth_headers, monkeypatch):
    member = make_member()
    auth_headers(member)  # a session exists
    with app.app_context():
        from server.auth.models import AuthSession
        from server.extensions import db

        fam = db.session.query(AuthSession.id).filter_by(member_id=member.id).scalar()
        token = create_access_token(
            str(member.id), additional_claims={"fam": fam}, expires_delta=timedelta(seconds=60)
        )
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    later = claims.time.time() + 61

    class Later:
        @staticmethod
        def time() -> float:
            return later

    monkeypatch.setattr(claims, "time", Later)
    monkeypatch.setattr(pyjwt.api_jwt, "datetime", _frozen_datetime(later))
    expired = client.get("/api/v1/me", headers=headers)
    assert expired.status_code == 401 and expired.get_json()["code"] == "token_expired"


def _frozen_datetime(timestamp: float):
    from datetime import UTC, datetime

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(timestamp, tz or UTC)

    return Frozen


def test_a_token_verified_under_another_key_is_verified_again(
    app, client, make_member, auth_headers, monkeypatch
):
    headers = auth_headers(make_member())
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    monkeypatch.setitem(app.config, "JWT_SECRET_KEY", "another-jwt-secret-" + "z" * 32)
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "authentication_required"),
        ("Bearer", "invalid_token"),
        ("Bearer a b", "invalid_token"),
        ("Basic dXNlcjpwYXNz", "authentication_required"),
        ("Bearer not.a.token", "invalid_token"),
    ],
)
def test_odd_headers_get_the_answers_they_always_got(client, authorization, code):
    headers = {"Authorization": authorization} if authorization else {}
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401 and answer.get_json()["code"] == code


def test_a_refresh_token_reads_nothing_and_an_access_token_refreshes_nothing(
    client, make_member, auth_headers
):
    headers = auth_headers(make_member())
    refused = client.post("/api/v1/auth/refresh", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["code"] == "invalid_token"
