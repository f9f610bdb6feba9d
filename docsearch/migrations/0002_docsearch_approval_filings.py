"""docsearch: approval filings (a decided 起案 is filed in the registry once)

Revision ID: 0002_docsearch_filings
Revises: 0001_docsearch
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0002_docsearch_filings"
down_revision = "0001_docsearch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_approval_filings",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("filed_at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_doc_approval_filings_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_doc_approval_filings")),
    )
    op.create_index(
        op.f("ix_doc_approval_filings_document_id"), "doc_approval_filings", ["document_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_doc_approval_filings_document_id"), table_name="doc_approval_filings")
    op.drop_table("doc_approval_filings")
