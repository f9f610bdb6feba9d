"""Administrators' chat endpoints under /api/v1: a channel's retention, the compliance export."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from chat import channels, export, retention
from chat.api import _me, bp
from chat.errors import ChatError, config_int
from workspace.web import api_login_required, json_body


@bp.patch("/channels/<int:channel_id>")
@api_login_required
def update_channel(channel_id: int) -> Any:
    """Set a channel's retention period (administrators).
    ---
    patch:
      summary: Set how long a channel's messages are kept (role admin)
      description: >
        retention_days null (the default) keeps messages forever. Otherwise `workspace chat purge`
        hard-deletes messages older than that many days, with their edit history and the
        attachments no message refers to any more, and writes what it removed to the audit log.
        Only administrators decide this: it is the village's records policy, not the channel's.
      tags: [chat]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [retention_days]
              properties:
                retention_days: {type: integer, minimum: 1, maximum: 36500, nullable: true}
      responses:
        200: {description: '{"id", "name", "kind", "unread", "retention_days"}'}
        400: {description: 'body is not a JSON object, or retention_days is missing'}
        403: {description: 'not an administrator (for every id, existing or not)'}
        404: {description: no such channel}
        422: {description: retention_days not an integer from 1 to 36500 nor null}
    """
    data = json_body()
    me = _me()
    if not me.has_role("admin"):
        raise ChatError(403, "保存期間を変更できるのは管理者だけです。", "forbidden")
    if "retention_days" not in data:
        raise ChatError(400, "retention_days を指定してください。", "bad_request")
    channel = retention.set_retention(me, channel_id, data["retention_days"])
    body = channels.channel_json(channel, me)
    body["retention_days"] = channel.retention_days
    return jsonify(body)


@bp.get("/admin/chat/export")
@api_login_required
def export_chat() -> Any:
    """Compliance export of a channel or a person's messages (administrators).
    ---
    get:
      summary: Every message of a channel, or written by a person, in a date range (role admin)
      description: >
        Evidence for administrators: includes soft-deleted messages with their original body,
        deleted_at and deleted_by, and each edited message's earlier versions ("edits"). Attachments
        are listed with filename, size, MIME type and sha256; their bytes are not in this answer
        (the command `workspace chat export --include-files` writes them into a zip). Dates are days in
        Japan, both inclusive. At most CHAT_EXPORT_MAX_MESSAGES (default 100000) messages; narrow
        the range or use the command beyond that. Every export is written to the audit log.
      tags: [chat, admin]
      parameters:
        - {name: channel_id, in: query, schema: {type: integer}, description: one of channel_id / username}
        - {name: username, in: query, schema: {type: string}, description: messages this person wrote}
        - {name: from, in: query, schema: {type: string, format: date}}
        - {name: to, in: query, schema: {type: string, format: date}}
        - {name: format, in: query, schema: {type: string, enum: [json, csv], default: json}}
      responses:
        200:
          description: >-
            json: {"exported_at", "exported_by", "criteria", "count", "messages": [{"id", "channel":
            {"id", "name", "kind"}, "author", "body", "created_at", "edited_at", "deleted",
            "deleted_at", "deleted_by", "thread_id", "client_msg_id", "pinned_at", "edits":
            [{"previous_body", "edited_at", "editor"}], "attachments": [{"id", "filename", "size",
            "mime_type", "sha256"}]}]}; csv: text/csv (UTF-8 with BOM), one row per message, sent as
            a file
          content:
            application/json: {schema: {type: object}}
            text/csv: {schema: {type: string}}
        400: {description: 'neither or both of channel_id and username, a bad date or format'}
        403: {description: not an administrator}
        404: {description: no such channel or user}
        413: {description: more messages than CHAT_EXPORT_MAX_MESSAGES}
    """
    me = _me()
    if not me.has_role("admin"):
        raise ChatError(403, "エクスポートできるのは管理者だけです。", "forbidden")
    args = request.args
    fmt = export.check_format(args.get("format"))
    crit = export.criteria(args.get("channel_id"), args.get("username"), args.get("from"), args.get("to"))
    records = export.collect(crit, limit=config_int("CHAT_EXPORT_MAX_MESSAGES", export.DEFAULT_API_MAX))
    export.record_audit(me.username, crit, len(records), fmt, via="api")
    if fmt == "json":
        return jsonify(export.document(crit, records, me.username))
    name = crit.target.replace(":", "-")
    return Response(
        export.to_csv(records).encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="chat-export-{name}.csv"'
            if name.isascii()
            else 'attachment; filename="chat-export.csv"',
        },
    )
