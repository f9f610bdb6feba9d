"""docsearch schema: document registry, versions, stored files, retention records, the search outbox

Revision ID: 0001_docsearch
Revises:
Depends on: 0001_core
"""

import sqlalchemy as sa
from alembic import op

import workspace.models

revision = "0001_docsearch"
down_revision = None
branch_labels = ("docsearch",)
depends_on = "0001_core"


def upgrade() -> None:
    op.create_table(
        "doc_classifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("major", sa.String(length=100), nullable=False),
        sa.Column("middle", sa.String(length=100), nullable=True),
        sa.Column("minor", sa.String(length=100), nullable=True),
        sa.Column("default_retention_years", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_classifications")),
        sa.UniqueConstraint("code", name=op.f("uq_doc_classifications_code")),
    )
    op.create_table(
        "doc_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_doc_files")),
    )
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index(op.f("ix_search_outbox_kind"), "search_outbox", ["kind"], unique=False)
    op.create_table(
        "doc_binders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_doc_binders_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_binders")),
        sa.UniqueConstraint(
            "department_id", "fiscal_year", "name", name=op.f("uq_doc_binders_department_id")
        ),
    )
    op.create_index(op.f("ix_doc_binders_department_id"), "doc_binders", ["department_id"], unique=False)
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("classification_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("sender", sa.String(length=200), nullable=True),
        sa.Column("addressee", sa.String(length=200), nullable=True),
        sa.Column("binder_id", sa.Integer(), nullable=True),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column("retention_until", sa.Date(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["binder_id"], ["doc_binders.id"], name=op.f("fk_documents_binder_id_doc_binders")
        ),
        sa.ForeignKeyConstraint(
            ["classification_id"],
            ["doc_classifications.id"],
            name=op.f("fk_documents_classification_id_doc_classifications"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_documents_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_documents_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(op.f("ix_documents_binder_id"), "documents", ["binder_id"], unique=False)
    op.create_index(op.f("ix_documents_classification_id"), "documents", ["classification_id"], unique=False)
    op.create_index(op.f("ix_documents_created_by_id"), "documents", ["created_by_id"], unique=False)
    op.create_index(op.f("ix_documents_department_id"), "documents", ["department_id"], unique=False)
    op.create_index(op.f("ix_documents_document_number"), "documents", ["document_number"], unique=False)
    op.create_index(op.f("ix_documents_fiscal_year"), "documents", ["fiscal_year"], unique=False)
    op.create_index(op.f("ix_documents_retention_until"), "documents", ["retention_until"], unique=False)
    op.create_index(op.f("ix_documents_status"), "documents", ["status"], unique=False)
    op.create_table(
        "doc_disposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("document_number", sa.String(length=100), nullable=True),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("retention_until", sa.Date(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_doc_disposals_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_disposals")),
    )
    op.create_index(op.f("ix_doc_disposals_document_id"), "doc_disposals", ["document_id"], unique=False)
    op.create_table(
        "doc_retention_extensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("previous_until", sa.Date(), nullable=True),
        sa.Column("new_until", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_doc_retention_extensions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doc_retention_extensions")),
    )
    op.create_index(
        op.f("ix_doc_retention_extensions_document_id"),
        "doc_retention_extensions",
        ["document_id"],
        unique=False,
    )
    op.create_table(
        "document_grants",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_grants_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_document_grants_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "user_id", name=op.f("pk_document_grants")),
    )
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", workspace.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_document_versions_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_versions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["doc_files.sha256"], name=op.f("fk_document_versions_sha256_doc_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_document_versions_document_id")),
    )
    op.create_index(
        op.f("ix_document_versions_document_id"), "document_versions", ["document_id"], unique=False
    )
    op.create_index(op.f("ix_document_versions_sha256"), "document_versions", ["sha256"], unique=False)


def downgrade() -> None:
    op.drop_table("document_versions")
    op.drop_table("document_grants")
    op.drop_table("doc_retention_extensions")
    op.drop_table("doc_disposals")
    op.drop_table("documents")
    op.drop_table("doc_binders")
    op.drop_table("search_outbox")
    op.drop_table("doc_files")
    op.drop_table("doc_classifications")
