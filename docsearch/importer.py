"""Bulk import: a folder of files plus a metadata CSV → registered documents.

Idempotent by content: a file whose sha256 is already registered is skipped, so running the same
import again (after an interruption, or after fixing the rows that failed) only does what is left.
Each file is registered and committed on its own; the index is drained once at the end.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from docsearch import extract, indexer, registry
from docsearch.errors import DocumentError
from workspace import db

REQUIRED = (
    "path",
    "title",
    "department_code",
    "fiscal_year",
    "classification",
    "retention_years",
    "visibility",
)


@dataclass
class ImportReport:
    """What an import did: imported ids, skipped paths (already registered) and failures with reasons."""

    imported: list[tuple[str, int]] = field(default_factory=list)
    skipped: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def write_failures(self, target: Path) -> None:
        """Write the failures as a UTF-8 (with BOM, for Excel) CSV: path, reason."""
        with target.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "reason"])
            writer.writerows(self.failed)


def read_metadata(metadata: Path) -> list[dict[str, str]]:
    """Return the metadata rows (UTF-8 or Shift_JIS CSV with a header); raise DocumentError(422)."""
    text = extract.decode_text(metadata.read_bytes())
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise DocumentError(422, f"メタデータCSVに列がありません: {', '.join(missing)}")
    return [{k.strip(): (v or "").strip() for k, v in row.items() if k} for row in reader]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def import_documents(
    folder: Path,
    metadata: Path,
    *,
    progress: Callable[[Iterable[dict[str, str]]], Iterator[dict[str, str]]] | None = None,
) -> ImportReport:
    """Register every row of metadata whose file is in folder; return the report (never raises per row)."""
    rows = read_metadata(metadata)
    report = ImportReport()
    root = folder.resolve()
    with indexer.deferred():
        for row in progress(rows) if progress else rows:
            name = row.get("path", "")
            try:
                path = (root / name).resolve()
                if not name or not path.is_relative_to(root):
                    raise DocumentError(422, "パスがフォルダーの外を指しています。")
                if not path.is_file():
                    raise DocumentError(422, "ファイルが見つかりません。")
                existing = registry.find_by_sha256(_sha256(path))
                if existing is not None:
                    report.skipped.append((name, existing.id))
                    continue
                data = dict(row)
                if not data.get("retention_years"):
                    if not data.get("classification"):
                        raise DocumentError(
                            422, "保存年限が空です（永年は「永年」または permanent と書きます）。"
                        )
                    data.pop("retention_years")  # the classification's default applies
                with path.open("rb") as fh:
                    doc = registry.register(None, data, fh, path.name)
                report.imported.append((name, doc.id))
            except DocumentError as error:
                db.session().rollback()
                report.failed.append((name, error.message))
            except OSError as error:
                db.session().rollback()
                report.failed.append((name, f"読み込めません: {error.strerror or error}"))
    indexer.drain()
    return report
