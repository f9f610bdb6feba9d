"""Reaction and pin endpoints under /api/v1."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from chat import messages, reactions
from chat.api import _me, bp
from workspace.web import api_login_required, json_body


@bp.post("/messages/<int:message_id>/reactions")
@api_login_required
def add_reaction(message_id: int) -> Any:
    """React to a message.
    ---
    post:
      summary: Add my reaction (idempotent); members are told with the reaction:updated event
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [emoji]
              properties:
                emoji:
                  type: string
                  description: 'one emoji (👍) or a :shortcode:'
                  pattern: '^(?::[a-z0-9_+-]{1,30}:|[☀-➿]{1,8})$'
      responses:
        201: {description: '{"message_id", "reactions": [{"emoji", "count", "users"}]}'}
        200: {description: I had already reacted with this emoji; nothing changed}
        403: {description: not a member of this department or public channel}
        404: {description: 'no such message, or in a private channel I am not in'}
        409: {description: the message is deleted (code deleted)}
        422: {description: 'not an emoji (code invalid), or more than 20 kinds on the message'}
    """
    result, added = reactions.react(_me(), message_id, json_body().get("emoji"))
    return jsonify({"message_id": message_id, "reactions": result}), 201 if added else 200


@bp.delete("/messages/<int:message_id>/reactions/<emoji>")
@api_login_required
def remove_reaction(message_id: int, emoji: str) -> Any:
    """Take back my reaction.
    ---
    delete:
      summary: Remove my reaction (the emoji URL-encoded in the path); reaction:updated follows
      tags: [chat]
      parameters:
        - name: emoji
          in: path
          required: true
          schema: {type: string, pattern: '^(?::[a-z0-9_+-]{1,30}:|[☀-➿]{1,8})$'}
      responses:
        200: {description: '{"message_id", "reactions": [...]}'}
        403: {description: not a member}
        404: {description: 'no such message, or in a private channel I am not in'}
        409: {description: the message is deleted}
        422: {description: not an emoji}
    """
    result = reactions.unreact(_me(), message_id, emoji)
    return jsonify({"message_id": message_id, "reactions": result})


@bp.put("/messages/<int:message_id>/pin")
@api_login_required
def pin_message(message_id: int) -> Any:
    """Pin a message to its channel.
    ---
    put:
      summary: Pin a message (any member may; audited); members are told with pin:updated
      tags: [chat]
      responses:
        200: {description: 'the message, with pinned_at'}
        403: {description: not a member}
        404: {description: 'no such message, or in a private channel I am not in'}
        409: {description: the message is deleted}
    """
    return jsonify(messages.message_json(reactions.set_pinned(_me(), message_id, True)))


@bp.delete("/messages/<int:message_id>/pin")
@api_login_required
def unpin_message(message_id: int) -> Any:
    """Unpin a message.
    ---
    delete:
      summary: Unpin a message (any member may; audited); pin:updated follows
      tags: [chat]
      responses:
        200: {description: 'the message, pinned_at null'}
        403: {description: not a member}
        404: {description: 'no such message, or in a private channel I am not in'}
        409: {description: the message is deleted}
    """
    return jsonify(messages.message_json(reactions.set_pinned(_me(), message_id, False)))


@bp.get("/channels/<int:channel_id>/pins")
@api_login_required
def list_pins(channel_id: int) -> Any:
    """Pinned messages of a channel.
    ---
    get:
      summary: The channel's pinned messages, newest pin first (at most 100)
      tags: [chat]
      responses:
        200: {description: '{"messages": [message]}'}
        403: {description: a department or public channel I have not joined}
        404: {description: 'no such channel, or a private channel I am not in'}
    """
    return jsonify({"messages": [messages.message_json(m) for m in reactions.pinned(_me(), channel_id)]})
