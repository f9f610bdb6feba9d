"""GET /api/v1/classifications: the 文書分類 table a new install offers (大/中/小 with 保存年限)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from docsearch import default_classifications
from docsearch.models import Classification
from tests.docsearch.conftest import auth
from workspace import create_app, db, migrate


@pytest.fixture
def seeded(app: Any) -> None:
    """The default table, as migration 0005 loads it (the test fixtures wipe tables between tests)."""
    default_classifications.seed_if_empty(db.session().connection())
    db.session().commit()


def test_migrations_load_the_default_table_into_a_new_database_once(tmp_path: Path) -> None:
    """Does `workspace init` on an empty database create the 文書分類 table, and a second run add nothing?"""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    fresh = create_app({"DATA_DIR": str(tmp_path), "DATABASE_URL": url, "SECRET_KEY": "x"})
    migrate.upgrade(fresh)
    migrate.upgrade(fresh)
    fresh.extensions["db_engine"].dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(Classification.__table__)).scalar()
        assert count == len(default_classifications.rows()) >= 60
        assert default_classifications.seed_if_empty(conn) == 0  # never into a table with rows
    engine.dispose()


def test_a_new_install_offers_a_default_classification_table(
    client: Any, tokens: dict[str, str], seeded: None
) -> None:
    """Does a freshly migrated database answer a 大/中/小 table with parents and default 保存年限?"""
    response = client.get("/api/v1/classifications", headers=auth(tokens["tanaka"]))
    assert response.status_code == 200
    table = response.get_json()
    assert len(table) >= 60
    assert all(set(c) == {"code", "name", "level", "parent", "retention_years"} for c in table)
    codes = {c["code"]: c for c in table}
    assert {c["level"] for c in table} == {1, 2, 3}
    for c in table:
        if c["level"] == 1:
            assert c["parent"] is None
        else:
            assert codes[c["parent"]]["level"] == c["level"] - 1
        assert c["retention_years"] in (1, 3, 5, 10, 30, "permanent", None)
        assert (c["retention_years"] is None) == (c["level"] < 3)  # headings: their 小分類 have one
    assert codes["010102"] == {
        "code": "010102",
        "name": "文書管理",
        "level": 3,
        "parent": "0101",
        "retention_years": 10,
    }
    assert codes["010101"]["retention_years"] == "permanent"
    assert [c["code"] for c in table] == sorted(codes)


def test_classifications_need_a_signed_in_caller(client: Any) -> None:
    """Is the table refused (401, Japanese message) to a caller who is not signed in?"""
    response = client.get("/api/v1/classifications")
    assert response.status_code == 401
    assert response.get_json()["error"]["message"]


def test_registering_under_a_default_classification_takes_its_retention(
    client: Any, tokens: dict[str, str], seeded: None
) -> None:
    """Does a document registered under 010202 without a 保存年限 get the 分類's 3 years?"""
    data = {
        "title": "職員研修の案内",
        "department_code": "01",
        "fiscal_year": "2026",
        "classification": "010202",
        "visibility": "internal",
        "file": (io.BytesIO("研修".encode()), "kenshu2.txt"),
    }
    response = client.post(
        "/api/v1/documents", data=data, headers=auth(tokens["yamada"]), content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()
    doc = response.get_json()
    assert doc["classification"] == "010202" and doc["retention_years"] == 3
    assert doc["classification_label"] == "総務 › 人事・職員 › 職員研修"
