"""broadcast drafts: an officer's half-written broadcast, kept between chat turns; urgent broadcasts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcast_drafts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requires_ack", sa.Boolean(), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=True),
        sa.Column("is_urgent", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_broadcast_drafts_member_id_members"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_drafts")),
        sa.UniqueConstraint("member_id", name=op.f("uq_broadcast_drafts_member_id")),
        # Never reuse a draft id: old buttons carry it and must not touch a newer draft.
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("is_urgent", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # Only what this revision added goes; sent broadcasts and their receipts stay.
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("is_urgent")
    op.drop_table("broadcast_drafts")
