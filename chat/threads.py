"""Threads: a message and its replies, one level deep (a reply to a reply joins the same thread)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from chat import messages
from chat.errors import ChatError, not_found
from chat.models import Message
from workspace import db
from workspace.models import User

THREAD_MAX = 500  # far more replies than an office thread has; keeps one answer bounded


def thread(user: User, message_id: Any) -> tuple[Message, list[Message]]:
    """Return (parent, replies ascending by id) of the thread the message belongs to.

    Asked for a reply, it answers with the reply's whole thread. 404 unless the user is a member of
    the message's channel (403 becomes 404 here). Deleted replies keep their place, bodiless.
    """
    try:
        message, _channel = messages.get_visible(user, message_id)
    except ChatError as error:
        # Not only private channels: another 課's thread is not the caller's to know about either.
        raise not_found() if error.status == 403 else error from None
    parent = message
    if message.thread_id is not None:
        parent = db.session().get(Message, message.thread_id) or message
    rows = db.session().execute(
        select(Message).where(Message.thread_id == parent.id).order_by(Message.id).limit(THREAD_MAX)
    )
    return parent, list(rows.unique().scalars())
