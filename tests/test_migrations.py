"""The migrations build exactly the schema the models describe, on this run's database."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.common.search import include_in_autogenerate
from server.extensions import db

ROOT = Path(__file__).resolve().parents[1]


def test_models_and_migrations_agree(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_object": include_in_autogenerate,
                },
            )
            diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_0008_drops_channel_memberships_of_members_no_longer_in_the_alliance(app, make_member):
    """Before 0008 leaving an alliance left its channels' memberships behind: its statement,
    on this run's database, deletes exactly those."""
    import importlib.util

    import sqlalchemy as sa

    from server.alliances.models import Alliance, AllianceMember
    from server.chat.models import Conversation, ConversationMember

    path = ROOT / "migrations" / "versions" / "0008_chat_channel_members.py"
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stays, left, friend = (make_member().id for _ in range(3))
    with app.app_context():
        alliance = Alliance(name="旧联盟", name_key="旧联盟", member_count=1)
        db.session.add(alliance)
        db.session.flush()
        db.session.add(AllianceMember(alliance_id=alliance.id, member_id=stays, role="owner"))
        channel = Conversation(kind="channel", alliance_id=alliance.id, name="大厅")
        direct = Conversation(kind="direct", direct_key=f"{left}:{friend}")
        db.session.add_all([channel, direct])
        db.session.flush()
        rows = [(channel.id, stays), (channel.id, left), (direct.id, left), (direct.id, friend)]
        db.session.execute(
            sa.insert(ConversationMember),
            [{"conversation_id": c, "member_id": m} for c, m in rows],
        )
        db.session.execute(sa.text(module.DROP_LEFTOVERS))
        after = set(
            db.session.execute(
                sa.select(ConversationMember.conversation_id, ConversationMember.member_id).where(
                    ConversationMember.conversation_id.in_([channel.id, direct.id])
                )
            ).all()
        )
        assert after == {(channel.id, stays), (direct.id, left), (direct.id, friend)}


def _flask_db(url: str, *args: str) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "JIAYUAN_ENV": "test",
        "SECRET_KEY": "m" * 40,
        "JWT_SECRET_KEY": "n" * 40,
        "DATABASE_URL": url,
        "JOBS_BACKEND": "immediate",
        "FLASK_APP": "wsgi",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "db", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_migrations_go_down_and_up_again_and_keep_the_rows(tmp_path):
    """Every revision's downgrade runs, and altering ``members`` (a table rebuild on SQLite)
    keeps the rows that cascade from it: foreign keys are off while SQLite migrates."""
    import sqlalchemy as sa

    from tests.conftest import _database_url

    url, drop = _database_url(tmp_path)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        _flask_db(url, "upgrade")
        from server.members.models import Member
        from server.notifications.models import Device

        with engine.begin() as conn:
            member_id = conn.execute(
                sa.insert(Member.__table__)
                .values(email="keep@example.com", username="keepme", display_name="留下")
                .returning(Member.__table__.c.id)
            ).scalar_one()
            conn.execute(
                sa.insert(Device.__table__).values(member_id=member_id, token="t", platform="ios")
            )

        def rows() -> tuple[int, int]:
            with engine.connect() as conn:
                return (
                    conn.execute(sa.text("SELECT count(*) FROM members")).scalar_one(),
                    conn.execute(sa.text("SELECT count(*) FROM devices")).scalar_one(),
                )

        _flask_db(url, "downgrade", "0008_chat_channel_members")
        assert rows() == (1, 1)
        _flask_db(url, "upgrade")
        assert rows() == (1, 1)
        _flask_db(url, "downgrade", "base")
        _flask_db(url, "upgrade")
    finally:
        engine.dispose()
        drop()
