"""The operator commands: create-admin and seed-demo."""

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


def test_seed_demo_is_idempotent_and_chinese(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        names = db.session.execute(sa.select(Member.display_name)).scalars().all()
    assert len(names) == 11 and "林晓雨" in names and "黃詩婷" in names
    with app.app_context():
        from server.forum.models import ForumCategory, ForumPost, ForumThread

        categories = db.session.execute(sa.select(ForumCategory.name)).scalars().all()
        threads = db.session.execute(sa.select(ForumThread.title)).scalars().all()
        posts = db.session.execute(sa.select(sa.func.count(ForumPost.id))).scalar_one()
    assert "接单与定价" in categories and "杭州" in categories and len(categories) == 6
    assert "公眾號從零到一萬粉，我做對了哪幾件事" in threads and len(threads) == 4
    assert posts == 7
