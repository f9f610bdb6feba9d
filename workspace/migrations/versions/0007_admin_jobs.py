"""admin_jobs: long 管理 work run in the background with its progress (workspace.admin.jobs)

Revision ID: 0007_admin_jobs
Revises: 0006_outbox_jobs
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0007_admin_jobs"
down_revision = "0006_outbox_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("active_kind", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.Column("started_at", workspace.models.UTCDateTime(), nullable=True),
        sa.Column("finished_at", workspace.models.UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", workspace.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_admin_jobs_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_jobs")),
        sa.UniqueConstraint("active_kind", name=op.f("uq_admin_jobs_active_kind")),
    )
    op.create_index(op.f("ix_admin_jobs_kind"), "admin_jobs", ["kind"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_admin_jobs_kind"), table_name="admin_jobs")
    op.drop_table("admin_jobs")
