"""`workspace classifications import FILE.csv`: the 文書分類 table (the filing scheme) from CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from docsearch.models import Classification
from workspace import db

CSV = (
    "code,major,middle,minor,retention_years\n"
    "01,総務,,,永年\n"
    "01-02,総務,財産管理,,10\n"
    "01-02-03,総務,財産管理,公用車,5\n"
)


def _table() -> dict[str, tuple[str, int | None]]:
    # The rows this test imports (codes 0…); the default table of a new install uses 10…90.
    db.session().commit()
    rows = db.session().execute(select(Classification).where(Classification.code.like("0%"))).scalars()
    return {c.code: (c.label, c.default_retention_years) for c in rows}


def test_import_loads_and_updates_from_utf8_and_shift_jis(app: Any, tmp_path: Path) -> None:
    """Does the command load a UTF-8 table, and a Shift_JIS file update a row in place?"""
    first = tmp_path / "bunrui.csv"
    first.write_text(CSV, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["classifications", "import", str(first)])
    assert result.exit_code == 0, result.output
    assert "imported 3 classifications" in result.output
    assert _table() == {
        "01": ("総務", None),
        "01-02": ("総務 › 財産管理", 10),
        "01-02-03": ("総務 › 財産管理 › 公用車", 5),
    }
    update = tmp_path / "sjis.csv"
    update.write_bytes(
        "code,major,middle,minor,retention_years\n01-02-03,総務,財産管理,車両,3\n".encode("cp932")
    )
    result = app.test_cli_runner().invoke(args=["classifications", "import", str(update)])
    assert result.exit_code == 0, result.output
    assert _table()["01-02-03"] == ("総務 › 財産管理 › 車両", 3)
    assert len(_table()) == 3


def test_bad_row_applies_nothing_and_says_which_line(app: Any, tmp_path: Path) -> None:
    """Does a bad 保存年限 on line 3 fail with the line number and leave the table untouched?"""
    bad = tmp_path / "bad.csv"
    bad.write_text("code,major,middle,minor,retention_years\n01,総務,,,5\n02,企画,,,7\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["classifications", "import", str(bad)])
    assert result.exit_code != 0
    assert "3行目" in result.output
    assert _table() == {}
