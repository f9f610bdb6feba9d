"""chat channels can be archived by an administrator (archived_at)

Revision ID: 0005_chat_channel_archive
Revises: 0004_chat_thread_broadcast
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from workspace.models import UTCDateTime

revision = "0005_chat_channel_archive"
down_revision = "0004_chat_thread_broadcast"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (see 0004): no table copy of chat_channels, whose drop would cascade.
    op.add_column("chat_channels", sa.Column("archived_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE chat_channels DROP COLUMN archived_at")
