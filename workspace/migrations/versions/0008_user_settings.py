"""users.must_change_password (after an administrator's reset) and users.preferences (通知 choices)

Revision ID: 0008_user_settings
Revises: 0007_admin_jobs
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_user_settings"
down_revision = "0007_admin_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("preferences", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("preferences")
        batch.drop_column("must_change_password")
