"""Read state: unread counts per channel, each member's read position, and 既読 (who has read what).

A member's position only moves forward. Each advance is also written as a ReadMark, so the readers
of message N and the time each of them reached it can be answered exactly later.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select

from chat import channels, notices, rooms
from chat.errors import ChatError
from chat.messages import get_visible
from chat.models import Channel, Member, Message, ReadMark
from workspace import calendar, db, inputs, realtime
from workspace.models import User, utcnow

# A message the channel's timeline shows: not a reply, or a reply also posted to the channel. A reply
# only in its thread would otherwise count as unread in a channel where nobody can see it.
IN_TIMELINE = or_(Message.thread_id.is_(None), Message.also_in_channel.is_(True))


def my_channels(user: User) -> list[tuple[Channel, int]]:
    """Return (channel, unread count) for every channel the user belongs to, department first.

    An archived channel is left out (the sidebar and 今日の仕事 no longer show it); its members still
    open it by its address and read it.

    Unread = messages by others after the read position that are not deleted and are drawn in the
    timeline (a reply only in its thread is not: see IN_TIMELINE).
    """
    _heal_department_membership(user)
    unread = func.count(Message.id)
    rows = (
        db.session()
        .execute(
            select(Channel, unread)
            .join(Member, and_(Member.channel_id == Channel.id, Member.user_id == user.id))
            .where(Channel.archived_at.is_(None))
            .outerjoin(
                Message,
                and_(
                    Message.channel_id == Channel.id,
                    Message.id > Member.last_read_id,
                    Message.author_id != user.id,
                    Message.deleted_at.is_(None),
                    IN_TIMELINE,
                ),
            )
            .group_by(Channel.id)
            .order_by(Channel.id)
        )
        .unique()
        .all()
    )
    order = {"department": 0, "public": 1, "private": 2, "direct": 3}
    return sorted(((c, int(n)) for c, n in rows), key=lambda cn: (order.get(cn[0].kind, 9), cn[0].id))


def _heal_department_membership(user: User) -> None:
    # Re-enabling an account sends no user_changed signal, so a returning person would otherwise
    # have no 課 channel until their next directory change. Cheap when nothing is missing.
    if not user.active or user.department_id is None:
        return
    has = (
        db.session()
        .execute(
            select(Member.id)
            .join(Channel, Member.channel_id == Channel.id)
            .where(Member.user_id == user.id, Channel.kind == "department")
        )
        .first()
    )
    if has is None:
        channels.sync_department_membership(user)


def unread_count(channel_id: int, user: User, last_read_id: int) -> int:
    """Count messages by others after last_read_id that are not deleted and are in the timeline."""
    return int(
        db.session()
        .execute(
            select(func.count(Message.id)).where(
                Message.channel_id == channel_id,
                Message.id > last_read_id,
                Message.author_id != user.id,
                Message.deleted_at.is_(None),
                IN_TIMELINE,
            )
        )
        .scalar()
        or 0
    )


@db.writes
def mark_read(user: User, channel_id: Any, last_read_id: Any) -> dict[str, Any]:
    """Move the user's read position forward to last_read_id (capped at the newest message); commit.

    Returns {"channel_id", "last_read_id", "unread"}. Announces read:updated to the channel when it moved.
    """
    if inputs.parse_int(last_read_id, 0, inputs.ID_MAX) is None or not inputs.is_json_int(last_read_id):
        raise ChatError(400, "last_read_id は0以上の整数で指定してください。", "bad_request")
    channel, member = channels.require_member(user, channel_id)
    session = db.session()
    newest = (
        session.execute(select(func.max(Message.id)).where(Message.channel_id == channel.id)).scalar() or 0
    )
    target = min(last_read_id, newest)  # nobody can have read a message that does not exist yet
    if target > member.last_read_id:
        member.last_read_id = target
        session.add(ReadMark(channel_id=channel.id, user_id=user.id, last_read_id=target, read_at=utcnow()))
        payload = {"channel_id": channel.id, "username": user.username, "last_read_id": target}
        room = rooms.channel_room(channel.id)
        db.on_commit(lambda: realtime.emit_to_room(room, "read:updated", payload))
        notices.channel_read(user, channel.id, target)
    result = {
        "channel_id": channel.id,
        "last_read_id": member.last_read_id,
        "unread": unread_count(channel.id, user, member.last_read_id),
    }
    return result


def read_positions(user: User, channel_id: Any) -> list[dict[str, Any]]:
    """Return every member's username, display name and read position (for 既読 N in the client)."""
    channel, _member = channels.require_member(user, channel_id)
    return [
        {"username": m.user.username, "display_name": m.user.display_name, "last_read_id": m.last_read_id}
        for m in channels.members(channel.id)
    ]


def read_count(message: Message, positions: list[tuple[int, int]]) -> int:
    """既読 N: members other than the author whose (user_id, last_read_id) has reached the message."""
    return sum(1 for uid, last in positions if uid != message.author_id and last >= message.id)


def readers(user: User, message_id: Any) -> dict[str, list[dict[str, Any]]]:
    """Return who of the channel's current members (author aside) has read the message, and when."""
    message, channel = get_visible(user, message_id)
    people = [m for m in channels.members(channel.id) if m.user_id != message.author_id]
    first_read = dict(
        db.session()
        .execute(
            select(ReadMark.user_id, func.min(ReadMark.read_at))
            .where(ReadMark.channel_id == channel.id, ReadMark.last_read_id >= message.id)
            .group_by(ReadMark.user_id)
        )
        .all()
    )
    read, unread = [], []
    for member in people:
        who = {"username": member.user.username, "display_name": member.user.display_name}
        if member.last_read_id >= message.id:
            read.append({**who, "read_at": calendar.isoformat(first_read.get(member.user_id))})
        else:
            unread.append(who)
    read.sort(key=lambda r: r["read_at"] or "")
    return {"read": read, "unread": unread}
