"""media: pictures members upload, re-encoded into variants, attached to what uses them; and
the uploads each member stored per day (``server/media``)

Revision ID: 0020_media
Revises: 0019_search_rank
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0020_media"
down_revision = "0019_search_rank"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("source_format", sa.String(length=8), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("animated", sa.Boolean(), nullable=False),
        sa.Column("display_width", sa.Integer(), nullable=False),
        sa.Column("display_height", sa.Integer(), nullable=False),
        sa.Column("thumb_width", sa.Integer(), nullable=False),
        sa.Column("thumb_height", sa.Integer(), nullable=False),
        sa.Column("blurhash", sa.String(length=64), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('image')", name=op.f("ck_media_kind")),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["members.id"],
            name=op.f("fk_media_owner_id_members"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    op.create_index("ix_media_owner_id_id", "media", ["owner_id", "id"], unique=False)
    op.create_index("ix_media_owner_id_digest", "media", ["owner_id", "digest"], unique=False)
    op.create_index("ix_media_purpose_subject_id", "media", ["purpose", "subject_id"], unique=False)
    op.create_table(
        "media_quotas",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("uploads", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_media_quotas_member_id_members"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("member_id", "day", name=op.f("pk_media_quotas")),
    )


def downgrade() -> None:
    op.drop_table("media_quotas")
    op.drop_index("ix_media_purpose_subject_id", table_name="media")
    op.drop_index("ix_media_owner_id_digest", table_name="media")
    op.drop_index("ix_media_owner_id_id", table_name="media")
    op.drop_table("media")
