"""docsearch: attachment filings (each attachment of a decided 起案 is filed beside its record once)

Revision ID: 0004_docsearch_attachments
Revises: 0003_docsearch_disposals
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0004_docsearch_attachments"
down_revision = "0003_docsearch_disposals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_approval_attachment_filings",
        sa.Column("request_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("filed_at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_doc_approval_attachment_filings_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("request_id", "sha256", name=op.f("pk_doc_approval_attachment_filings")),
    )
    op.create_index(
        op.f("ix_doc_approval_attachment_filings_document_id"),
        "doc_approval_attachment_filings",
        ["document_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_doc_approval_attachment_filings_document_id"), table_name="doc_approval_attachment_filings"
    )
    op.drop_table("doc_approval_attachment_filings")
