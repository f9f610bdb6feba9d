"""Approval tables: route template versions, requests, the derived inbox, 文書番号 counters, absences.

The machine's :class:`~approvals.state.RequestState` is stored whole as JSON on the request row; the
columns beside it (status, version, document number …) are copies kept for queries and constraints.
``approval_tasks`` is derived from that state in the same transaction, so the inbox is one indexed
query instead of a scan of every request's JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workspace.db import Base
from workspace.models import Department, User, UTCDateTime, utcnow

TASK_PENDING = "pending"
TASK_POST_REVIEW = "post_review"
TASK_CIRCULATE = "circulate"
TASK_DONE = "done"
TASK_KINDS = (TASK_PENDING, TASK_POST_REVIEW, TASK_CIRCULATE, TASK_DONE)


class RouteTemplateVersion(Base):
    """One version of a route template; (key, version) is unique and rows are never edited."""

    __tablename__ = "approval_route_templates"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_approval_route_templates_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ApprovalRequest(Base):
    """A 起案: the document, its frozen route and the machine state.

    ``version`` mirrors ``state["version"]``; every write is a conditional UPDATE on it, so a writer
    working from a stale read changes nothing (see :mod:`approvals.service`).
    """

    __tablename__ = "approval_requests"
    __table_args__ = (
        Index("ix_approval_requests_drafter_status", "drafter_id", "status", "id"),
        UniqueConstraint(
            "number_fiscal_year", "document_number", name="uq_approval_requests_fiscal_year_number"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    route_key: Mapped[str] = mapped_column(String(40))
    # The template version the request was submitted with (the draft's choice until then).
    template_id: Mapped[int] = mapped_column(ForeignKey("approval_route_templates.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int | None] = mapped_column(BigInteger)
    classification: Mapped[str | None] = mapped_column(String(100))
    retention_years: Mapped[int | None] = mapped_column(Integer)
    drafter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # Optimistic lock: every UPDATE carries WHERE version = <the version read> (the service sets the
    # new value from the machine's state), so a write based on a stale read changes nothing.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Unique per 年度 (see __table_args__): formats without {fiscal_year} start again every April.
    document_number: Mapped[str | None] = mapped_column(String(100))
    number_fiscal_year: Mapped[int | None] = mapped_column(Integer)
    number_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The attachment list as frozen at 起案 (and again at 再提出 after a 差戻し to the drafter):
    # [{"id", "name", "size", "sha256", "content_type"}]; None while the request is a draft.
    attachments_frozen: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The 合議 departments the drafter chose on steps that let him choose (``"choose": true``):
    # {"<template step index>": ["<department code>", …]}; None when the route offers no choice.
    consult_choice: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)

    template: Mapped[RouteTemplateVersion] = relationship(lazy="joined")
    drafter: Mapped[User] = relationship(foreign_keys=[drafter_id], lazy="joined")
    department: Mapped[Department] = relationship(foreign_keys=[department_id], lazy="joined")


class ApprovalAttachment(Base):
    """A file attached to a request; the bytes live in the content-addressed store under ``sha256``.

    Rows are added and removed only while the request is a draft or sent back to its drafter; the
    list is frozen on the request (``attachments_frozen``) at each submission.
    """

    __tablename__ = "approval_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ApprovalVersion(Base):
    """What one submission (起案 or 再提出) said: the content approvers saw, kept forever.

    ``n`` counts submissions from 1; approvers compare version n with n-1 to see what the drafter
    changed after a 差戻し.
    """

    __tablename__ = "approval_versions"
    __table_args__ = (UniqueConstraint("request_id", "n", name="uq_approval_versions_request_n"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("approval_requests.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int | None] = mapped_column(BigInteger)
    # [{"id", "name", "size", "sha256", "content_type"}] as frozen by this submission.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class ApprovalTask(Base):
    """One inbox line: ``user_id`` has ``kind`` (pending, post_review, circulate, done) on a request.

    Derived data: rewritten from the request's state by the service in the transaction that changes
    the state; never edited on its own.
    """

    __tablename__ = "approval_tasks"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "request_id", name="uq_approval_tasks_user_kind_request"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique constraint's index (user_id, kind, request_id) serves the inbox query as well.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NumberCounter(Base):
    """The last 文書番号 sequence issued per 年度 and department prefix; locked by each increment."""

    __tablename__ = "approval_number_counters"

    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Absence(Base):
    """不在設定: ``user_id`` is away ``starts_on``..``ends_on`` (inclusive, JST); ``deputy_id`` acts."""

    __tablename__ = "approval_absences"
    __table_args__ = (Index("ix_approval_absences_user_period", "user_id", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    deputy_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    deputy: Mapped[User] = relationship(foreign_keys=[deputy_id], lazy="joined")


class DecidedRecord(Base):
    """The PDF record of an approved request (signed when the village keys exist), kept as issued."""

    __tablename__ = "approval_records"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("approval_requests.id", ondelete="CASCADE"), primary_key=True
    )
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
