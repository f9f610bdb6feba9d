"""The text rule (workspace/text.py) on 文書: titles and the other metadata through the API, the form
and the CSV import, and 文書分類 names through `workspace classifications import`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from docsearch.models import Classification, Document
from tests.conftest import csrf_from, login
from tests.docsearch.conftest import upload
from workspace import db

RLO = "\u202e"
REFUSED = "使えない文字（制御文字・文字の向きを変える文字）"


def _documents() -> int:
    return db.session().execute(select(func.count()).select_from(Document)).scalar_one()


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"title": "予算書" + RLO + "fdp.exe"}, "件名"),
        ({"title": "予算書\x00"}, "件名"),
        ({"title": "予算書\x1b[2J"}, "件名"),
        ({"title": "予算書\u2068"}, "件名"),
        ({"sender": "群馬県\x00"}, "差出人"),
        ({"binder": "簿冊" + RLO}, "簿冊"),
        ({"tags": "予算," + RLO + "決算"}, "タグ"),
    ],
    ids=["title-rlo", "title-nul", "title-esc", "title-fsi", "sender-nul", "binder-rlo", "tag-rlo"],
)
def test_hostile_metadata_is_refused_with_422_and_nothing_stored(
    client: Any, tokens: dict[str, str], fields: dict[str, str], label: str
) -> None:
    response = upload(client, tokens["yamada"], "本文".encode(), "a.txt", **fields)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["message"] == f"{label}に{REFUSED}が含まれています。"
    assert _documents() == 0


def test_the_registration_form_refuses_a_nul_title(client: Any, people: Any) -> None:
    login(client, "yamada")
    token = csrf_from(client.get("/documents/new").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "title": "予算書\x00",
        "department_code": "01",
        "fiscal_year": "2026",
        "retention_years": "5",
        "visibility": "internal",
        "file": (io.BytesIO("本文".encode()), "a.txt"),
    }
    response = client.post("/documents/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and "件名に" + REFUSED in response.get_data(as_text=True)
    assert _documents() == 0


def test_a_title_is_stored_in_nfc(client: Any, tokens: dict[str, str]) -> None:
    response = upload(client, tokens["yamada"], "本文".encode(), "a.txt", title="か\u3099っこう便り")
    assert response.status_code == 201 and response.get_json()["title"] == "がっこう便り"


@pytest.mark.parametrize("minor", ["職員" + RLO + "研修", "職員\x00研修", "職員\t研修"])
def test_classifications_import_refuses_a_hostile_name_and_changes_nothing(
    app: Any, tmp_path: Path, minor: str
) -> None:
    before = db.session().execute(select(func.count(Classification.id))).scalar()
    csv = tmp_path / "bunrui.csv"
    csv.write_text(f"code,major,middle,minor,retention_years\n990101,総務,人事,{minor},5\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["classifications", "import", str(csv)])
    assert result.exit_code != 0 and "2行目: 小分類に" + REFUSED in result.output
    assert db.session().execute(select(func.count(Classification.id))).scalar() == before
