"""Reactions and pins: small acknowledgements on a message that every member of its channel sees.

Both follow the write path of messages: check → write → commit → tell the channel's room.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from chat import channels, messages, notices, rooms
from chat.errors import ChatError
from chat.models import Message, Reaction
from workspace import audit, calendar, db, realtime
from workspace.models import User, utcnow

MAX_KINDS_PER_MESSAGE = 20

# The reactions the picker offers: calm, office-appropriate, each with a Japanese name for screen
# readers. Emoji are drawn from the app's own SVG files (chat/static/reactions/), word reactions as
# text chips, so they look the same on an office PC without an emoji font. Stored as the emoji (a 👍
# from before the picker is the same reaction) or, for the words, as a :shortcode:.
PICKER: tuple[dict[str, str], ...] = (
    {"emoji": "👍", "name": "いいね", "image": "reactions/thumbs-up.svg"},
    {"emoji": ":ryokai:", "name": "了解", "text": "了解"},
    {"emoji": "🙏", "name": "お願いします", "image": "reactions/pray.svg"},
    {"emoji": ":arigato:", "name": "ありがとう", "text": "ありがとう"},
    {"emoji": ":otsukare:", "name": "お疲れさま", "text": "お疲れさま"},
    {"emoji": "😊", "name": "にっこり", "image": "reactions/smile.svg"},
    {"emoji": "🎉", "name": "おめでとう", "image": "reactions/party.svg"},
    {"emoji": "👀", "name": "確認中", "image": "reactions/eyes.svg"},
    {"emoji": "✅", "name": "対応済み", "image": "reactions/check.svg"},
)
_SHORTCODE = re.compile(r":[a-z0-9_+-]{1,30}:")


def check_emoji(value: Any) -> str:
    """Return an emoji (up to 8 non-ASCII code points, e.g. 👍 or 🙇‍♂️) or a :shortcode:; else 422."""
    if isinstance(value, str):
        if _SHORTCODE.fullmatch(value):
            return value
        if 0 < len(value) <= 8 and all(ord(c) > 0x7F and c.isprintable() or c == "\u200d" for c in value):
            return value
    raise ChatError(422, "emoji は絵文字1つか :shortcode: で指定してください。", "invalid")


def summary(message: Message) -> list[dict[str, Any]]:
    """[{"emoji", "count", "users": [usernames]}] in the order each emoji was first used."""
    rows = db.session().execute(
        select(Reaction.emoji, User.username)
        .join(User, User.id == Reaction.user_id)
        .where(Reaction.message_id == message.id)
        .order_by(Reaction.id)
    )
    grouped: dict[str, list[str]] = {}
    for emoji, username in rows:
        grouped.setdefault(emoji, []).append(username)
    return [{"emoji": e, "count": len(u), "users": u} for e, u in grouped.items()]


def summaries(message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """summary() for many messages in one query (a history page)."""
    if not message_ids:
        return {}
    rows = db.session().execute(
        select(Reaction.message_id, Reaction.emoji, User.username)
        .join(User, User.id == Reaction.user_id)
        .where(Reaction.message_id.in_(message_ids))
        .order_by(Reaction.id)
    )
    grouped: dict[int, dict[str, list[str]]] = {}
    for message_id, emoji, username in rows:
        grouped.setdefault(message_id, {}).setdefault(emoji, []).append(username)
    return {
        m: [{"emoji": e, "count": len(u), "users": u} for e, u in kinds.items()]
        for m, kinds in grouped.items()
    }


def _writable(user: User, message_id: Any) -> Message:
    message, channel = messages.get_visible(user, message_id)

    channels.require_member(user, channel.id, write=True)
    if message.deleted_at is not None:
        raise ChatError(409, "このメッセージは削除されています。", "deleted")
    return message


def _announce(message: Message, event: str, payload: dict[str, Any]) -> None:
    room = rooms.channel_room(message.channel_id)
    db.on_commit(lambda: realtime.emit_to_room(room, event, payload))


@db.writes
def react(user: User, message_id: Any, emoji: Any) -> tuple[list[dict[str, Any]], bool]:
    """Add the user's reaction (idempotent); commit; announce reaction:updated. Returns (summary, added)."""
    message = _writable(user, message_id)
    emoji = check_emoji(emoji)
    session = db.session()
    exists = session.execute(
        select(Reaction.id).where(
            Reaction.message_id == message.id, Reaction.user_id == user.id, Reaction.emoji == emoji
        )
    ).first()
    if exists is not None:
        return summary(message), False
    kinds = {r["emoji"] for r in summary(message)}
    if emoji not in kinds and len(kinds) >= MAX_KINDS_PER_MESSAGE:
        raise ChatError(422, f"リアクションの種類は{MAX_KINDS_PER_MESSAGE}までです。", "too_many_reactions")
    try:
        with session.begin_nested():  # a savepoint: the unit goes on without the duplicate
            session.add(Reaction(message_id=message.id, user_id=user.id, emoji=emoji, created_at=utcnow()))
    except IntegrityError:  # the same reaction from a double click that raced this one
        return summary(message), False
    result = summary(message)
    _announce(
        message,
        "reaction:updated",
        {"message_id": message.id, "channel_id": message.channel_id, "reactions": result},
    )
    notices.reacted(user, message, emoji)
    return result, True


@db.writes
def unreact(user: User, message_id: Any, emoji: Any) -> list[dict[str, Any]]:
    """Remove the user's reaction if present; commit; announce reaction:updated. Returns the summary."""
    message = _writable(user, message_id)
    emoji = check_emoji(emoji)
    session = db.session()
    row = session.execute(
        select(Reaction).where(
            Reaction.message_id == message.id, Reaction.user_id == user.id, Reaction.emoji == emoji
        )
    ).scalar_one_or_none()
    if row is None:
        return summary(message)
    session.delete(row)
    session.flush()
    result = summary(message)
    _announce(
        message,
        "reaction:updated",
        {"message_id": message.id, "channel_id": message.channel_id, "reactions": result},
    )
    return result


@db.writes
def set_pinned(user: User, message_id: Any, pinned: bool) -> Message:
    """Pin or unpin a message (any member may); audited; commit; announce pin:updated."""
    message = _writable(user, message_id)
    if (message.pinned_at is not None) == pinned:
        return message
    message.pinned_at = utcnow() if pinned else None
    audit.record(
        "chat.message.pin" if pinned else "chat.message.unpin",
        actor=user.username,
        target=f"message:{message.id}",
        detail={"channel_id": message.channel_id},
    )
    payload = {
        "message_id": message.id,
        "channel_id": message.channel_id,
        "pinned": pinned,
        "pinned_at": calendar.isoformat(message.pinned_at),
        "by": user.username,
    }
    _announce(message, "pin:updated", payload)
    return message


def pinned(user: User, channel_id: Any) -> list[Message]:
    """Return the channel's pinned messages (not deleted), newest pin first, to a member."""

    channel, _member = channels.require_member(user, channel_id)
    rows = db.session().execute(
        select(Message)
        .where(
            Message.channel_id == channel.id,
            Message.pinned_at.is_not(None),
            Message.deleted_at.is_(None),
        )
        .order_by(Message.pinned_at.desc(), Message.id.desc())
        .limit(100)
    )
    return list(rows.unique().scalars())
