"""The migrations build exactly the schema the models describe, on this run's database."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from server.common.search import include_in_autogenerate
from server.extensions import db


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


def test_0008_drops_channel_memberships_of_members_no_longer_in_the_alliance(tmp_path):
    """Before 0008 leaving an alliance left its channels' memberships behind."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from server import create_app
    from server.alliances.models import Alliance, AllianceMember
    from server.chat.models import Conversation, ConversationMember
    from server.members.models import Member
    from tests.factories import member_rows

    url = f"sqlite:///{tmp_path / 'm.db'}"
    app = create_app({"JIAYUAN_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
                      "SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40})  # fmt: skip
    migrations = str(Path(__file__).resolve().parents[1] / "migrations")
    engine = sa.create_engine(url)  # its own: the tests' session is bound to their database
    try:
        with app.app_context():
            upgrade(directory=migrations, revision="0007_chat_moderation")
        with engine.begin() as conn:
            ids = conn.execute(sa.insert(Member).returning(Member.id), member_rows(3, "mig"))
            stays, left, friend = ids.scalars().all()
            alliance = conn.execute(
                sa.insert(Alliance).returning(Alliance.id),
                {"name": "旧联盟", "name_key": "旧联盟", "member_count": 1},
            ).scalar_one()
            conn.execute(
                sa.insert(AllianceMember),
                {"alliance_id": alliance, "member_id": stays, "role": "owner"},
            )
            channel, direct = (
                conn.execute(
                    sa.insert(Conversation).returning(
                        Conversation.id, sort_by_parameter_order=True
                    ),
                    [
                        {"kind": "channel", "alliance_id": alliance, "direct_key": None},
                        {"kind": "direct", "alliance_id": None, "direct_key": f"{left}:{friend}"},
                    ],
                )
                .scalars()
                .all()
            )
            rows = [(channel, stays), (channel, left), (direct, left), (direct, friend)]
            conn.execute(
                sa.insert(ConversationMember),
                [{"conversation_id": c, "member_id": m} for c, m in rows],
            )
        with app.app_context():
            upgrade(directory=migrations)
        with engine.connect() as conn:
            after = set(
                conn.execute(
                    sa.select(ConversationMember.conversation_id, ConversationMember.member_id)
                ).all()
            )
    finally:
        engine.dispose()
        with app.app_context():
            db.engine.dispose()
    assert after == {(channel, stays), (direct, left), (direct, friend)}
