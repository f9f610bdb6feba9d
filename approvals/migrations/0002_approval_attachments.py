"""approvals: attachments (content-addressed files) and the list frozen at submission

Revision ID: 0002_approval_attachments
Revises: 0001_approvals
Create Date: 2026-11-26 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0002_approval_attachments"
down_revision = "0001_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_approval_attachments_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_requests.id"],
            name=op.f("fk_approval_attachments_request_id_approval_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_attachments")),
    )
    with op.batch_alter_table("approval_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_attachments_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_approval_attachments_sha256"), ["sha256"], unique=False)
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments_frozen", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_requests", schema=None) as batch_op:
        batch_op.drop_column("attachments_frozen")
    with op.batch_alter_table("approval_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_approval_attachments_request_id"))
    op.drop_table("approval_attachments")
