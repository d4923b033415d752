"""broadcast follow-ups: remember when to chase unacknowledged updates

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("follow_up_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("followed_up_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Only the columns this revision added go; every other row and column stays.
    with op.batch_alter_table("receipts") as batch:
        batch.drop_column("followed_up_at")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("follow_up_days")
