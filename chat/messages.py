"""Message rules: post (idempotent, rate limited, mentions), edit with history, soft delete, history pages.

Every write follows one path: check → write → commit → tell. The Socket.IO events and the search
signal go out only after the commit, so nobody is told of a message the database does not hold.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import current_app
from limits import parse_many
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from chat import attachments, channels, mentions, notices, rooms
from chat.errors import ChatError, config_int, not_found
from chat.models import Channel, Member, Message, MessageEdit, ReadMark
from workspace import audit, calendar, db, inputs, realtime, signals
from workspace.extensions import limiter
from workspace.models import User, utcnow
from workspace.text import TextRefused, clean_text

DEFAULT_MAX_LENGTH = 4000
DEFAULT_EDIT_LOCK_MINUTES = 30
# Lets a bot, an RPA job or the benchmark send 10 a second for a minute; a runaway loop hits a wall.
DEFAULT_RATE_LIMIT = "20 per second;720 per minute"
CLIENT_MSG_ID_MAX = 64
PAGE_DEFAULT = 50
PAGE_MAX = 200

# C0/C1 controls other than tab and newline have no place in a chat message and can fool log viewers.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


# --- shape -------------------------------------------------------------------------------------


def message_json(message: Message, *, reply_count: int | None = None) -> dict[str, Any]:
    """The public shape of a message. A deleted message keeps its id and place but shows no body.

    reply_count: the replies to this message when the caller knows it (a page counts them all in one
    query, a new message has none); otherwise it is counted here. Replies themselves have 0.
    """
    deleted = message.deleted_at is not None
    if reply_count is None:
        reply_count = 0 if message.thread_id is not None else reply_counts([message.id]).get(message.id, 0)
    return {
        "id": message.id,
        "channel_id": message.channel_id,
        "author": {"username": message.author.username, "display_name": message.author.display_name},
        "body": "" if deleted else message.body,
        "created_at": calendar.isoformat(message.created_at),
        "edited_at": calendar.isoformat(message.edited_at),
        "thread_id": message.thread_id,
        "also_in_channel": bool(message.also_in_channel),
        "reply_count": reply_count,
        "client_msg_id": message.client_msg_id,
        "deleted": deleted,
        "pinned_at": None if deleted else calendar.isoformat(message.pinned_at),
        # A deleted message's files are hidden with its body (administrators see them in the export).
        "attachments": [] if deleted else [attachments.attachment_json(a) for a in message.attachments],
    }


def reply_counts(message_ids: list[int]) -> dict[int, int]:
    """Return {parent id: number of its replies that are not deleted} for the parents that have any."""
    if not message_ids:
        return {}
    rows = db.session().execute(
        select(Message.thread_id, func.count(Message.id))
        .where(Message.thread_id.in_(message_ids), Message.deleted_at.is_(None))
        .group_by(Message.thread_id)
    )
    return {parent: int(n) for parent, n in rows}


def _announce_reply_count(channel_id: int, parent_id: int) -> None:
    """After commit, tell the channel the parent's reply count (thread:updated), counted now.

    The count is the database's, not an increment, so a client that missed an event is put right by
    the next one.
    """
    payload = {
        "channel_id": channel_id,
        "thread_id": parent_id,
        "reply_count": reply_counts([parent_id]).get(parent_id, 0),
    }
    room = rooms.channel_room(channel_id)
    db.on_commit(lambda: realtime.emit_to_room(room, "thread:updated", payload))


# --- validation --------------------------------------------------------------------------------


def check_body(body: Any, *, allow_empty: bool = False) -> str:
    """Return the cleaned body or raise ChatError (400 wrong type, 422 empty, 413 too long).

    allow_empty: a message that carries attachments may have no text.
    """
    if body is None and allow_empty:
        body = ""
    if not isinstance(body, str):
        raise ChatError(400, "body は文字列で指定してください。", "bad_request")
    # Stray controls from a paste are dropped as before; what the shared rule refuses (bidi
    # overrides, lone surrogates) is refused, and the rest is NFC like every other text.
    try:
        body = clean_text(_CONTROLS.sub("", body), "メッセージ").strip()
    except TextRefused as error:
        raise ChatError(422, str(error), "invalid") from None
    if not body and not allow_empty:
        raise ChatError(422, "メッセージを入力してください。", "empty")
    limit = config_int("CHAT_MAX_LENGTH", DEFAULT_MAX_LENGTH)
    if len(body) > limit:
        raise ChatError(413, f"メッセージは{limit}文字以内にしてください。", "too_long")
    return body


def check_client_msg_id(value: Any) -> str | None:
    """Return the client's idempotency key (1–64 printable characters) or None; raise on bad input."""
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= CLIENT_MSG_ID_MAX or _CONTROLS.search(value):
        raise ChatError(400, "client_msg_id は64文字以内の文字列で指定してください。", "bad_request")
    return value


