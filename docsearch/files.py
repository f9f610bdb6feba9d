"""The content-addressed file store and the checks a file passes before it is stored.

Files live under DATA_DIR/files/ab/cd/<sha256>, outside any web root, named by their content, so
two uploads of the same bytes share one file and a file can never be overwritten by different
content.  The type is sniffed from the bytes (never trusted from the name or the browser), a file
whose extension says something else is refused, and Office files (zip containers) are checked for
zip bombs before any library unpacks them.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import filetype
from flask import current_app

from docsearch.errors import DocumentError
from workspace import filestore

CHUNK = 1024 * 1024

#: kind → (MIME type, extensions a file of that kind may carry)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "text": ("text/plain", (".txt", ".csv", ".tsv", ".text")),
    "html": ("text/html", (".html", ".htm")),
}
_HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta", b"<title", b"<p>", b"<div")


@dataclass(frozen=True)
class Staged:
    """A received file written to a temporary path, hashed and sniffed, not yet in the store."""

    path: Path
    sha256: str
    size: int
    kind: str
    mime_type: str


def store_root() -> Path:
    """Return DATA_DIR/files (created on first use)."""
    root = Path(current_app.config["DATA_DIR"]) / "files"
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_for(sha256: str) -> Path:
    """Return where the file with this digest lives (ab/cd/<digest>)."""
    return filestore.address(store_root(), sha256)


def max_bytes() -> int:
    """The largest file accepted (DOCUMENT_MAX_BYTES, default 50 MiB)."""
    return int(current_app.config.get("DOCUMENT_MAX_BYTES", 50 * 1024 * 1024))


def stage(stream: IO[bytes], filename: str) -> Staged:
    """Copy stream to a temporary file in the store while hashing it; sniff and check its type.

    Raises DocumentError 413 (too large), 422 (empty, unreadable, zip bomb) or 415 (type not
    accepted, or content that contradicts the extension).  The caller must ``discard`` or ``commit``.
    """
    limit = max_bytes()
    path, digest, size = filestore.receive(
        stream,
        store_root(),
        limit,
        too_large=lambda: DocumentError(
            413, f"ファイルが大きすぎます（上限 {limit // (1024 * 1024)} MB）。", "too_large"
        ),
        empty=lambda: DocumentError(422, "ファイルが空です。", "empty_file"),
    )
    try:
        kind = sniff(path, filename)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path, digest, size, kind, KINDS[kind][0])


def discard(staged: Staged) -> None:
    """Remove a staged temporary file (the upload was refused or the transaction failed)."""
    staged.path.unlink(missing_ok=True)


def commit(staged: Staged) -> bool:
    """Move a staged file to its content address; return True if the store did not have it yet."""
    target = path_for(staged.sha256)
    if target.exists():
        staged.path.unlink(missing_ok=True)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged.path, target)  # atomic on one filesystem: the store never holds half a file
    return True


def remove(sha256: str) -> None:
    """Delete a stored file (after its last row is gone)."""
    path_for(sha256).unlink(missing_ok=True)


def sniff(path: Path, filename: str) -> str:
    """Return the kind of the file at path judged from its bytes, checked against filename's extension."""
    with path.open("rb") as fh:
        head = fh.read(8192)
    ext = os.path.splitext(filename or "")[1].lower()
    if head.startswith(b"%PDF-"):
        kind = "pdf"
    elif head.startswith(b"PK\x03\x04"):
        kind = _office_kind(path)
    else:
        guessed = filetype.guess(head)
        if guessed is not None:
            raise DocumentError(
                415, f"この形式（{guessed.extension}）のファイルは登録できません。", "unsupported_type"
            )
        if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise DocumentError(415, "バイナリファイルは登録できません。", "unsupported_type")
        lowered = head.lstrip()[:2048].lower()
        looks_html = any(marker in lowered for marker in _HTML_MARKERS)
        # Markup in a .txt/.csv is still text to its owner; anything else that looks like HTML is HTML.
        kind = "html" if looks_html and ext not in KINDS["text"][1] else "text"
    allowed = KINDS[kind][1]
    if ext and ext not in allowed:
        raise DocumentError(
            415,
            f"ファイルの内容（{kind.upper()}）が拡張子（{ext}）と一致しません。",
            "type_mismatch",
        )
    return kind


def _office_kind(path: Path) -> str:
    """Return docx or xlsx for an Office Open XML package after the zip-bomb checks."""
    check_zip(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    raise DocumentError(415, "このZIP形式のファイルは登録できません（DOCX・XLSXのみ）。", "unsupported_type")


def check_zip(path: Path) -> None:
    """Refuse a zip container that would unpack to too much: entry count, total size, compression ratio.

    The sizes come from the central directory; Python's zipfile never inflates an entry past its
    declared size (it stops and fails the CRC), so a lying header cannot get around these limits.
    """
    config = current_app.config
    max_entries = int(config.get("ZIP_MAX_ENTRIES", 5000))
    max_total = int(config.get("ZIP_MAX_UNCOMPRESSED", 200 * 1024 * 1024))
    max_ratio = float(config.get("ZIP_MAX_RATIO", 100.0))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DocumentError(422, "ファイルが壊れているため読み取れません。", "corrupt_file") from error
    if len(infos) > max_entries:
        raise DocumentError(422, "ファイル内の項目が多すぎます（圧縮爆弾の疑い）。", "zip_bomb")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if total > max_total:
        raise DocumentError(422, "展開後のサイズが大きすぎます（圧縮爆弾の疑い）。", "zip_bomb")
    for info in infos:
        # Small entries may compress very well (empty XML parts); judge the ratio from 1 MiB up.
        if info.file_size > 1024 * 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise DocumentError(422, "圧縮率が異常に高い項目があります（圧縮爆弾の疑い）。", "zip_bomb")
    if total > 1024 * 1024 and total > max_ratio * max(packed, 1):
        raise DocumentError(422, "圧縮率が異常に高いファイルです（圧縮爆弾の疑い）。", "zip_bomb")


def referenced(digests: set[str]) -> set[str]:
    """Return the digests a stored-file row still refers to (for the orphan sweep)."""
    from sqlalchemy import select

    from docsearch.models import StoredFile
    from workspace import db

    rows = db.session().execute(select(StoredFile.sha256).where(StoredFile.sha256.in_(digests)))
    return set(rows.scalars())
