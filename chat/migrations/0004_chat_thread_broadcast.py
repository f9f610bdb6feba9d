"""chat threads: a reply may also be posted to its channel (also_in_channel)

Revision ID: 0004_chat_thread_broadcast
Revises: 0003_chat_channel_description
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_chat_thread_broadcast"
down_revision = "0003_chat_channel_description"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch table copy: on SQLite a copy drops and recreates chat_messages,
    # and with foreign keys on that drop would cascade into reactions, edits and attachments.
    op.add_column(
        "chat_messages",
        sa.Column("also_in_channel", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Replies written before this revision were drawn in the timeline: keep them there, so nothing
    # people have already read disappears from where they read it.
    messages = sa.table("chat_messages", sa.column("thread_id"), sa.column("also_in_channel"))
    op.execute(messages.update().where(messages.c.thread_id.is_not(None)).values(also_in_channel=True))


def downgrade() -> None:
    # The same reason as above: no table copy. SQLite (3.35+) and PostgreSQL both drop a column in place.
    op.execute("ALTER TABLE chat_messages DROP COLUMN also_in_channel")