def _check_thread(channel: Channel, thread_id: Any) -> int | None:
    if thread_id is None:
        return None
    if not inputs.is_json_int(thread_id):
        raise ChatError(400, "thread_id は整数で指定してください。", "bad_request")
    parent = db.session().get(Message, thread_id) if inputs.json_id(thread_id) else None
    if parent is None or parent.channel_id != channel.id or parent.deleted_at is not None:
        raise ChatError(422, "返信先のメッセージが見つかりません。", "bad_thread")
    # Threads are one level deep: a reply to a reply joins the same thread.
    return parent.thread_id or parent.id


def check_also_in_channel(value: Any, thread: int | None) -> bool:
    """Return the also_in_channel flag (False when absent); 400 if not a boolean, 422 without a thread."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ChatError(400, "also_in_channel は true か false で指定してください。", "bad_request")
    if value and thread is None:
        raise ChatError(422, "チャンネルにも投稿できるのはスレッドへの返信だけです。", "not_a_reply")
    return value


def _check_rate(user: User) -> None:
    spec = str(current_app.config.get("CHAT_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
    for item in parse_many(spec):
        if not limiter.limiter.hit(item, "chat-send", str(user.id)):
            raise ChatError(429, "送信が多すぎます。しばらく待ってからもう一度お試しください。", "throttled")


# --- posting -----------------------------------------------------------------------------------


# Statements of every post, built once (building one costs about as much as running it on SQLite).
_EXISTING = select(Message.id).where(
    Message.channel_id == bindparam("channel_id"),
    Message.author_id == bindparam("author_id"),
    Message.client_msg_id == bindparam("client_msg_id"),
)
_ADVANCE_READ = (
    update(Member.__table__)
    .where(
        Member.__table__.c.id == bindparam("member_id"),
        # Forward only, even if a mark-read committed a later position since we read the row.
        Member.__table__.c.last_read_id < bindparam("last_read_id"),
    )
    .values(last_read_id=bindparam("last_read_id"))
)
_READ_MARK = insert(ReadMark.__table__)


def _existing(channel_id: int, author_id: int, client_msg_id: str) -> Message | None:
    params = {"channel_id": channel_id, "author_id": author_id, "client_msg_id": client_msg_id}
    found = db.session().execute(_EXISTING, params).scalar_one_or_none()
    return None if found is None else db.session().get(Message, found)


@db.writes
def post(
    author: User,
    channel_id: Any,
    body: Any,
    *,
    thread_id: Any = None,
    also_in_channel: Any = None,
    client_msg_id: Any = None,
    attachment_ids: Any = None,
) -> tuple[Message, bool]:
    """Store a message and announce it after commit. Returns (message, created).

    A reply (thread_id) is drawn in its thread; with also_in_channel true it is drawn in the channel's
    timeline too. Its parent's new reply count is announced as thread:updated.

    A send retried with the same client_msg_id returns the first message (created False) and
    announces nothing again. attachment_ids names the author's pending uploads in this channel
    (see attachments.upload); the message then carries them and may have an empty body.
    Raises ChatError for every refusal; nothing is written then.
    """
    channel, member = channels.require_member(author, channel_id, write=True)
    upload_ids = attachments.check_ids(attachment_ids)
    text = check_body(body, allow_empty=bool(upload_ids))
    key = check_client_msg_id(client_msg_id)
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        # Lock the channel row: on PostgreSQL, messages of one channel then commit in id order, so a
        # client that has seen id N and asks for "after N" can never miss a smaller id committed
        # later. It also serialises the idempotency check. (SQLite's BEGIN IMMEDIATE already
        # serialises writers, and it has no row locks: the statement would only cost time.)
        session.execute(select(Channel.id).where(Channel.id == channel.id).with_for_update())
    if key is not None and (found := _existing(channel.id, author.id, key)) is not None:
        return found, False
    thread = _check_thread(channel, thread_id)
    broadcast = check_also_in_channel(also_in_channel, thread)
    _check_rate(author)
    message = Message(
        channel_id=channel.id,
        author_id=author.id,
        body=text,
        thread_id=thread,
        also_in_channel=broadcast,
        client_msg_id=key,
        created_at=utcnow(),
        attachments=[],  # known to be none (or bind's): message_json need not load them back
    )
    attachments.bind(author, channel, message, upload_ids)
    session.add(message)
    # A second send with the same key cannot race past the check above: the channel lock
    # (PostgreSQL) or the writer lock (SQLite) serialises it, so the unique key never fires here.
    session.flush()
    # The author as loaded, without marking the message changed (that would cost another flush).
    set_committed_value(message, "author", author)
    # Writing a message means having read the channel up to it. Plain statements, not unit-of-work
    # objects: this runs for every message, and nothing later in the request reads the rows back.
    if message.id > member.last_read_id:
        session.execute(_ADVANCE_READ, {"member_id": member.id, "last_read_id": message.id})
        set_committed_value(member, "last_read_id", message.id)
    session.execute(
        _READ_MARK,
        {"channel_id": channel.id, "user_id": author.id, "last_read_id": message.id, "read_at": utcnow()},
    )
    payload = message_json(message, reply_count=0)  # a new message has no replies yet
    room = rooms.channel_room(channel.id)
    db.on_commit(lambda: realtime.emit_to_room(room, "message:new", payload))
    if thread is not None:
        _announce_reply_count(channel.id, thread)
    # The 通知 rows join this transaction: a message is never stored without them, nor they without it.
    notices.message_posted(channel, author, message, mentioned_user_ids(channel, author, text))
    _announce(signals.message_created, message.id, channel.id)
    return message, True


def _announce(signal: Any, message_id: int, channel_id: int) -> None:
    # Inside the write unit, before it commits: what receivers owe (the search index row) commits
    # with the message or not at all (workspace/signals.py).
    signal.send(current_app._get_current_object(), message_id=message_id, channel_id=channel_id)


def mentions_me(user: User, body: str) -> bool:
    """True when ``body`` names ``user`` (@氏名 or @username) or the whole channel (@channel, @all, @here).

    Only the user is a candidate here, so ``@加藤 浩二`` also counts for 加藤 浩; mentioned_user_ids,
    which knows the channel's members, tells them apart.
    """
    found = mentions.find(body, [mentions.Candidate(user.id, user.username, user.display_name)])
    return found.channel_wide or user.id in found.user_ids


def member_candidates(channel_id: int) -> list[mentions.Candidate]:
    """The channel's members as people a message may name."""
    rows = db.session().execute(
        select(User.id, User.username, User.display_name)
        .join(Member, Member.user_id == User.id)
        .where(Member.channel_id == channel_id)
    )
    return [mentions.Candidate(*row) for row in rows]


