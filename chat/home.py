"""The チャット part of 今日の仕事: channels with unread messages and my unread mentions and replies."""

from __future__ import annotations

from typing import Any

from chat import channels, reads
from workspace import notifications
from workspace.models import User


def today(user: User) -> dict[str, Any]:
    """Return the chat fields of 今日の仕事 for ``user`` (only channels they belong to).

    mentions_unread counts my unread 通知 of kind mention and reply: the same notices the header
    badge and the 通知 page show, so the home page and the list can never disagree.
    """
    unread = [(channel, n) for channel, n in reads.my_channels(user) if n > 0]
    return {
        "channels_unread": [
            {"id": c.id, "name": channels.display_name(c, user), "unread": n} for c, n in unread
        ],
        "mentions_unread": notifications.unread_count(user, ("mention", "reply")),
    }
