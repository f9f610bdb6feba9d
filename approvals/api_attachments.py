"""``/api/v1`` for attachments of a 起案: add, list, download, remove (routes on ``approvals.api.bp``).

Imported by ``approvals.init_app`` before the blueprint is registered. The rules (who, when, which
types) live in :mod:`approvals.attachments`; this module only parses the upload and shapes the answer.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, send_file
from flask_login import current_user

from approvals import access, attachments
from approvals.api import bp
from workspace.web import api_login_required


def download_response(request_id: int, attachment_id: int) -> Response:
    """Return the stored file as a download for someone who may see the request (shared with pages)."""
    attachment, path = attachments.for_download(current_user, request_id, attachment_id)
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.name,
        max_age=0,
        etag=attachment.sha256,
    )
    # Never rendered inline, never re-sniffed: a file is only ever saved, whatever it contains.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/approvals/<int:request_id>/attachments")
@api_login_required
def add_attachment(request_id: int) -> Any:
    """Attach a file to a draft.
    ---
    post:
      summary: 'Attach a file (drafter; draft or sent back to the drafter). Type sniffed from the content'
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      requestBody:
        required: true
        content:
          multipart/form-data:
            schema: {type: object, required: [file], properties: {file: {type: string, format: binary}}}
      responses:
        201: {description: '{"id", "name", "size", "sha256", "content_type"}'}
        400: {description: no file}
        403: {description: not the drafter}
        404: {description: not found}
        409: {description: 'already submitted (changes only after a 差戻し to the drafter)'}
        413: {description: 'over APPROVALS_ATTACHMENT_MAX_BYTES (default 20 MiB)'}
        415: {description: 'a type that cannot be attached, or an extension that contradicts the content'}
        422: {description: empty file or too many attachments}
    """
    upload = request.files.get("file")
    row = attachments.add(
        current_user,
        request_id,
        upload.stream if upload is not None and upload.filename else None,
        upload.filename if upload is not None else None,
    )
    return jsonify(attachments.attachment_json(row)), 201


@bp.get("/approvals/<int:request_id>/attachments")
@api_login_required
def list_attachments(request_id: int) -> Any:
    """The current attachments.
    ---
    get:
      summary: Attachments of a request
      tags: [approvals]
      parameters: [{name: request_id, in: path, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"attachments": [{"id", "name", "size", "sha256", "content_type"}], "frozen"}'}
        404: {description: not found}
    """
    row = access.get_visible(current_user, request_id)
    items = [attachments.attachment_json(a) for a in attachments.list_for(row.id)]
    return jsonify({"attachments": items, "frozen": row.status not in attachments.EDITABLE})


@bp.get("/approvals/<int:request_id>/attachments/<int:attachment_id>")
@api_login_required
def download_attachment(request_id: int, attachment_id: int) -> Any:
    """Download an attachment.
    ---
    get:
      summary: The file, as an attachment with its sniffed type and X-Content-Type-Options nosniff
      tags: [approvals]
      parameters:
        - {name: request_id, in: path, required: true, schema: {type: integer}}
        - {name: attachment_id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: the file, with the Content-Type sniffed at upload
          content: {'*/*': {schema: {type: string, format: binary}}}
        404: {description: 'not found, or the caller may not see the request'}
    """
    return download_response(request_id, attachment_id)


@bp.delete("/approvals/<int:request_id>/attachments/<int:attachment_id>")
@api_login_required
def delete_attachment(request_id: int, attachment_id: int) -> Any:
    """Remove an attachment from a draft.
    ---
    delete:
      summary: Remove an attachment (drafter; draft or sent back to the drafter)
      tags: [approvals]
      parameters:
        - {name: request_id, in: path, required: true, schema: {type: integer}}
        - {name: attachment_id, in: path, required: true, schema: {type: integer}}
      responses:
        204: {description: removed}
        403: {description: not the drafter}
        404: {description: not found}
        409: {description: already submitted}
    """
    attachments.remove(current_user, request_id, attachment_id)
    return "", 204
