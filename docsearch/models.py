"""Models of the document registry (文書管理): documents, versions, stored files, the index outbox.

The database is the truth; the whoosh index is derived from these rows (``docsearch.indexer``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workspace.db import Base
from workspace.models import Department, User, UTCDateTime, utcnow

#: 秘区分: 公開 / 庁内限り / 課内限り / 秘.
VISIBILITIES = ("public", "internal", "department", "secret")
VISIBILITY_LABELS = {"public": "公開", "internal": "庁内限り", "department": "課内限り", "secret": "秘"}
#: 保存年限 in years; None is 永年 (permanent).
RETENTION_YEARS = (1, 3, 5, 10, 30)
STATUS_ACTIVE = "active"
STATUS_DISPOSED = "disposed"


class Classification(Base):
    """One 文書分類 entry (大分類/中分類/小分類); the table is data, imported from CSV by records staff."""

    __tablename__ = "doc_classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    major: Mapped[str] = mapped_column(String(100))  # 大分類
    middle: Mapped[str | None] = mapped_column(String(100))  # 中分類
    minor: Mapped[str | None] = mapped_column(String(100))  # 小分類
    default_retention_years: Mapped[int | None] = mapped_column(Integer)
    # 廃止: no longer offered for new documents; the documents filed under it keep it.
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def label(self) -> str:
        """大分類 › 中分類 › 小分類, as staff read it."""
        return " › ".join(p for p in (self.major, self.middle, self.minor) if p)


class Binder(Base):
    """A 簿冊: the file unit grouping documents of one 課 and 年度."""

    __tablename__ = "doc_binders"
    __table_args__ = (UniqueConstraint("department_id", "fiscal_year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)


class StoredFile(Base):
    """A file in the content-addressed store (DATA_DIR/files/ab/cd/<sha256>) and its extracted text.

    One row per distinct content; versions of several documents may share it.
    """

    __tablename__ = "doc_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # pdf | docx | xlsx | text | html
    mime_type: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Document(Base):
    """A registered document (件名, 文書番号, 分類, 担当課, 年度, 保存年限, 簿冊, 秘区分 …)."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    document_number: Mapped[str | None] = mapped_column(String(100), index=True)
    classification_id: Mapped[int | None] = mapped_column(ForeignKey("doc_classifications.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    origin: Mapped[str] = mapped_column(String(16), default="created")  # created (作成) | received (収受)
    received_on: Mapped[dt.date | None] = mapped_column(Date)
    sender: Mapped[str | None] = mapped_column(String(200))
    addressee: Mapped[str | None] = mapped_column(String(200))
    binder_id: Mapped[int | None] = mapped_column(ForeignKey("doc_binders.id"), index=True)
    retention_years: Mapped[int | None] = mapped_column(Integer)  # None = 永年
    retention_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    visibility: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=STATUS_ACTIVE, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")
    classification: Mapped[Classification | None] = relationship(lazy="joined")
    binder: Mapped[Binder | None] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(lazy="joined")
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document",
        order_by="DocumentVersion.number",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    grants: Mapped[list[DocumentGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    @property
    def current_version(self) -> DocumentVersion | None:
        """The newest version, or None for a disposed document."""
        return self.versions[-1] if self.versions else None


class DocumentVersion(Base):
    """One version of a document's file."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("doc_files.sha256"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    file: Mapped[StoredFile] = relationship(lazy="joined")


class DocumentGrant(Base):
    """An explicit reader of a 秘 document besides its registrant and records staff."""

    __tablename__ = "document_grants"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class RetentionExtension(Base):
    """A 延長: the retention end moved later, with the reason."""

    __tablename__ = "doc_retention_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    previous_until: Mapped[dt.date | None] = mapped_column(Date)
    new_until: Mapped[dt.date | None] = mapped_column(Date)  # None: extended to 永年
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DisposalRecord(Base):
    """What was disposed (廃棄), when, by whom and why; it outlives the document's files."""

    __tablename__ = "doc_disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    document_number: Mapped[str | None] = mapped_column(String(100))
    department_code: Mapped[str] = mapped_column(String(32))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    retention_until: Mapped[dt.date | None] = mapped_column(Date)
    files: Mapped[list] = mapped_column(JSON, default=list)  # [{"number", "filename", "sha256", "size"}]
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IndexOutbox(Base):
    """A search-index update owed for one object, written in the transaction that changed it.

    The indexer reads the object's current state when it drains the row, so the row only names
    what changed (kind + id); deleting the row after the index commit makes a crash in between
    harmless: the next drain repeats the (idempotent) update.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # document | approval | message
    object_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApprovalFiling(Base):
    """A decided 起案 filed in the registry: one row per request, so a repeated signal files nothing.

    ``request_id`` is the primary key (no foreign key: docsearch reads approvals but its schema does
    not depend on theirs); the document stays even when disposed, and so does this row.
    """

    __tablename__ = "doc_approval_filings"

    request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    document: Mapped[Document] = relationship()


class ApprovalAttachmentFiling(Base):
    """An attachment of a decided 起案 filed as a document of its own, once (keyed by request and digest).

    The file is filed beside the signed PDF with the same metadata and readers, so the registry holds
    the whole 決裁 and the attachment's text is searchable.
    """

    __tablename__ = "doc_approval_attachment_filings"

    request_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    document: Mapped[Document] = relationship()


class DisposalProposal(Base):
    """廃棄 through a 決裁: the documents a records clerk proposed to dispose of, and what came of it.

    The row is written in the same transaction as the approval request it was drafted as
    (``approvals.service.create(link=…)``), so there is never a request without its proposal or the
    reverse.  ``request_id`` has no foreign key, as in ``ApprovalFiling``.  ``outcome`` says, per
    document, whether the decision disposed of it or why not (disposed already, extended since).
    """

    __tablename__ = "doc_disposal_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(Integer, unique=True)
    document_ids: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    proposer: Mapped[str] = mapped_column(String(64))
    #: pending | disposed | rejected | withdrawn
    status: Mapped[str] = mapped_column(String(16), default="pending")
    outcome: Mapped[dict] = mapped_column(JSON, default=dict)  # {"<doc id>": "disposed" | "<why not>"}
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
