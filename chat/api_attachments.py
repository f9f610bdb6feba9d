"""Attachment endpoints under /api/v1: upload into a channel, download and thumbnail for members."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request, send_file
from werkzeug.exceptions import RequestEntityTooLarge

from chat import attachments
from chat.api import _me, bp
from chat.errors import ChatError
from workspace import sniff
from workspace.web import api_login_required


@bp.post("/channels/<int:channel_id>/attachments")
@api_login_required
def upload_attachment(channel_id: int) -> Any:
    """Upload a file to attach to my next message in a channel.
    ---
    post:
      summary: Upload a file (multipart field "file"); send it with a message via attachment_ids
      description: >
        Two steps, so a slow upload never holds a message back: upload here (201, the attachment
        with its id, not yet visible to anyone else), then post a message with
        "attachment_ids": [id, …] (HTTP or the message:send event). The type is sniffed from the
        content, never taken from the name or the browser; the name's extension must agree.
        Accepted: PNG, JPEG, GIF, WebP (with a thumbnail), PDF, Office and OpenDocument files, ZIP,
        and text (served as text/plain). At most CHAT_ATTACHMENT_MAX_BYTES (default 20 MiB); images
        at most CHAT_IMAGE_MAX_PIXELS (default 50,000,000) pixels.
      tags: [chat]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema:
              type: object
              required: [file]
              properties:
                file: {type: string, format: binary}
      responses:
        201:
          description: >-
            {"id", "filename", "size", "mime_type", "width", "height", "url", "thumbnail_url"}
        400: {description: no file part (code no_file)}
        403: {description: not a member of this department or public channel (code not_member)}
        404: {description: 'no such channel, or a private channel I am not in'}
        413: {description: larger than CHAT_ATTACHMENT_MAX_BYTES (code too_large)}
        415:
          description: >-
            a kind not accepted (code unsupported_type) or content that contradicts the file
            name's extension (code type_mismatch)
        422:
          description: >-
            empty file (code empty_file), unreadable image (code corrupt_image), image with too
            many pixels (code decompression_bomb)
    """
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        raise ChatError(413, "ファイルが大きすぎます。", "too_large") from None
    if upload is None:
        raise ChatError(400, "file を multipart/form-data で送ってください。", "no_file")
    attachment = attachments.upload(_me(), channel_id, upload.stream, upload.filename, request.content_length)
    return jsonify(attachments.attachment_json(attachment)), 201


def _send(path: Any, mime_type: str, download_name: str, *, as_attachment: bool) -> Any:
    response = send_file(
        path,
        mimetype=mime_type,
        as_attachment=as_attachment,
        download_name=download_name,
        conditional=True,
        etag=True,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Even opened directly, the file runs nothing and reaches nothing.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.get("/attachments/<int:attachment_id>")
@api_login_required
def download_attachment(attachment_id: int) -> Any:
    """Download an attachment.
    ---
    get:
      summary: The file, served as an attachment (Content-Disposition attachment, nosniff)
      tags: [chat]
      responses:
        200:
          description: the bytes, with the sniffed Content-Type
          content: {'*/*': {schema: {type: string, format: binary}}}
        404:
          description: >-
            no such attachment, not a member of its channel (of any kind), its message deleted,
            or an unsent upload of someone else
    """
    attachment = attachments.for_download(_me(), attachment_id)
    path = attachments.file_path(attachment.sha256)
    return _send(path, attachment.mime_type, attachment.filename, as_attachment=True)


@bp.get("/attachments/<int:attachment_id>/thumbnail")
@api_login_required
def attachment_thumbnail(attachment_id: int) -> Any:
    """The thumbnail of an image attachment.
    ---
    get:
      summary: A small PNG or JPEG made by the server from an image attachment (inline, nosniff)
      tags: [chat]
      responses:
        200:
          description: at most 320×320
          content:
            image/png: {schema: {type: string, format: binary}}
            image/jpeg: {schema: {type: string, format: binary}}
        404: {description: 'as for the download, or the attachment is not an image'}
    """
    attachment = attachments.for_download(_me(), attachment_id)
    if attachment.thumbnail_sha256 is None:
        raise ChatError(404, "見つかりません。", "not_found")
    path = attachments.file_path(attachment.thumbnail_sha256)
    png = sniff.is_png(sniff.read_head(path, 8).data)
    mime_type = "image/png" if png else "image/jpeg"
    return _send(path, mime_type, "thumbnail." + ("png" if png else "jpg"), as_attachment=False)
