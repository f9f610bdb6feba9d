"""What an uploaded file really is, judged from its bytes: the one content sniffer of every store.

The browser's Content-Type and the file name are never trusted: a file whose content says PNG but
whose name ends in .pdf (or an .exe renamed .png) is refused, because a colleague who downloads it
would open it with the program the name promises. This module tells what the bytes are (magic
numbers through ``filetype``, PDF and zip signatures, text in the encodings Japanese offices use,
HTML markup); each domain keeps its own table of what it accepts and says a refusal in its words
(chat.files, approvals.attachment_store, docsearch.files).
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from pathlib import Path

import filetype

HEAD_BYTES = 64 * 1024
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
PNG_MAGIC = b"\x89PNG"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<p>", b"<div")
_FILENAME_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FILENAME_MAX = 200


@dataclass(frozen=True)
class Head:
    """The first bytes of a file, and whether they are all of it."""

    data: bytes
    complete: bool


@dataclass(frozen=True)
class Guess:
    """A signature found in the bytes: filetype's name for the kind (``png``, ``docx``…) and its MIME type."""

    extension: str
    mime: str


def read_head(path: Path, size: int = HEAD_BYTES) -> Head:
    """Return the first size bytes of the file at path."""
    with path.open("rb") as fh:
        data = fh.read(size)
        complete = not fh.read(1)
    return Head(data, complete)


def extension(filename: str | None) -> str:
    """Return the name's extension, lower-cased, with its dot ('' for none)."""
    return os.path.splitext(filename or "")[1].lower()


def guess(data: bytes) -> Guess | None:
    """Return the kind a signature in the first bytes announces, or None (text, or unknown binary)."""
    found = filetype.guess(data)
    return Guess(found.extension, found.mime) if found is not None else None


def is_pdf(data: bytes) -> bool:
    """True for bytes that start like a PDF."""
    return data.startswith(PDF_MAGIC)


def is_zip(data: bytes) -> bool:
    """True for a zip container (Office Open XML and OpenDocument files are zips too)."""
    return data.startswith(ZIP_MAGIC)


def is_png(data: bytes) -> bool:
    """True for bytes that start like a PNG image."""
    return data.startswith(PNG_MAGIC)


def has_binary_nul(data: bytes) -> bool:
    """True when the bytes hold a NUL and are not UTF-16 text with a byte order mark."""
    return b"\x00" in data and not data.startswith(UTF16_BOMS)


def decode_text(head: Head) -> str | None:
    """Return the head decoded as UTF-8 (with or without BOM) or Shift_JIS (cp932), else None.

    A multi-byte character cut at the end of a head that is not the whole file is fine.
    """
    for encoding in ("utf-8-sig", "cp932"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            return decoder.decode(head.data, final=head.complete)
        except UnicodeDecodeError:
            continue
    return None


def is_text(head: Head, *, utf16: bool = True, few_controls: bool = True) -> bool:
    """True when the head is text: no NUL, and UTF-8 or Shift_JIS (see decode_text).

    ``utf16`` also accepts UTF-16 with a byte order mark; ``few_controls`` refuses text in which
    more than one character in a hundred is a control character other than tab, newline and form feed
    (binary that happens to decode as Shift_JIS).
    """
    if head.data.startswith(UTF16_BOMS):
        return utf16
    if b"\x00" in head.data:
        return False
    text = decode_text(head)
    if text is None:
        return False
    if not few_controls:
        return True
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f")
    return controls <= max(1, len(text) // 100)


def looks_like_html(data: bytes) -> bool:
    """True when the first 2 KiB of text carry HTML markup (which a browser would run)."""
    lowered = data.lstrip()[:2048].lower()
    return any(marker in lowered for marker in _HTML_MARKERS)


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
