"""Retention of chat: a period per channel, and the purge that removes what is older than it.

A channel's retention_days is None by default: keep forever. Only an administrator sets it,
because how long office chat is kept is a records-management decision of the village (like a
document's 保存年限), not one for the people in the conversation. The purge is a hard delete: the
messages, their edit history, reactions and attachment rows go, then every stored file no row refers
to any more. Each batch commits together with an audit entry naming the channel and the counts, and
is announced to the channel as ``messages:purged`` ``{"channel_id", "ids"}``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update

from chat import files, rooms
from chat.errors import ChatError, config_int, not_found
from chat.models import Attachment, Channel, Message, MessageEdit, Reaction
from workspace import audit, db, inputs, realtime, signals
from workspace.models import User, utcnow

RETENTION_MAX_DAYS = 36500  # 100 years; "forever" is None, not a large number
BATCH = 500
DEFAULT_PENDING_HOURS = 24


@dataclass
class PurgeResult:
    """What one run removed from one channel (channel_id None: unsent uploads of every channel)."""

    channel_id: int | None
    retention_days: int | None
    messages: int = 0
    attachments: int = 0
    files: int = 0
    message_ids: list[int] = field(default_factory=list)


def check_days(value: Any) -> int | None:
    """Return a retention in days (1–36500) or None (keep forever); raise ChatError 422 otherwise."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= RETENTION_MAX_DAYS:
        raise ChatError(
            422, f"retention_days は1〜{RETENTION_MAX_DAYS}の整数か null で指定してください。", "invalid"
        )
    return value


@db.writes
def set_retention(admin: User, channel_id: Any, days: Any) -> Channel:
    """Set (or clear, with None) a channel's retention; audited; commit. Administrators only (403)."""
    if not admin.has_role("admin"):
        # Refused before any lookup: a non-administrator learns nothing about which ids exist.
        raise ChatError(403, "保存期間を変更できるのは管理者だけです。", "forbidden")
    if inputs.json_id(channel_id) is None:
        raise not_found()
    channel = db.session().get(Channel, channel_id)
    if channel is None:
        raise not_found()
    new = check_days(days)
    old = channel.retention_days
    channel.retention_days = new
    audit.record(
        "chat.channel.retention",
        actor=admin.username,
        target=f"channel:{channel.id}",
        detail={"from": old, "to": new},
    )
    return channel


def purge(now: dt.datetime | None = None, actor: str = "system") -> list[PurgeResult]:
    """Hard-delete every message older than its channel's retention, and unsent uploads left behind.

    Returns one result per channel that lost something (and one with channel_id None for unsent
    uploads). Safe to run again; a run interrupted between batches leaves only whole batches done.
    """
    now = now or utcnow()
    session = db.session()
    rows = session.execute(
        select(Channel.id, Channel.retention_days)
        .where(Channel.retention_days.is_not(None))
        .order_by(Channel.id)
    ).all()
    results = []
    for channel_id, days in rows:
        result = _purge_channel(channel_id, days, now - dt.timedelta(days=days), actor)
        if result.messages:
            results.append(result)
    pending = _purge_pending(now, actor)
    if pending.attachments:
        results.append(pending)
    return results


