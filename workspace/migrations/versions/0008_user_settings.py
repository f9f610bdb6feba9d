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


# Plain ADD/DROP COLUMN, no batch (table copy) on SQLite: a copy of `users` would lose the
# expression index uq_users_username_lower (0004), which reflection cannot see.
def upgrade() -> None:
    op.add_column(
        "users", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default="0")
    )
    op.add_column("users", sa.Column("preferences", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    op.drop_column("users", "preferences")
    op.drop_column("users", "must_change_password")
