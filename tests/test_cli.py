"""The operator commands: create-admin (seed-demo: tests/test_demo.py)."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.members.models import Member


def test_create_admin_creates_or_promotes(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "--email", "Boss@Example.com", "--password", "a long secret"]
    )
    assert result.exit_code == 0, result.output
    login = client.post(
        "/api/v1/auth/login", json={"email": "boss@example.com", "password": "a long secret"}
    )
    token = login.get_json()["access_token"]
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["role"]
        == "admin"
    )
    again = runner.invoke(
        args=["create-admin", "--email", "boss@example.com", "--password", "ignored"]
    )
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Member.id))).scalar_one() == 1
