"""Who in chat gets a 通知, and what it says: mentions, replies in a thread, reactions to one's message.

Called by the writers (messages.post, reactions.react) inside their transaction, before they commit,
so a notice is stored with its cause (workspace.notifications). Only current members of the channel
are told: naming someone outside a private channel must not tell them it exists.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from chat.models import Channel, Member, Message
from workspace import db, notifications
from workspace.models import User


def message_url(message: Message) -> str:
    """Where a notice about a message leads: the chat page, opened at the message.

    A reply is shown under its parent, so the link goes to the parent (the thread) — never to a
    place in the channel where the reply is not drawn.
    """
    anchor = message.thread_id or message.id
    return f"/chat/?channel={message.channel_id}#message-{anchor}"


def message_posted(channel: Channel, author: User, message: Message, mentioned: set[int]) -> None:
    """Tell the mentioned members (kind mention) and the thread's people (kind reply) of a new message.

    A person both mentioned and in the thread gets one notice, the mention: one message, one notice.
    """
    message_edited(author, message, mentioned)
    if message.thread_id is None:
        return
    in_thread = _thread_people(channel, message.thread_id) - mentioned
    if in_thread:
        notifications.notify(
            in_thread,
            "reply",
            f"chat.message:{message.id}",
            f"{author.display_name}さんがスレッドに返信しました：{notifications.excerpt(message.body)}",
            message_url(message),
            actor_id=author.id,
        )


def message_edited(author: User, message: Message, mentioned: set[int]) -> None:
    """Tell the members a message mentions; after an edit, only those it did not notify before.

    (The notice's ref is the message: whoever already has one for it, mention or reply, gets no other.)
    """
    if mentioned:
        notifications.notify(
            mentioned,
            "mention",
            f"chat.message:{message.id}",
            f"{author.display_name}さんがあなたをメンションしました：{notifications.excerpt(message.body)}",
            message_url(message),
            actor_id=author.id,
        )


def _thread_people(channel: Channel, root_id: int) -> set[int]:
    """The author of the thread's parent and everyone who replied in it, if still members."""
    authors = select(Message.author_id).where(
        Message.channel_id == channel.id, or_(Message.id == root_id, Message.thread_id == root_id)
    )
    rows = db.session().execute(
        select(Member.user_id).where(Member.channel_id == channel.id, Member.user_id.in_(authors))
    )
    return set(rows.scalars())


def channel_read(reader: User, channel_id: int, up_to: int) -> None:
    """Reading a channel up to a message reads the mention and reply notices of the messages up to it."""
    prefix = "chat.message:"
    ids = {int(ref[len(prefix) :]) for ref in notifications.unread_refs(reader, prefix)}
    if not ids:
        return
    seen = db.session().execute(
        select(Message.id).where(Message.id.in_(ids), Message.channel_id == channel_id, Message.id <= up_to)
    )
    notifications.read_refs(reader, [f"{prefix}{message_id}" for message_id in seen.scalars()])


def reacted(reactor: User, message: Message, emoji: str) -> None:
    """Tell a message's author that someone else reacted to it (once per person and emoji)."""
    if message.author_id == reactor.id:
        return
    still_member = (
        db.session()
        .execute(
            select(Member.id).where(
                Member.channel_id == message.channel_id, Member.user_id == message.author_id
            )
        )
        .first()
    )
    if still_member is None:
        return
    notifications.notify(
        [message.author_id],
        "reaction",
        f"chat.reaction:{message.id}:{reactor.id}:{emoji}",
        f"{reactor.display_name}さんがあなたのメッセージに{emoji}でリアクションしました："
        f"{notifications.excerpt(message.body)}",
        message_url(message),
        actor_id=reactor.id,
    )
