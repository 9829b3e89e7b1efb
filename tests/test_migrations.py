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
