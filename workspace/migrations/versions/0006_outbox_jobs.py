"""outbox_jobs: work owed after a change, committed with it (workspace.outbox)

Revision ID: 0006_outbox_jobs
Revises: 0005_access_epoch
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0006_outbox_jobs"
down_revision = "0005_access_epoch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.BigInteger(), nullable=False),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", workspace.models.UTCDateTime(), nullable=True),
        sa.Column("claimed_until", workspace.models.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_jobs")),
    )
    op.create_index(op.f("ix_outbox_jobs_kind"), "outbox_jobs", ["kind"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_jobs_kind"), table_name="outbox_jobs")
    op.drop_table("outbox_jobs")