def mentioned_user_ids(channel: Channel, author: User, text: str) -> set[int]:
    """Return the members named by @氏名 or @username, or all members for @channel/@all/@here; never
    the author.

    Only members count: naming an outsider must not tell them a private channel exists.
    """
    if "@" not in text and "＠" not in text:
        return set()
    candidates = member_candidates(channel.id)
    found = mentions.find(text, candidates)
    chosen = {c.user_id for c in candidates} if found.channel_wide else set(found.user_ids)
    chosen.discard(author.id)
    return chosen


# --- editing and deleting ------------------------------------------------------------------------


def get_visible(user: User, message_id: Any) -> tuple[Message, Channel]:
    """Return a message in a channel the user belongs to, or raise 404/403 as channels do."""
    if inputs.json_id(message_id) is None:
        raise not_found()
    message = db.session().get(Message, message_id)
    if message is None:
        raise not_found()
    try:
        channel, _member = channels.require_member(user, message.channel_id)
    except ChatError as error:
        # A message is only as visible as its channel; for a known channel, refuse without detail.
        raise not_found() if error.status == 404 else error from None
    return message, channel


def _check_own_and_unlocked(user: User, message: Message) -> None:
    if message.author_id != user.id:
        raise ChatError(403, "自分のメッセージだけを編集・削除できます。", "not_author")
    if message.deleted_at is not None:
        raise ChatError(409, "このメッセージは削除されています。", "deleted")
    minutes = config_int("CHAT_EDIT_LOCK_MINUTES", DEFAULT_EDIT_LOCK_MINUTES)
    created = message.created_at if message.created_at.tzinfo else message.created_at.replace(tzinfo=dt.UTC)
    if minutes >= 0 and utcnow() - created > dt.timedelta(minutes=minutes):
        # Office chat can be evidence: after the lock, what was said stays as it was said.
        raise ChatError(409, f"投稿から{minutes}分を過ぎたメッセージは編集・削除できません。", "locked")


