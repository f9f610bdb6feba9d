"""The registry's file store and the checks a file passes before it is stored.

Files live under DATA_DIR/files/ab/cd/<sha256> (a workspace.filestore.Store), outside any web root,
named by their content, so two uploads of the same bytes share one file and a file can never be
overwritten by different content.  The type is sniffed from the bytes (workspace.sniff; never trusted
from the name or the browser), a file
whose extension says something else is refused, and Office files (zip containers) are checked for
zip bombs before any library unpacks them.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import select

from docsearch.errors import DocumentError
from docsearch.models import StoredFile
from workspace import db, filestore
from workspace import sniff as content

#: kind → (MIME type, extensions a file of that kind may carry)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "text": ("text/plain", (".txt", ".csv", ".tsv", ".text")),
    "html": ("text/html", (".html", ".htm")),
}
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Staged(filestore.Staged):
    """A received file written to a temporary path, hashed and sniffed, not yet in the store."""

    kind: str
    mime_type: str


def referenced(digests: set[str]) -> set[str]:
    """Return the digests a stored-file row still refers to."""
    rows = db.session().execute(select(StoredFile.sha256).where(StoredFile.sha256.in_(digests)))
    return set(rows.scalars())


STORE = filestore.Store("documents", ("files",), referenced)

store_root = STORE.root
path_for = STORE.path_for
discard = STORE.discard
place = STORE.place  # moves a staged file to its address; True if the store did not have it yet
remove = STORE.remove


def max_bytes() -> int:
    """The largest file accepted (DOCUMENT_MAX_BYTES, default 50 MiB)."""
    return int(current_app.config.get("DOCUMENT_MAX_BYTES", 50 * 1024 * 1024))


def stage(stream: IO[bytes], filename: str) -> Staged:
    """Copy stream to a temporary file in the store while hashing it; sniff and check its type.

    Raises DocumentError 413 (too large), 422 (empty, unreadable, zip bomb) or 415 (type not
    accepted, or content that contradicts the extension).  The caller must ``discard`` or ``place``.
    """
    limit = max_bytes()
    staged = STORE.stage(
        stream,
        limit,
        too_large=lambda: DocumentError(
            413, f"ファイルが大きすぎます（上限 {limit // (1024 * 1024)} MB）。", "too_large"
        ),
        empty=lambda: DocumentError(422, "ファイルが空です。", "empty_file"),
    )
    try:
        kind = sniff(staged.path, filename)
    except BaseException:
        STORE.discard(staged)
        raise
    return Staged(staged.path, staged.sha256, staged.size, kind, KINDS[kind][0])


def sniff(path: Path, filename: str) -> str:
    """Return the kind of the file at path judged from its bytes, checked against filename's extension."""
    head = content.read_head(path, SNIFF_BYTES).data
    ext = content.extension(filename)
    if content.is_pdf(head):
        kind = "pdf"
    elif content.is_zip(head):
        kind = _office_kind(path)
    else:
        guessed = content.guess(head)
        if guessed is not None:
            raise DocumentError(
                415, f"この形式（{guessed.extension}）のファイルは登録できません。", "unsupported_type"
            )
        if content.has_binary_nul(head):
            raise DocumentError(415, "バイナリファイルは登録できません。", "unsupported_type")
        # Markup in a .txt/.csv is still text to its owner; anything else that looks like HTML is HTML.
        kind = "html" if content.looks_like_html(head) and ext not in KINDS["text"][1] else "text"
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
