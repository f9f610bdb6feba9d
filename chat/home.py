"""The チャット part of 今日の仕事: channels with unread messages and unread mentions of me."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select

from chat import channels, reads
from chat.messages import mentions_me
from chat.models import Member, Message
from workspace import db
from workspace.models import User

SCAN_LIMIT = 1000  # unread messages read for mentions; beyond that the count is a lower bound


def today(user: User) -> dict[str, Any]:
    """Return the chat fields of 今日の仕事 for ``user`` (only channels they belong to)."""
    unread = [(channel, n) for channel, n in reads.my_channels(user) if n > 0]
    bodies = (
        db.session()
        .execute(
            select(Message.body)
            .join(Member, and_(Member.channel_id == Message.channel_id, Member.user_id == user.id))
            .where(
                Message.id > Member.last_read_id,
                Message.author_id != user.id,
                Message.deleted_at.is_(None),
            )
            .order_by(Message.id.desc())
            .limit(SCAN_LIMIT)
        )
        .scalars()
    )
    return {
        "channels_unread": [
            {"id": c.id, "name": channels.display_name(c, user), "unread": n} for c, n in unread
        ],
        "mentions_unread": sum(1 for body in bodies if mentions_me(user, body)),
    }
