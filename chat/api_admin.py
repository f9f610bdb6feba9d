"""Administrators' chat endpoints under /api/v1: a channel's retention, the compliance export, and
管理 › チャンネル's list, archiving, private members and the export as a background job."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, send_file

from chat import archive, channels, export, retention
from chat.api import _me, bp
from chat.errors import ChatError, config_int
from workspace.admin import api_role, jobs
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


# --- 管理 › チャンネル -------------------------------------------------------------------------


@bp.get("/admin/channels")
@api_role()
def admin_channels() -> Any:
    """Every 課, public and private channel, and how many direct messages there are.
    ---
    get:
      summary: All channels with kind, member count, retention and archiving (role admin)
      description: >
        Metadata only, never a message. Direct messages are not listed one by one (their names are
        the people in them): "direct" gives how many there are, between two people and in groups.
      tags: [chat, admin]
      responses:
        200:
          description: >-
            {"channels": [{"id", "name", "kind": department|public|private, "kind_label", "description",
            "member_count", "retention_days" (null = kept forever), "archived", "archived_at"}],
            "direct": {"count", "group_count"}}
        401: {description: not signed in}
        403: {description: not an administrator}
    """
    found = archive.overview(_me())
    return jsonify(
        {
            "channels": [row.as_dict() for row in found.rows],
            "direct": {"count": found.direct_count, "group_count": found.group_direct_count},
        }
    )


def _people(users: list[Any]) -> list[dict[str, str]]:
    return [{"username": u.username, "display_name": u.display_name} for u in users]


def _admin_channel(channel_id: int) -> Any:
    body = archive.get_channel(_me(), channel_id).as_dict()
    if body["kind"] == "private":
        body["members"] = _people(archive.members(_me(), channel_id))
    return jsonify(body)


@bp.get("/admin/channels/<int:channel_id>")
@api_role()
def admin_channel(channel_id: int) -> Any:
    """One channel as 管理 sees it.
    ---
    get:
      summary: A 課, public or private channel's metadata; a private one with its members (role admin)
      tags: [chat, admin]
      responses:
        200:
          description: >-
            {"id", "name", "kind", "kind_label", "description", "member_count", "retention_days",
            "archived", "archived_at"}; private channels also "members": [{"username", "display_name"}]
        403: {description: not an administrator}
        404: {description: 'no such channel, or a direct message'}
    """
    return _admin_channel(channel_id)


@bp.post("/admin/channels/<int:channel_id>/archive")
@api_role()
def admin_archive(channel_id: int) -> Any:
    """Archive a channel.
    ---
    post:
      summary: Archive a channel — read-only for its members and out of their channel list (role admin)
      description: >
        Posting, editing, deleting, reactions, pins, uploads, joining and inviting then answer 409
        archived; members can still read it. Audited (chat.channel.archive, before and after).
        Archiving an archived channel changes nothing.
      tags: [chat, admin]
      responses:
        200: {description: 'the channel as GET /api/v1/admin/channels/{id} gives it'}
        403: {description: not an administrator}
        404: {description: 'no such channel, or a direct message'}
    """
    archive.set_archived(_me(), channel_id, True)
    return _admin_channel(channel_id)


@bp.post("/admin/channels/<int:channel_id>/unarchive")
@api_role()
def admin_unarchive(channel_id: int) -> Any:
    """Unarchive a channel.
    ---
    post:
      summary: Bring an archived channel back into use (role admin)
      description: Audited (chat.channel.unarchive, before and after).
      tags: [chat, admin]
      responses:
        200: {description: 'the channel as GET /api/v1/admin/channels/{id} gives it'}
        403: {description: not an administrator}
        404: {description: 'no such channel, or a direct message'}
    """
    archive.set_archived(_me(), channel_id, False)
    return _admin_channel(channel_id)


@bp.post("/admin/channels/<int:channel_id>/members")
@api_role()
def admin_add_members(channel_id: int) -> Any:
    """Add people to a private channel.
    ---
    post:
      summary: Add people to a private channel (role admin)
      description: >
        People already in it are skipped. Audited (chat.channel.members) with the usernames before
        and after. Only private channels: 課 channels follow the directory, public ones are joined freely.
      tags: [chat, admin]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [usernames]
              properties:
                usernames: {type: array, items: {type: string}, minItems: 1}
      responses:
        200:
          description: >-
            {"added": [{"username", "display_name"}], "members": [{"username", "display_name"}]}
        400: {description: 'not a JSON object, or usernames not a list of strings'}
        403: {description: not an administrator}
        404: {description: 'no such channel, or a direct message'}
        409: {description: not a private channel (not_private)}
        422: {description: 'nobody given, or an unknown person (unknown_user, field usernames)'}
    """
    data = json_body()
    me = _me()
    added = archive.add_members(me, channel_id, data.get("usernames"))
    return jsonify({"added": _people(added), "members": _people(archive.members(me, channel_id))})


@bp.delete("/admin/channels/<int:channel_id>/members/<username>")
@api_role()
def admin_remove_member(channel_id: int, username: str) -> Any:
    """Take a person out of a private channel.
    ---
    delete:
      summary: Remove a person from a private channel (role admin)
      description: Audited (chat.channel.members) with the usernames before and after.
      tags: [chat, admin]
      responses:
        200:
          description: >-
            {"removed": {"username", "display_name"}, "members": [{"username", "display_name"}]}
        403: {description: not an administrator}
        404: {description: 'no such channel, a direct message, or the person is not a member (not_member)'}
        409: {description: not a private channel (not_private)}
    """
    me = _me()
    person = archive.remove_member(me, channel_id, username)
    return jsonify({"removed": _people([person])[0], "members": _people(archive.members(me, channel_id))})


@bp.post("/admin/chat/exports")
@api_role()
def admin_start_export() -> Any:
    """Start 発言の書き出し (the compliance export) in the background.
    ---
    post:
      summary: Export a channel's or a person's messages to a file, in the background (role admin)
      description: >
        The same export as GET /api/v1/admin/chat/export (deleted messages with their original body,
        edit history, attachments as metadata), without its size limit, written to a file under
        DATA_DIR. Answers 202 with the job at once; the same job if an export is already running.
        Follow it with GET /api/v1/admin/jobs/{id} or Socket.IO `job:progress`; when it is done,
        its result is {"messages", "format", "size", "file", "download_name", "criteria"} and
        GET /api/v1/admin/chat/exports/{id}/file gives the file. The export is audited
        (chat.export, via admin).
      tags: [chat, admin]
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                channel_id: {type: integer, description: one of channel_id / username}
                username: {type: string, description: messages this person wrote}
                from: {type: string, format: date}
                to: {type: string, format: date}
                format: {type: string, enum: [json, csv], default: json}
      responses:
        202: {description: '{"job": {"id", "kind": "chat.export", "state", "progress", …}, "started": bool}'}
        400:
          description: >-
            not a JSON object; neither or both of channel_id and username, a bad date or format
            (the error's "field" names the input)
        403: {description: not an administrator}
        404: {description: no such channel or user}
    """
    job, started = export.start_job(_me(), json_body())
    return jobs.started_response(job, started)


@bp.get("/admin/chat/exports/<int:job_id>/file")
@api_role()
def admin_export_file(job_id: int) -> Any:
    """Download a finished 発言の書き出し.
    ---
    get:
      summary: The file of a finished chat export job (role admin)
      tags: [chat, admin]
      responses:
        200:
          description: the export (JSON, or CSV in UTF-8 with a BOM), sent as a file
          content:
            application/json: {schema: {type: object}}
            text/csv: {schema: {type: string}}
        403: {description: not an administrator}
        404: {description: 'no such export job, not finished, or its file is gone'}
    """
    return send_export(job_id)


def send_export(job_id: int) -> Any:
    """The file of export job ``job_id`` as a download (the page and the API), or 404."""
    job = jobs.get(job_id)
    path = export.job_file(job)
    if job is None or path is None:
        raise ChatError(404, "書き出したファイルは見つかりません。", "not_found")
    fmt = job.result.get("format")
    return send_file(
        path,
        mimetype="text/csv" if fmt == "csv" else "application/json",
        as_attachment=True,
        download_name=str(job.result.get("download_name") or path.name),
        max_age=0,
    )
