"""Chat JSON API under /api/v1: parse, check who asks, call a service, render. OpenAPI in docstrings."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user

from chat import channels, messages, reads, rooms, threads
from chat import reactions as chat_reactions
from chat.errors import ChatError
from workspace import calendar
from workspace.web import api_blueprint, api_login_required, json_body

bp = api_blueprint("chat_api", __name__)


def _me() -> Any:
    return current_user._get_current_object()


@bp.get("/channels")
@api_login_required
def list_channels() -> Any:
    """Channels I belong to, with unread counts.
    ---
    get:
      summary: List my channels (or, with scope=joinable, public channels I may join)
      tags: [chat]
      parameters:
        - {name: scope, in: query, required: false, schema: {type: string, enum: [mine, joinable]}}
      responses:
        200:
          description: >-
            {"channels": [{"id", "name", "kind": department|public|private|direct, "description", "unread"}]};
            with scope=joinable each also has "member_count"
        400: {description: 'scope is neither mine nor joinable'}
        401: {description: not signed in}
    """
    me = _me()
    scope = request.args.get("scope", "mine")
    if scope not in ("mine", "joinable"):  # a typo must not silently list something else
        raise ChatError(400, "scope は mine か joinable を指定してください。", "bad_request")
    if scope == "joinable":
        joinable = channels.list_joinable(me)
        counts = channels.member_counts([c.id for c in joinable])
        found = [{**channels.channel_json(c, me), "member_count": counts.get(c.id, 0)} for c in joinable]
    else:
        found = [channels.channel_json(c, me, unread) for c, unread in reads.my_channels(me)]
    return jsonify({"channels": found})


@bp.post("/channels")
@api_login_required
def create_channel() -> Any:
    """Create a channel or a direct message.
    ---
    post:
      summary: Create a public or private channel, or a (group) direct message
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - type: object
                  required: [kind, name]
                  properties:
                    kind: {type: string, enum: [public, private]}
                    name: {type: string, minLength: 1, maxLength: 80, pattern: '\\S'}
                    description: {type: string, maxLength: 250, description: 説明 of the channel}
                    members: {type: array, items: {type: string}, description: usernames to add}
                - type: object
                  required: [kind, members]
                  properties:
                    kind: {type: string, enum: [direct]}
                    members:
                      type: array
                      minItems: 1
                      maxItems: 19
                      items: {type: string}
                      description: the other people (at most 20 with the creator)
      responses:
        201: {description: 'the channel {"id", "name", "kind", "description", "unread"}'}
        200: {description: 'a direct message between the same people already existed; it is returned'}
        400: {description: 'not a JSON object; members not a list of strings; description not a string'}
        422:
          description: >-
            bad kind, missing or too long name or description, unknown username (code unknown_user),
            a direct message with more than 20 people (code too_many_members)
    """
    data = json_body()
    channel, created = channels.create_channel(
        _me(), data.get("name"), data.get("kind"), data.get("members"), data.get("description")
    )
    return jsonify(channels.channel_json(channel, _me())), 201 if created else 200


@bp.get("/channels/<int:channel_id>")
@api_login_required
def get_channel(channel_id: int) -> Any:
    """One channel with its members' read positions.
    ---
    get:
      summary: A channel I belong to, with members and their read positions (for 既読 N)
      tags: [chat]
      responses:
        200:
          description: >-
            {"id", "name", "kind", "unread", "last_read_id", "retention_days" (null = kept forever),
            "archived" (read-only: set by an administrator), "members": [{"username", "display_name",
            "last_read_id"}]}
        403: {description: a department or public channel I have not joined}
        404: {description: 'no such channel, or a private channel I am not in'}
    """
    me = _me()
    channel, member = channels.require_member(me, channel_id)
    body = channels.channel_json(channel, me, reads.unread_count(channel.id, me, member.last_read_id))
    body["last_read_id"] = member.last_read_id
    body["members"] = reads.read_positions(me, channel.id)
    body["retention_days"] = channel.retention_days
    body["archived"] = channel.archived_at is not None
    return jsonify(body)


@bp.post("/channels/<int:channel_id>/join")
@api_login_required
def join_channel(channel_id: int) -> Any:
    """Join a public channel.
    ---
    post:
      summary: Join a public channel
      tags: [chat]
      responses:
        200: {description: the channel}
        403: {description: not a public channel (code not_joinable)}
        404: {description: no such channel}
    """
    channel = channels.join(_me(), channel_id)
    return jsonify(channels.channel_json(channel, _me()))


@bp.post("/channels/<int:channel_id>/leave")
@api_login_required
def leave_channel(channel_id: int) -> Any:
    """Leave a public or private channel.
    ---
    post:
      summary: Leave a public or private channel
      tags: [chat]
      responses:
        204: {description: left}
        403: {description: not a member}
        404: {description: no such channel}
        409: {description: department channels and direct messages cannot be left (code cannot_leave)}
    """
    channels.leave(_me(), channel_id)
    return "", 204


@bp.post("/channels/<int:channel_id>/members")
@api_login_required
def invite_members(channel_id: int) -> Any:
    """Invite people into a public or private channel.
    ---
    post:
      summary: Add members to a public or private channel I belong to
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [members]
              properties:
                members: {type: array, items: {type: string}}
      responses:
        200: {description: '{"added": [usernames]}'}
        403: {description: 'not a member, or a department channel / direct message'}
        404: {description: 'no such channel, or a private channel I am not in'}
        422: {description: unknown username}
    """
    added = channels.invite(_me(), channel_id, json_body().get("members"))
    return jsonify({"added": [p.username for p in added]})


@bp.get("/channels/<int:channel_id>/messages")
@api_login_required
def list_messages(channel_id: int) -> Any:
    """History of a channel, ascending by id.
    ---
    get:
      summary: Messages of a channel (ascending by id)
      description: >
        With after, the oldest messages after that id (use it to catch up after a reconnect, repeating
        until fewer than limit come back). Otherwise the newest messages, before `before` if given.
        Deleted messages keep their place with an empty body and "deleted": true.
      tags: [chat]
      parameters:
        - {name: after, in: query, schema: {type: integer, minimum: 0, maximum: 2147483647}}
        - {name: before, in: query, schema: {type: integer, minimum: 0, maximum: 2147483647}}
        - name: limit
          in: query
          description: more than 200 counts as 200, 0 as 1
          schema: {type: integer, default: 50, minimum: 0, maximum: 2147483647}
      responses:
        200:
          description: >-
            {"messages": [message]}; each message also has "read_count" (既読 N) and
            "reactions": [{"emoji", "count", "users": [usernames]}]. Replies are included (with
            thread_id); a client draws in the timeline only those with thread_id null or
            also_in_channel true, and shows "reply_count" on their parents.
        400: {description: 'after, before or limit is not a non-negative integer'}
        403: {description: a department or public channel I have not joined}
        404: {description: 'no such channel, or a private channel I am not in'}
    """
    me = _me()
    rows = messages.history(
        me,
        channel_id,
        after=request.args.get("after"),
        before=request.args.get("before"),
        limit=request.args.get("limit"),
    )
    positions = [(m["username"], m["last_read_id"]) for m in reads.read_positions(me, channel_id)]
    found = []
    live = [m.id for m in rows if m.deleted_at is None]
    reactions = chat_reactions.summaries(live)
    replies = messages.reply_counts(live)
    for message in rows:
        body = messages.message_json(message, reply_count=replies.get(message.id, 0))
        body["reactions"] = reactions.get(message.id, [])
        body["read_count"] = sum(
            1 for name, last in positions if name != message.author.username and last >= message.id
        )
        found.append(body)
    return jsonify({"messages": found})


@bp.post("/channels/<int:channel_id>/messages")
@api_login_required
def post_message(channel_id: int) -> Any:
    """Post a message.
    ---
    post:
      summary: Post a message (idempotent with client_msg_id)
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              anyOf: [{required: [body]}, {required: [attachment_ids]}]
              properties:
                body:
                  type: string
                  pattern: '\\S'
                  description: >-
                    plain text; at most CHAT_MAX_LENGTH (default 4000) characters. Required unless
                    attachment_ids is given.
                thread_id: {type: integer, description: the message this replies to}
                also_in_channel:
                  type: boolean
                  default: false
                  description: >-
                    a reply that is also drawn in the channel's timeline (「チャンネルにも投稿する」);
                    only with thread_id
                attachment_ids:
                  type: array
                  maxItems: 10
                  items: {type: integer}
                  description: >-
                    my uploads in this channel not yet sent (POST /channels/{id}/attachments);
                    the message carries them
                client_msg_id:
                  type: string
                  maxLength: 64
                  description: a retry with the same id returns the same message
      responses:
        201:
          description: >-
            the message {"id", "channel_id", "author", "body", "created_at", "edited_at",
            "thread_id", "also_in_channel", "reply_count", "client_msg_id", "deleted", "pinned_at",
            "attachments": [{"id", "filename", "size", "mime_type", "width", "height", "url",
            "thumbnail_url"}]}
        200:
          description: >-
            the same client_msg_id was already used in this channel; the first message is returned
        400:
          description: >-
            not a JSON object, body not a string, bad client_msg_id or thread_id type,
            also_in_channel not a boolean
        403: {description: not a member of this department or public channel (code not_member)}
        404: {description: 'no such channel, or a private channel I am not in'}
        413: {description: body longer than the limit (code too_long)}
        422:
          description: >-
            empty body without attachments (code empty), reply target not in this channel
            (code bad_thread), also_in_channel without thread_id (code not_a_reply), an
            attachment id that is not my unsent upload in this channel (code bad_attachment),
            more than 10 (code too_many_attachments)
        429: {description: too many messages (code throttled)}
    """
    data = json_body()
    message, created = messages.post(
        _me(),
        channel_id,
        data.get("body"),
        thread_id=data.get("thread_id"),
        also_in_channel=data.get("also_in_channel"),
        client_msg_id=data.get("client_msg_id"),
        attachment_ids=data.get("attachment_ids"),
    )
    reply_count = 0 if created else None  # a new message has no replies: no need to count them
    return jsonify(messages.message_json(message, reply_count=reply_count)), 201 if created else 200


@bp.get("/messages/<int:message_id>/thread")
@api_login_required
def message_thread(message_id: int) -> Any:
    """A message's thread: the parent and its replies.
    ---
    get:
      summary: The thread of a message (the parent and its replies, ascending by id)
      description: >
        Threads are one level deep; asked for a reply, the answer is that reply's whole thread.
        Deleted replies keep their place with an empty body and "deleted": true. The parent's
        "reply_count" counts the replies that are not deleted. A new reply is announced as
        message:new (with thread_id) and the parent's new count as thread:updated
        {"channel_id", "thread_id", "reply_count"}.
      tags: [chat]
      responses:
        200:
          description: >-
            {"parent": message, "replies": [message]}; each message as in the channel history,
            with "reactions" and "reply_count"
        401: {description: not signed in}
        404: {description: 'no such message, or in a channel I am not a member of (any kind)'}
    """
    me = _me()
    parent, replies = threads.thread(me, message_id)
    shown = [parent, *replies]
    reactions = chat_reactions.summaries([m.id for m in shown if m.deleted_at is None])
    counts = messages.reply_counts([parent.id])

    def shape(message: Any) -> dict[str, Any]:
        body = messages.message_json(message, reply_count=counts.get(message.id, 0))
        body["reactions"] = reactions.get(message.id, [])
        return body

    return jsonify({"parent": shape(parent), "replies": [shape(r) for r in replies]})


@bp.patch("/messages/<int:message_id>")
@api_login_required
def edit_message(message_id: int) -> Any:
    """Edit one's own message.
    ---
    patch:
      summary: Edit my message (the previous text is kept in its history)
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [body]
              properties:
                body: {type: string, minLength: 1, pattern: '\\S', description: at most CHAT_MAX_LENGTH}
      responses:
        200: {description: 'the message, with edited_at set'}
        400: {description: body missing or not a string}
        403: {description: not my message (code not_author)}
        404: {description: 'no such message, or in a private channel I am not in'}
        409:
          description: >-
            deleted (code deleted) or past the edit lock (code locked, CHAT_EDIT_LOCK_MINUTES)
        413: {description: body too long}
        422: {description: empty body}
    """
    message = messages.edit(_me(), message_id, json_body().get("body"))
    return jsonify(messages.message_json(message))


@bp.delete("/messages/<int:message_id>")
@api_login_required
def delete_message(message_id: int) -> Any:
    """Delete one's own message (soft).
    ---
    delete:
      summary: Delete my message; it is hidden but kept for administrators
      tags: [chat]
      responses:
        204: {description: deleted}
        403: {description: not my message (code not_author)}
        404: {description: 'no such message, or in a private channel I am not in'}
        409: {description: already deleted (code deleted) or past the lock (code locked)}
    """
    messages.delete(_me(), message_id)
    return "", 204


@bp.get("/messages/<int:message_id>/history")
@api_login_required
def message_history(message_id: int) -> Any:
    """Earlier versions of an edited message.
    ---
    get:
      summary: The previous bodies of an edited message, oldest first
      tags: [chat]
      responses:
        200: {description: '{"edits": [{"previous_body", "edited_at"}]}'}
        404: {description: 'no such message, or in a private channel I am not in'}
        409: {description: the message is deleted}
    """
    edits = messages.edit_history(_me(), message_id)
    return jsonify(
        {
            "edits": [
                {"previous_body": e.previous_body, "edited_at": calendar.isoformat(e.edited_at)}
                for e in edits
            ]
        }
    )


@bp.post("/channels/<int:channel_id>/read")
@api_login_required
def mark_read(channel_id: int) -> Any:
    """Move my read position forward.
    ---
    post:
      summary: Mark the channel read up to last_read_id (never moves backwards)
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [last_read_id]
              properties:
                last_read_id: {type: integer, minimum: 0, maximum: 2147483647}
      responses:
        200: {description: '{"channel_id", "last_read_id", "unread"}'}
        400: {description: last_read_id missing or not a non-negative integer}
        403: {description: not a member}
        404: {description: 'no such channel, or a private channel I am not in'}
    """
    return jsonify(reads.mark_read(_me(), channel_id, json_body().get("last_read_id")))


@bp.get("/messages/<int:message_id>/readers")
@api_login_required
def message_readers(message_id: int) -> Any:
    """Who has read a message (既読) and who has not.
    ---
    get:
      summary: Readers of a message among the channel's current members (the author aside)
      tags: [chat]
      responses:
        200:
          description: >-
            {"read": [{"username", "display_name", "read_at"}], "unread": [{"username", "display_name"}]}
        403: {description: not a member}
        404: {description: 'no such message, or in a private channel I am not in'}
    """
    return jsonify(reads.readers(_me(), message_id))


@bp.get("/presence")
@api_login_required
def presence() -> Any:
    """Who is online now.
    ---
    get:
      summary: Usernames with at least one live connection
      tags: [chat]
      responses:
        200: {description: '{"online": [usernames]}'}
        401: {description: not signed in}
    """
    return jsonify({"online": rooms.online_usernames()})
