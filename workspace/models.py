"""Core models: the directory (departments, sections, users), sign-in state, the audit log."""

from __future__ import annotations

import datetime as dt
import re

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from workspace.db import Base


def utcnow() -> dt.datetime:
    """Return the current UTC time (aware); the database stores UTC, the UI shows JST."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp column that holds one instant on every database: UTC in, aware UTC out.

    SQLite has no time zone type: SQLAlchemy writes an aware value's wall-clock digits and drops the
    offset, so a JST value (calendar.now()) came back nine hours late. Converting to UTC before the
    write, and attaching UTC after the read, makes SQLite and PostgreSQL agree. Naive values are
    refused: nobody can tell which clock they were read from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"timestamp columns take timezone-aware datetimes, not {value!r}")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: object) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Department(Base):
    """A 課, or a 係 (section) when parent_id points at its 課."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # The short mark used in document numbers (総 for 総務課); editable, first character by default.
    prefix: Mapped[str] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Department | None] = relationship(remote_side="Department.id")

    @property
    def is_section(self) -> bool:
        """True for a 係 (a section inside a 課)."""
        return self.parent_id is not None


class User(UserMixin, Base):
    """A 職員. Local accounts carry an argon2 hash; directory accounts carry their DN."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    # 読み: the kana reading of the 氏名 (かとう ひろし), for finding people and @mention completion.
    display_name_kana: Mapped[str | None] = mapped_column(String(100))
    mail: Mapped[str | None] = mapped_column(String(254))
    title: Mapped[str | None] = mapped_column(String(50), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    source: Mapped[str] = mapped_column(String(10), default="local")  # local | ldap
    ldap_dn: Mapped[str | None] = mapped_column(String(500))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set by an administrator's password reset: the one-time password works once, then the person
    # must choose their own before anything else (local accounts).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The person's own choices (通知: mentions, 決裁 arrivals, desktop notifications …), by key.
    preferences: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id], lazy="joined")
    section: Mapped[Department | None] = relationship(foreign_keys=[section_id], lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", back_populates="user"
    )

    # Set by the sign-in code: Flask-Login stores get_id() in the session cookie, so the cookie holds a
    # random per-sign-in key (looked up in user_sessions), never the user id itself.
    login_key = None  # str | None; not a column

    def get_id(self) -> str | None:  # noqa: D102 - Flask-Login protocol
        return self.login_key

    @property
    def is_active(self) -> bool:  # noqa: D102 - Flask-Login protocol
        return bool(self.active)

    @property
    def roles(self) -> set[str]:
        """The user's roles (admin, records, …)."""
        return {row.role for row in self.role_rows}

    def has_role(self, role: str) -> bool:
        """True when the user holds role."""
        return role in self.roles

    @property
    def family_name(self) -> str:
        """The family name for seals: the display name up to the first space (half or full width)."""
        return re.split(r"[\s\u3000]+", self.display_name.strip(), maxsplit=1)[0]


# User names are unique regardless of case (migration 0004_username_nocase; directory.get_user).
Index("uq_users_username_lower", func.lower(User.username), unique=True)


class UserRole(Base):
    """One role held by one user; roles come from LDAP groups or `workspace users`."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    user: Mapped[User] = relationship(back_populates="role_rows")


class UserSession(Base):
    """A signed-in browser session; revoking the row ends it wherever the cookie is."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is stored; the secret is shown once at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))  # first characters, so a user can tell tokens apart
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class AuditEntry(Base):
    """One append-only audit record; hash = sha256(prev_hash + canonical content)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """A single row locked by every append, so concurrent writers extend the chain one at a time."""

    __tablename__ = "audit_head"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(16), default="main")
    last_hash: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=0)


class SyncRun(Base):
    """The record of one directory sync, shown to administrators."""

    __tablename__ = "directory_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deactivated: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class LiveSocket(Base):
    """A connected Socket.IO client, so a deactivation can end it in whichever process holds it."""

    __tablename__ = "live_sockets"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_id: Mapped[int | None] = mapped_column(Integer)
    connected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AccessEpoch(Base):
    """One counter, raised in the same transaction as any change to who may hear what.

    Every server process compares it with the value it last saw, before it delivers a room event and
    every few seconds, and re-checks its own sockets when it moved (workspace.live_access). So a
    change made anywhere — a CLI command, a directory sync, another process — reaches the open
    sockets of this process even without a message queue between them.
    """

    __tablename__ = "access_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class OutboxJob(Base):
    """Work owed after a change, written in the same transaction as the change (workspace.outbox).

    The row is the record that the work is owed: a crash after the commit loses nothing, the next
    worker round (or the next start) does it. A job names its kind and the object it concerns; the
    handler reads that object's current state, so running a job twice is harmless.
    """

    __tablename__ = "outbox_jobs"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    ref: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AdminJob(Base):
    """A long piece of 管理 work run in the background (workspace.admin.jobs): 同期, 再構築, 改ざん検証 ….

    ``active_kind`` holds the kind while the job is queued or running and is NULL after: its unique
    index is what makes a second start of the same kind return the running job instead of a second
    run, on both databases and across processes.
    """

    __tablename__ = "admin_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    active_kind: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
