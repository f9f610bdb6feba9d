"""users.display_name_kana: the 読み of a person's 氏名

Revision ID: 0002_users_kana
Revises: 0001_core
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_users_kana"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_name_kana", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("display_name_kana")
