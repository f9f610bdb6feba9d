"""Attachment rules: upload into a channel, bind to the message that carries them, download by members.

An upload is checked (size, type from content, image bounds) and stored before its row commits; a
failure at any step removes what this upload placed, so nothing is left half-written: no row without
its file, no new file without its row. A download is allowed to members of the channel only; anyone
else gets 404, whatever the channel's kind, because an attachment link is easily passed around.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy import select

from chat import channels, files, thumbnails
from chat.errors import ChatError, not_found
from chat.models import Attachment, Channel, Message
from workspace import db, inputs, sniff
from workspace.models import User
from workspace.web import API_PREFIX

MAX_PER_MESSAGE = 10


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    """The public shape of an attachment (its sha256 is shown to administrators' exports only)."""
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "size": attachment.size,
        "mime_type": attachment.mime_type,
        "width": attachment.width,
        "height": attachment.height,
        # Plain paths, not url_for: messages are also shaped outside a request (Socket.IO, CLI).
        "url": f"{API_PREFIX}/attachments/{attachment.id}",
        "thumbnail_url": (
            f"{API_PREFIX}/attachments/{attachment.id}/thumbnail" if attachment.thumbnail_sha256 else None
        ),
    }


def upload(
    user: User, channel_id: Any, stream: IO[bytes], filename: str | None, declared_length: int | None
) -> Attachment:
    """Store a file for the user in a channel they may write to; commit; return the pending attachment.

    The attachment belongs to no message until a message posted with attachment_ids carries it.
    Raises ChatError: 403/404 as for posting, 413 too large, 415 type refused, 422 empty, corrupt
    or decompression bomb. On any failure nothing new remains in the store or the database.
    """
    channel, _member = channels.require_member(user, channel_id, write=True)
    limit = files.max_bytes()
    if declared_length is not None and declared_length > limit + 64 * 1024:
        raise files.too_large(limit)  # refuse before reading: the multipart overhead is far below 64 KiB
    name = sniff.clean_filename(filename)
    staged = files.stage(stream, limit)
    thumb_staged: files.Staged | None = None
    placed: list[str] = []
    try:
        kind = files.kind_of(staged.path, name)
        thumbnail = thumbnails.make(staged.path, kind.mime_type) if kind.image else None
        if thumbnail is not None:
            thumb_staged = files.stage_bytes(thumbnail.data)
        # Noted before placing: if anything fails from here on, the files this upload brought are removed.
        for item in (staged, thumb_staged):
            if item is not None and not files.path_for(item.sha256).exists():
                placed.append(item.sha256)
        files.place(staged)
        if thumb_staged is not None:
            files.place(thumb_staged)
        attachment = Attachment(
            channel_id=channel.id,
            uploader_id=user.id,
            filename=name,
            size=staged.size,
            mime_type=kind.mime_type,
            sha256=staged.sha256,
            thumbnail_sha256=thumb_staged.sha256 if thumb_staged else None,
            width=thumbnail.width if thumbnail else None,
            height=thumbnail.height if thumbnail else None,
        )
        with db.write():
            db.session().add(attachment)
    except BaseException:
        db.session().rollback()
        files.discard(staged)
        if thumb_staged is not None:
            files.discard(thumb_staged)
        # Only files this upload created are removed; bytes another row already had stay.
        for digest in placed:
            if not files.is_referenced(digest):
                files.remove(digest)
        raise
    return attachment


def check_ids(value: Any) -> list[int]:
    """Return the attachment ids a message post names (0–10 integers) or raise ChatError 400/422."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(inputs.is_json_int(i) for i in value):
        raise ChatError(400, "attachment_ids は整数の配列で指定してください。", "bad_request")
    if inputs.json_ids(value) is None:  # beyond any id: names no upload, like someone else's would
        raise ChatError(422, "添付ファイルが見つからないか、すでに送信済みです。", "bad_attachment")
    ids = list(dict.fromkeys(value))
    if len(ids) > MAX_PER_MESSAGE:
        raise ChatError(422, f"添付できるファイルは{MAX_PER_MESSAGE}個までです。", "too_many_attachments")
    return ids


@db.joins_unit
def bind(user: User, channel: Channel, message: Message, ids: list[int]) -> None:
    """Attach the user's own pending uploads in this channel to message (no commit), or raise 422."""
    if not ids:
        return
    found = (
        db.session()
        .execute(
            select(Attachment).where(
                Attachment.id.in_(ids),
                Attachment.uploader_id == user.id,
                Attachment.channel_id == channel.id,
                Attachment.message_id.is_(None),
            )
        )
        .scalars()
        .all()
    )
    if len(found) != len(ids):
        # Someone else's upload, another channel's, one already sent, or none: all look the same.
        raise ChatError(422, "添付ファイルが見つからないか、すでに送信済みです。", "bad_attachment")
    by_id = {a.id: a for a in found}
    message.attachments = [by_id[i] for i in ids]


def for_download(user: User, attachment_id: int) -> Attachment:
    """Return an attachment the user may download, or raise 404.

    Allowed: members of its channel, for an attachment of a message that is not deleted; the
    uploader alone for one not yet sent. Everyone else, of any channel kind, gets 404.
    """
    attachment = db.session().get(Attachment, attachment_id)
    if attachment is None or channels.membership(attachment.channel_id, user.id) is None:
        raise not_found()
    if attachment.message_id is None:
        if attachment.uploader_id != user.id:
            raise not_found()
    elif attachment.message is None or attachment.message.deleted_at is not None:
        raise not_found()
    return attachment


def file_path(digest: str) -> Path:
    """Return the stored file for digest, or raise 404 when the store lost it (logged)."""
    path = files.path_for(digest)
    if not path.is_file():
        current_app.logger.error("chat: stored file %s is missing", digest)
        raise not_found()
    return path
