"""Type sniffing, zip-bomb guard and text extraction details."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from docsearch import extract, files
from docsearch.errors import DocumentError
from tests.docsearch.conftest import upload
from tests.docsearch.samples import docx_bytes, html_bytes, xlsx_bytes, zip_bomb_docx


def test_shift_jis_and_utf8_text_are_decoded() -> None:
    """Are Shift_JIS (CP932) and UTF-8 texts decoded to the same Japanese"""
    text = "住民税の申告期限は３月１５日です。①②"
    assert extract.decode_text(text.encode("cp932")) == text
    assert extract.decode_text(text.encode("utf-8")) == text
    assert extract.decode_text("\ufeff".encode() + text.encode("utf-8")) == text


def test_html_text_skips_script_and_style() -> None:
    """Does HTML extraction keep visible text and drop script and style"""
    text = extract.html_text(html_bytes("本文です").decode())
    assert "本文です" in text and "お知らせ" in text
    assert "スクリプト秘密" not in text and "スタイル秘密" not in text


def test_zip_bomb_is_refused_before_extraction(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is a DOCX that would inflate past the limit refused with 422 zip_bomb"""
    app.config["ZIP_MAX_UNCOMPRESSED"] = 10 * 1024 * 1024
    response = upload(client, tokens["yamada"], zip_bomb_docx(20 * 1024 * 1024), "bomb.docx")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "zip_bomb"


def test_high_ratio_entry_is_refused(app: Any, tmp_path: Path) -> None:
    """Is one entry compressing more than ZIP_MAX_RATIO refused even under the size limit"""
    path = tmp_path / "ratio.docx"
    path.write_bytes(zip_bomb_docx(8 * 1024 * 1024))
    with pytest.raises(DocumentError) as caught:
        files.check_zip(path)
    assert caught.value.code == "zip_bomb"


def test_too_many_entries_is_refused(app: Any, tmp_path: Path) -> None:
    """Is a zip with more entries than ZIP_MAX_ENTRIES refused"""
    app.config["ZIP_MAX_ENTRIES"] = 10
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
        for i in range(20):
            zf.writestr(f"word/part{i}.xml", "<x/>")
    path = tmp_path / "many.docx"
    path.write_bytes(out.getvalue())
    with pytest.raises(DocumentError):
        files.sniff(path, "many.docx")


def test_office_kinds_are_told_apart(app: Any, tmp_path: Path) -> None:
    """Are DOCX and XLSX recognised from their content, and an XLSX named .docx refused"""
    docx_path, xlsx_path = tmp_path / "a.docx", tmp_path / "b.xlsx"
    docx_path.write_bytes(docx_bytes("x"))
    xlsx_path.write_bytes(xlsx_bytes([["x"]]))
    assert files.sniff(docx_path, "a.docx") == "docx"
    assert files.sniff(xlsx_path, "b.xlsx") == "xlsx"
    with pytest.raises(DocumentError) as caught:
        files.sniff(xlsx_path, "b.docx")
    assert caught.value.status == 415


def test_plain_zip_and_executable_are_refused(app: Any, tmp_path: Path) -> None:
    """Are a plain zip and an ELF binary refused"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("readme.txt", "hello")
    zipped = tmp_path / "a.zip"
    zipped.write_bytes(out.getvalue())
    with pytest.raises(DocumentError):
        files.sniff(zipped, "a.zip")
    elf = tmp_path / "a.txt"
    elf.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 100)
    with pytest.raises(DocumentError):
        files.sniff(elf, "a.txt")
