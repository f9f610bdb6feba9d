"""chat attachments: files posted in channels, stored by sha256

Revision ID: 0002_chat_attachments
Revises: 0001_chat
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0002_chat_attachments"
down_revision = "0001_chat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("thumbnail_sha256", sa.String(length=64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["chat_channels.id"],
            name=op.f("fk_chat_attachments_channel_id_chat_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["chat_messages.id"],
            name=op.f("fk_chat_attachments_message_id_chat_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"], ["users.id"], name=op.f("fk_chat_attachments_uploader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_attachments")),
    )
    with op.batch_alter_table("chat_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_attachments_channel_id"), ["channel_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_attachments_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_attachments_uploader_id"), ["uploader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_attachments_sha256"), ["sha256"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_chat_attachments_thumbnail_sha256"), ["thumbnail_sha256"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_attachments_thumbnail_sha256"))
        batch_op.drop_index(batch_op.f("ix_chat_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_chat_attachments_uploader_id"))
        batch_op.drop_index(batch_op.f("ix_chat_attachments_message_id"))
        batch_op.drop_index(batch_op.f("ix_chat_attachments_channel_id"))
    op.drop_table("chat_attachments")
