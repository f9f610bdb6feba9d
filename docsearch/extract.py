"""Text extraction from stored files: PDF (pypdf), DOCX (python-docx), XLSX (openpyxl), TXT/CSV, HTML.

Extraction runs once, when a file enters the store; the text is kept in the database beside the
file (``StoredFile.text``) so a reindex never has to open a file again.  Office files have passed
``files.check_zip`` before they reach these functions.
"""

from __future__ import annotations

import io
import logging
from html.parser import HTMLParser
from pathlib import Path

from charset_normalizer import from_bytes
from flask import current_app

from docsearch.errors import DocumentError

log = logging.getLogger(__name__)

# Japanese offices write UTF-8, Shift_JIS/CP932, sometimes EUC-JP or ISO-2022-JP; limiting the
# candidates keeps charset-normalizer from choosing an exotic code page for short texts.
_ENCODINGS = ["utf_8", "cp932", "shift_jis", "euc_jp", "iso2022_jp", "utf_16"]


def max_chars() -> int:
    """The most characters of text kept per file (EXTRACT_MAX_CHARS, default 2,000,000)."""
    return int(current_app.config.get("EXTRACT_MAX_CHARS", 2_000_000))


def extract_text(path: Path, kind: str) -> str:
    """Return the text of the file at path (of a kind from ``files.sniff``), cut to ``max_chars``.

    Raises DocumentError(422) when a file of an accepted type cannot be read at all.
    """
    extractor = {
        "pdf": _pdf,
        "docx": _docx,
        "xlsx": _xlsx,
        "text": lambda p: decode_text(p.read_bytes()),
        "html": lambda p: html_text(decode_text(p.read_bytes())),
    }[kind]
    try:
        text = extractor(path)
    except DocumentError:
        raise
    except Exception as error:  # every library has its own exceptions for a damaged file
        log.info("extraction failed for %s: %s", kind, error)
        raise DocumentError(422, "ファイルが壊れているため内容を読み取れません。", "corrupt_file") from error
    return text[: max_chars()]


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM) first, else the best Japanese candidate."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=_ENCODINGS).best()
    if best is None:
        return data.decode("cp932", errors="replace")
    return str(best)


def _pdf(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentError(422, "パスワード付きのPDFは登録できません。", "encrypted_pdf")
    limit = int(current_app.config.get("EXTRACT_MAX_PDF_PAGES", 2000))
    parts: list[str] = []
    for page in reader.pages[:limit]:
        parts.append(page.extract_text() or "")
    return "\n".join(parts)


def _docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(p for p in parts if p)


def _xlsx(path: Path) -> str:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    max_cells = int(current_app.config.get("EXTRACT_MAX_CELLS", 1_000_000))
    parts: list[str] = []
    cells = 0
    try:
        for sheet in workbook.worksheets:
            parts.append(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                values = [str(v) for v in row if v is not None]
                cells += len(row)
                if values:
                    parts.append("\t".join(values))
                if cells > max_cells:
                    return "\n".join(parts)
    finally:
        workbook.close()
    return "\n".join(parts)


class _TextParser(HTMLParser):
    """Collects the visible text of an HTML page; script and style contents are skipped."""

    _SKIP = frozenset({"script", "style", "template", "noscript"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "title", "td", "th"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: D102
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:  # noqa: D102
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:  # noqa: D102
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """Return the visible text of an HTML document (stdlib parser; script/style ignored)."""
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
