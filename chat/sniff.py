"""What an uploaded file really is, judged from its bytes; the name's extension must agree.

The browser's Content-Type and the file name are never trusted: a file whose content says PNG but
whose name ends in .pdf (or an .exe renamed .png) is refused with 415, because a colleague who
downloads it would open it with the program the name promises.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import filetype

from chat.errors import ChatError

TEXT_PROBE = 64 * 1024


@dataclass(frozen=True)
class Kind:
    """An accepted kind of file: the MIME type it is served with and the extensions its name may carry."""

    mime_type: str
    extensions: tuple[str, ...]
    image: bool = False


#: filetype's extension (or "text") → the kind accepted in chat. Anything else is refused (415).
KINDS: dict[str, Kind] = {
    "png": Kind("image/png", (".png",), image=True),
    "apng": Kind("image/png", (".png", ".apng"), image=True),
    "jpg": Kind("image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), image=True),
    "gif": Kind("image/gif", (".gif",), image=True),
    "webp": Kind("image/webp", (".webp",), image=True),
    "pdf": Kind("application/pdf", (".pdf",)),
    "docx": Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx", ".docm")
    ),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx", ".xlsm")),
    "pptx": Kind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx", ".pptm")
    ),
    "doc": Kind("application/msword", (".doc",)),
    "xls": Kind("application/vnd.ms-excel", (".xls",)),
    "ppt": Kind("application/vnd.ms-powerpoint", (".ppt",)),
    "odt": Kind("application/vnd.oasis.opendocument.text", (".odt",)),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", (".ods",)),
    "odp": Kind("application/vnd.oasis.opendocument.presentation", (".odp",)),
    "zip": Kind("application/zip", (".zip",)),
    # Text of any name-worthy sort is served as text/plain: never as HTML or SVG, which a browser runs.
    "text": Kind("text/plain", (".txt", ".csv", ".tsv", ".log", ".md", ".json", ".xml", ".ics", ".vcf")),
}

_FILENAME_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FILENAME_MAX = 200


def clean_filename(name: str | None) -> str:
    """Return a displayable file name: no path, no controls or bidi overrides, at most 200 characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _FILENAME_BAD.sub("", base).strip().lstrip(".")
    if not base:
        return "file"
    if len(base) > FILENAME_MAX:
        stem, ext = os.path.splitext(base)
        base = stem[: FILENAME_MAX - len(ext[:20])] + ext[:20]
    return base


def looks_like_text(head: bytes) -> bool:
    """True when the first bytes are text: UTF-8 (or UTF-16 with a BOM) or Shift_JIS, few controls."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    text = None
    for encoding in ("utf-8", "cp932"):
        try:
            # The probe may cut a multi-byte character in two: ignore only the last few bytes.
            text = head.decode(encoding) if len(head) < TEXT_PROBE else head[:-4].decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return False
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
    return controls <= max(1, len(text) // 100)


def sniff(path: Path, filename: str) -> Kind:
    """Return the accepted kind of the file at path, or raise ChatError 415.

    unsupported_type: the content is of a kind chat does not take (programs, archives other than
    zip, unknown binary). type_mismatch: the name's extension promises another kind than the content.
    """
    with path.open("rb") as fh:
        head = fh.read(TEXT_PROBE)
    guessed = filetype.guess(head)
    if guessed is not None:
        key = guessed.extension
        if key not in KINDS:
            raise ChatError(
                415, f"この形式（{guessed.extension}）のファイルは添付できません。", "unsupported_type"
            )
    elif looks_like_text(head):
        key = "text"
    else:
        raise ChatError(415, "この形式のファイルは添付できません。", "unsupported_type")
    kind = KINDS[key]
    ext = os.path.splitext(filename)[1].lower()
    if ext and ext not in kind.extensions:
        raise ChatError(
            415,
            f"ファイルの内容（{kind.mime_type}）が拡張子（{ext[:20]}）と一致しません。",
            "type_mismatch",
        )
    return kind
