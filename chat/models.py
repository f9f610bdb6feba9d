"""Chat tables: channels, members (with read position), messages, edit history, read marks, reactions,
attachments."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workspace.db import Base
from workspace.models import Department, User, UTCDateTime, utcnow

KINDS = ("department", "public", "private", "direct")


class Channel(Base):
    """A conversation: a 課's channel, a public or private channel, or a (group) direct message."""

    __tablename__ = "chat_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # one of KINDS
    name: Mapped[str] = mapped_column(String(100), default="")
    # 説明: what a public or private channel is for, shown when browsing channels to join.
    description: Mapped[str] = mapped_column(String(250), default="", server_default="")
    # Exactly one channel per 課: the unique key makes a second one impossible even under a race.
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), unique=True
    )
    # For direct messages: the sorted member ids ("3,8,12"), so one set of people has one DM.
    direct_key: Mapped[str | None] = mapped_column(String(500), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # None = keep forever; otherwise `workspace chat purge` removes older messages.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Set by an administrator (chat/archive.py): the channel is read-only for its members and left
    # out of their channel list; None = in use.
    archived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    department: Mapped[Department | None] = relationship(lazy="joined")


class Member(Base):
    """One person in one channel, with how far they have read."""

    __tablename__ = "chat_members"
    __table_args__ = (UniqueConstraint("channel_id", "user_id", name="uq_chat_members_channel_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_read_id: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship(lazy="joined")
    channel: Mapped[Channel] = relationship()


class Message(Base):
    """A message. Never physically removed by a user: delete sets deleted_at and keeps the body."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        # The idempotency key of a retried send: one author, one channel, one client id → one row.
        UniqueConstraint("channel_id", "author_id", "client_msg_id", name="uq_chat_messages_client_msg"),
        Index("ix_chat_messages_channel_id_id", "channel_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("chat_messages.id"), index=True)
    # A reply its author also posted to the channel: drawn in the timeline as well as in its thread.
    # Other replies live only in their thread (and do not count as unread in the channel).
    also_in_channel: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    client_msg_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    pinned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="message", lazy="selectin", order_by="Attachment.id", passive_deletes=True
    )


class MessageEdit(Base):
    """The body a message had before one edit: the edit history kept as evidence."""

    __tablename__ = "chat_message_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    previous_body: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ReadMark(Base):
    """Each advance of a member's read position, so 'who read message N, and when' has an answer."""

    __tablename__ = "chat_read_marks"
    __table_args__ = (Index("ix_chat_read_marks_channel_user", "channel_id", "user_id", "last_read_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    last_read_id: Mapped[int] = mapped_column(Integer)
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reaction(Base):
    """One person's emoji reaction on one message."""

    __tablename__ = "chat_reactions"
    __table_args__ = (
        UniqueConstraint("message_id", "user_id", "emoji", name="uq_chat_reactions_message_user_emoji"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Base):
    """A file posted in a channel. The bytes live in the content-addressed store under their sha256.

    An upload first exists on its own (message_id None, visible only to its uploader) and is bound to
    the message that carries it when that message is posted. Several rows may share one sha256.
    """

    __tablename__ = "chat_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("chat_channels.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_messages.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # The thumbnail of an image is a file of its own in the same store; None for other kinds.
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    message: Mapped[Message | None] = relationship(back_populates="attachments")
