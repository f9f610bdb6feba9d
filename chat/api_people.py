"""Finding people in a channel under /api/v1: @mention completion."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from chat import mentions
from chat.api import _me, bp
from workspace import people
from workspace.web import ApiError, api_login_required


@bp.get("/channels/<int:channel_id>/members")
@api_login_required
def find_members(channel_id: int) -> Any:
    """Members of a channel matching q, for @mention completion.
    ---
    get:
      summary: Members of a channel I belong to matching q (氏名, 読み, ユーザー名, 課), myself left out
      description: >-
        The same matching as GET /users, among the channel's members. Each user also carries "mention",
        the text the composer inserts to name them: "@" + 氏名, or "@" + ユーザー名 when another member has
        the same 氏名. The server reads both (and @channel, @all, @here) when the message is posted.
      tags: [chat]
      parameters:
        - {name: q, in: query, required: false, schema: {type: string, maxLength: 100}}
        - name: limit
          in: query
          required: false
          schema: {type: integer, minimum: 1, maximum: 50, default: 20}
      responses:
        200:
          description: >-
            {"users": [{"username", "display_name", "display_name_kana", "department": {"code", "name"},
            "title", "mention"}]}
        400: {description: 'limit is not an integer from 1 to 50, or q is too long'}
        403: {description: a department or public channel I have not joined}
        404: {description: 'no such channel, or a private channel I am not in'}
    """
    try:
        limit = people.parse_limit(request.args.get("limit"))
        query = people.parse_query(request.args.get("q"))
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify({"users": mentions.complete(_me(), channel_id, query, limit)})
