"""`workspace import-documents`: metadata CSV (UTF-8 or Shift_JIS), idempotent, resumable, failure report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from docsearch.models import Document
from tests.docsearch.conftest import search
from tests.docsearch.samples import docx_bytes, pdf_bytes
from workspace import db

HEADER = "path,title,department_code,fiscal_year,classification,retention_years,visibility"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "yosan.pdf").write_bytes(pdf_bytes("令和8年度予算の概要"))
    (folder / "kyouiku.docx").write_bytes(docx_bytes("教育委員会の会議録"))
    (folder / "fake.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    return folder


def _count() -> int:
    count = db.session().execute(select(func.count()).select_from(Document)).scalar_one()
    db.session().commit()
    return count


def test_import_shift_jis_metadata_reports_failures_and_is_idempotent(
    app: Any, client: Any, tokens: dict[str, str], tmp_path: Path
) -> None:
    """Does an import register good rows, report bad ones, and skip everything on a second run"""
    folder = _folder(tmp_path)
    rows = [
        HEADER,
        "yosan.pdf,令和8年度予算概要,01,2026,,5,internal",
        "kyouiku.docx,教育委員会会議録,02,2026,,永年,public",
        "fake.pdf,偽物,01,2026,,5,internal",
        "missing.pdf,ない,01,2026,,5,internal",
        "../escape.txt,外,01,2026,,5,internal",
    ]
    metadata = tmp_path / "meta.csv"
    metadata.write_bytes("\r\n".join(rows).encode("cp932"))
    report = tmp_path / "failures.csv"
    runner = app.test_cli_runner()
    db.session().commit()
    result = runner.invoke(
        args=["import-documents", str(folder), "--metadata", str(metadata), "--report", str(report)]
    )
    assert result.exit_code == 1, result.output  # failures make the exit status non-zero
    assert "imported 2, skipped 0 (already registered), failed 3" in result.output
    failures = report.read_text(encoding="utf-8-sig")
    assert "fake.pdf" in failures and "missing.pdf" in failures and "../escape.txt" in failures
    assert _count() == 2
    assert search(client, tokens["kiroku"], q="予算", fiscal_year=2026).get_json()["total"] == 1
    again = runner.invoke(args=["import-documents", str(folder), "--metadata", str(metadata)])
    assert "imported 0, skipped 2" in again.output
    assert _count() == 2


def test_interrupted_import_resumes_where_it_stopped(
    app: Any, client: Any, people: dict[str, Any], tmp_path: Path
) -> None:
    """After an import stopped half-way, does the next run import only what is left"""
    folder = _folder(tmp_path)
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "\nyosan.pdf,予算,01,2026,,5,internal\n", encoding="utf-8")
    full = tmp_path / "full.csv"
    full.write_text(
        HEADER + "\nyosan.pdf,予算,01,2026,,5,internal\nkyouiku.docx,会議録,02,2026,,10,internal\n",
        encoding="utf-8",
    )
    runner = app.test_cli_runner()
    db.session().commit()
    assert runner.invoke(args=["import-documents", str(folder), "--metadata", str(first)]).exit_code == 0
    result = runner.invoke(args=["import-documents", str(folder), "--metadata", str(full)])
    assert "imported 1, skipped 1" in result.output, result.output
    assert _count() == 2


def test_metadata_without_required_columns_is_refused(
    app: Any, people: dict[str, Any], tmp_path: Path
) -> None:
    """Is a metadata CSV missing required columns refused with a message"""
    folder = _folder(tmp_path)
    metadata = tmp_path / "bad.csv"
    metadata.write_text("path,title\nyosan.pdf,予算\n", encoding="utf-8")
    db.session().commit()
    result = app.test_cli_runner().invoke(args=["import-documents", str(folder), "--metadata", str(metadata)])
    assert result.exit_code != 0
    assert "department_code" in result.output
