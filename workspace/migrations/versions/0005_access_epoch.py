"""access_epoch: the counter every server process watches to re-check its live sockets

Revision ID: 0005_access_epoch
Revises: 0004_username_nocase
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_access_epoch"
down_revision = "0004_username_nocase"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "access_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_epoch")),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("access_epoch")
