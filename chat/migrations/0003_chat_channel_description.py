"""chat_channels.description: what a public or private channel is for (説明)

Revision ID: 0003_chat_channel_description
Revises: 0002_chat_attachments
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_chat_channel_description"
down_revision = "0002_chat_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("description", sa.String(length=250), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_channels", schema=None) as batch_op:
        batch_op.drop_column("description")
