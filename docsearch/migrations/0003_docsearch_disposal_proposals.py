"""docsearch: disposal proposals (廃棄 through a 決裁)

Revision ID: 0003_docsearch_disposals
Revises: 0002_docsearch_filings
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0003_docsearch_disposals"
down_revision = "0002_docsearch_filings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_disposal_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposer", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.Column("closed_at", workspace.models.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_disposal_proposals")),
        sa.UniqueConstraint("request_id", name=op.f("uq_doc_disposal_proposals_request_id")),
    )


def downgrade() -> None:
    op.drop_table("doc_disposal_proposals")
