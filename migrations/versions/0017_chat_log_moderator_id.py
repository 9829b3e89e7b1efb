"""chat_log_moderator_id: the chat audit log names who acted ``moderator_id``, as the forum's
does (it was ``actor_id``); its foreign key is renamed to match the naming convention

Revision ID: 0017_chat_log_moderator_id
Revises: 0016_chat_client_id
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017_chat_log_moderator_id"
down_revision = "0016_chat_client_id"
branch_labels = None
depends_on = None

TABLE = "chat_moderation_log"


def _fk(column: str) -> str:
    return f"fk_{TABLE}_{column}_members"


def _rename(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        # a rename in the catalogue: no table rewrite, no new foreign key to validate
        op.alter_column(TABLE, old, new_column_name=new)
        op.execute(sa.text(f"ALTER TABLE {TABLE} RENAME CONSTRAINT {_fk(old)} TO {_fk(new)}"))
        return
    # SQLite cannot rename a constraint: the table is rebuilt, once for the column and once for
    # its foreign key (a rebuild drops a constraint added on a column it also renames)
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.alter_column(old, new_column_name=new)
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.drop_constraint(op.f(_fk(old)), type_="foreignkey")
        batch_op.create_foreign_key(op.f(_fk(new)), "members", [new], ["id"], ondelete="SET NULL")


def upgrade() -> None:
    _rename("actor_id", "moderator_id")


def downgrade() -> None:
    _rename("moderator_id", "actor_id")