def _purge_channel(channel_id: int, days: int, cutoff: dt.datetime, actor: str) -> PurgeResult:
    result = PurgeResult(channel_id, days)
    session = db.session()
    while True:
        with db.write():  # one batch
            ids = list(
                session.execute(
                    select(Message.id)
                    .where(Message.channel_id == channel_id, Message.created_at < cutoff)
                    .order_by(Message.id)
                    .limit(BATCH)
                ).scalars()
            )
            if not ids:
                return result
            digests = _digests(Attachment.message_id.in_(ids))
            # A reply kept longer than its purged parent stays, as a message of its own.
            session.execute(
                update(Message)
                .where(Message.thread_id.in_(ids), Message.id.not_in(ids))
                .values(thread_id=None)
                .execution_options(synchronize_session=False)
            )
            removed_attachments = _delete(Attachment, Attachment.message_id.in_(ids))
            _delete(MessageEdit, MessageEdit.message_id.in_(ids))
            _delete(Reaction, Reaction.message_id.in_(ids))
            # Replies before parents is not needed: the foreign key is checked at the end of the statement.
            removed = _delete(Message, Message.id.in_(ids))
            orphans = _unreferenced(digests)
            audit.record(
                "chat.purge",
                actor=actor,
                target=f"channel:{channel_id}",
                detail={
                    "retention_days": days,
                    "cutoff": cutoff.isoformat(),
                    "messages": removed,
                    "first_id": ids[0],
                    "last_id": ids[-1],
                    "attachments": removed_attachments,
                    "files": len(orphans),
                },
            )
            app = current_app._get_current_object()
            for message_id in ids:  # the search index drops them: its rows commit with the purge
                signals.message_deleted.send(app, message_id=message_id, channel_id=channel_id)
        result.files += _remove_files(orphans)
        result.messages += removed
        result.attachments += removed_attachments
        result.message_ids.extend(ids)
        # Open chat pages drop the purged messages at once.  From the CLI this reaches the server's
        # sockets only through the message queue (WORKSPACE_REDIS_URL); without one, a page sees the purge on
        # its next load, as the history API no longer returns the messages.
        realtime.emit_to_room(
            rooms.channel_room(channel_id), "messages:purged", {"channel_id": channel_id, "ids": ids}
        )


def _purge_pending(now: dt.datetime, actor: str) -> PurgeResult:
    """Remove uploads never sent with a message within CHAT_PENDING_ATTACHMENT_HOURS."""
    hours = config_int("CHAT_PENDING_ATTACHMENT_HOURS", DEFAULT_PENDING_HOURS)
    cutoff = now - dt.timedelta(hours=hours)
    stale = Attachment.message_id.is_(None) & (Attachment.created_at < cutoff)
    result = PurgeResult(None, None)
    with db.write():
        digests = _digests(stale)
        removed = _delete(Attachment, stale)
        if not removed:
            return result
        orphans = _unreferenced(digests)
        audit.record(
            "chat.purge.unsent",
            actor=actor,
            target="chat:attachments",
            detail={"hours": hours, "attachments": removed, "files": len(orphans)},
        )
    result.attachments = removed
    result.files = _remove_files(orphans)
    return result


def _digests(condition: Any) -> set[str]:
    found: set[str] = set()
    for sha, thumb in db.session().execute(
        select(Attachment.sha256, Attachment.thumbnail_sha256).where(condition)
    ):
        found.add(sha)
        if thumb:
            found.add(thumb)
    return found


def _delete(model: Any, condition: Any) -> int:
    outcome = db.session().execute(
        delete(model).where(condition).execution_options(synchronize_session=False)
    )
    return int(outcome.rowcount or 0)


def _unreferenced(digests: set[str]) -> set[str]:
    """The digests no attachment row refers to any more (as seen inside the current transaction)."""
    if not digests:
        return set()
    used = db.session().execute(
        select(Attachment.sha256, Attachment.thumbnail_sha256).where(
            Attachment.sha256.in_(digests) | Attachment.thumbnail_sha256.in_(digests)
        )
    )
    still = {d for row in used for d in row if d}
    return digests - still


def _remove_files(digests: set[str]) -> int:
    """Remove files after the commit: a rolled-back purge must never have lost a file.

    Checked again first, because an upload of the same bytes may have committed in between.
    """
    if not digests:
        return 0
    orphans = _unreferenced(digests)
    return sum(1 for digest in orphans if files.remove(digest))


def stored_message_count(channel_id: int) -> int:
    """How many messages a channel holds (deleted ones included): for operators and tests."""
    return int(
        db.session().execute(select(func.count(Message.id)).where(Message.channel_id == channel_id)).scalar()
        or 0
    )