@db.writes
def edit(user: User, message_id: Any, body: Any) -> Message:
    """Change the body of one's own message, keeping the previous text; commit; announce."""
    message, channel = get_visible(user, message_id)
    channels.check_writable(channel)
    text = check_body(body)
    _check_own_and_unlocked(user, message)
    if text == message.body:
        return message
    session = db.session()
    session.add(MessageEdit(message_id=message.id, previous_body=message.body, editor_id=user.id))
    message.body, message.edited_at = text, utcnow()
    session.flush()
    payload = message_json(message)
    room = rooms.channel_room(channel.id)
    db.on_commit(lambda: realtime.emit_to_room(room, "message:edited", payload))
    notices.message_edited(user, message, mentioned_user_ids(channel, user, text))
    _announce(signals.message_edited, message.id, channel.id)
    return message


@db.writes
def delete(user: User, message_id: Any) -> Message:
    """Soft-delete one's own message: hidden from members, kept with its history for administrators."""
    message, channel = get_visible(user, message_id)
    channels.check_writable(channel)
    _check_own_and_unlocked(user, message)
    session = db.session()
    message.deleted_at, message.deleted_by_id = utcnow(), user.id
    audit.record(
        "chat.message.delete",
        actor=user.username,
        target=f"message:{message.id}",
        detail={"channel_id": channel.id},
    )
    payload = {"id": message.id, "channel_id": channel.id}
    room = rooms.channel_room(channel.id)
    db.on_commit(lambda: realtime.emit_to_room(room, "message:deleted", payload))
    if message.thread_id is not None:
        session.flush()  # the count below must no longer include this reply
        _announce_reply_count(channel.id, message.thread_id)
    _announce(signals.message_deleted, message.id, channel.id)
    return message


# --- reading history ---------------------------------------------------------------------------


def _page_arg(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    number = inputs.parse_int(value, 0, inputs.ID_MAX)
    if number is None:
        raise ChatError(400, f"{name} は0以上の整数（半角数字）で指定してください。", "bad_request")
    return number


def history(
    user: User, channel_id: Any, *, after: Any = None, before: Any = None, limit: Any = None
) -> list[Message]:
    """Return up to limit messages ascending by id.

    With after: the oldest ones after it (catch-up walks forward without gaps). Otherwise the newest
    ones (before before, if given). Deleted messages are included, bodiless, so a client can drop them.
    """
    channel, _member = channels.require_member(user, channel_id)
    after_id, before_id = _page_arg(after, "after"), _page_arg(before, "before")
    count = _page_arg(limit, "limit")
    count = PAGE_DEFAULT if count is None else max(1, min(count, PAGE_MAX))
    query = select(Message).where(Message.channel_id == channel.id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    if after_id is not None:
        rows = db.session().execute(query.where(Message.id > after_id).order_by(Message.id).limit(count))
        return list(rows.unique().scalars())
    rows = db.session().execute(query.order_by(Message.id.desc()).limit(count))
    return list(reversed(rows.unique().scalars().all()))


def edit_history(user: User, message_id: Any) -> list[MessageEdit]:
    """Return a message's earlier bodies (oldest first) to a member of its channel."""
    message, _channel = get_visible(user, message_id)
    if message.deleted_at is not None:
        raise ChatError(409, "このメッセージは削除されています。", "deleted")
    return list(
        db.session()
        .execute(select(MessageEdit).where(MessageEdit.message_id == message.id).order_by(MessageEdit.id))
        .scalars()
    )
