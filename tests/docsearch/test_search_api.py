"""GET /api/v1/search: Japanese text from every file type, filters, facets, snippets, trimming, limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.docsearch.conftest import search, upload
from tests.docsearch.samples import docx_bytes, html_bytes, pdf_bytes, sjis_csv_bytes, xlsx_bytes


@pytest.fixture
def corpus(client: Any, tokens: dict[str, str]) -> dict[str, int]:
    """Documents of every file type and visibility, registered through the API."""
    made = {}

    def add(name: str, who: str, content: bytes, filename: str, **fields: Any) -> None:
        response = upload(client, tokens[who], content, filename, **fields)
        assert response.status_code == 201, response.get_json()
        made[name] = response.get_json()["id"]

    add(
        "pdf",
        "yamada",
        pdf_bytes("令和8年度予算書", "歳入歳出の見込み"),
        "yosan.pdf",
        title="令和8年度 一般会計予算書",
    )
    add(
        "docx",
        "yamada",
        docx_bytes("防災訓練の実施について", table=[["会場", "公民館"]]),
        "bousai.docx",
        title="防災訓練",
    )
    add(
        "xlsx",
        "tanaka",
        xlsx_bytes([["項目", "金額"], ["補助金", 120000]]),
        "hojo.xlsx",
        title="補助金一覧",
        department_code="02",
        fiscal_year=2025,
    )
    add(
        "csv",
        "tanaka",
        sjis_csv_bytes([["地区", "人口"], ["新井", "1200"]]),
        "jinkou.csv",
        title="人口集計",
        department_code="02",
    )
    add("html", "yamada", html_bytes("マイナンバーカードの交付窓口"), "info.html", title="お知らせ")
    add(
        "dept",
        "yamada",
        "課内の予算調整メモ".encode(),
        "memo.txt",
        title="予算調整メモ",
        visibility="department",
    )
    add(
        "secret",
        "yamada",
        "人事の予算に関する秘密".encode(),
        "jinji.txt",
        title="人事秘",
        visibility="secret",
    )
    return made


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()["results"]}


def test_every_file_type_is_extracted_and_found(
    client: Any, tokens: dict[str, str], corpus: dict[str, int]
) -> None:
    """Are PDF, DOCX (incl. tables), XLSX, Shift_JIS CSV and HTML texts searchable in Japanese"""
    token = tokens["kiroku"]
    assert corpus["pdf"] in _ids(search(client, token, q="歳出"))
    assert corpus["docx"] in _ids(search(client, token, q="公民館"))
    assert corpus["xlsx"] in _ids(search(client, token, q="補助金"))
    assert corpus["csv"] in _ids(search(client, token, q="新井"))
    assert corpus["html"] in _ids(search(client, token, q="交付窓口"))


def test_html_script_and_style_are_not_indexed(
    client: Any, tokens: dict[str, str], corpus: dict[str, int]
) -> None:
    """Are script and style contents of an HTML file left out of the index"""
    assert corpus["html"] not in _ids(search(client, tokens["kiroku"], q="スクリプト秘密"))
    assert corpus["html"] not in _ids(search(client, tokens["kiroku"], q="スタイル秘密"))


def test_synonyms_find_the_other_spelling(
    client: Any, tokens: dict[str, str], corpus: dict[str, int]
) -> None:
    """Does 個人番号カード find a document that says マイナンバーカード"""
    assert corpus["html"] in _ids(search(client, tokens["yamada"], q="個人番号カード"))


def test_result_shape_and_highlighted_snippet(
    client: Any, tokens: dict[str, str], corpus: dict[str, int]
) -> None:
    """Does a result carry type, id, title, an HTML-escaped snippet with <mark>, score and url"""
    body = search(client, tokens["yamada"], q="予算", type="document").get_json()
    hit = next(r for r in body["results"] if r["id"] == corpus["pdf"])
    assert hit["type"] == "document"
    assert hit["title"] == "令和8年度 一般会計予算書"
    assert "<mark>予算</mark>" in hit["snippet"]
    assert hit["url"] == f"/documents/{corpus['pdf']}"
    assert isinstance(hit["score"], float)
    assert set(body) == {"total", "results", "facets", "next_offset"}


def test_fiscal_year_and_department_filters(
    client: Any, tokens: dict[str, str], corpus: dict[str, int]
) -> None:
    """Do the 年度 and 課 filters narrow the hits"""
    token = tokens["kiroku"]
    assert _ids(search(client, token, q="補助金", fiscal_year=2026)) == set()
    assert _ids(search(client, token, q="補助金", fiscal_year=2025)) == {corpus["xlsx"]}
    assert corpus["pdf"] not in _ids(search(client, token, q="予算", department="02"))


def test_permission_trimming_hides_hits_counts_facets_and_snippets(
    client: Any, tokens: dict[str, str], corpus: dict[str, int]
) -> None:
    """Does someone outside 総務課 never see a 課内限り or 秘 document in hits, total, facets or snippets"""
    outsider = search(client, tokens["tanaka"], q="予算").get_json()
    ids = {r["id"] for r in outsider["results"]}
    assert ids == {corpus["pdf"]}
    assert outsider["total"] == 1
    assert outsider["facets"]["type"] == {"document": 1}
    assert outsider["facets"]["department"] == {"01": 1}
    assert all("秘密" not in r["snippet"] and "調整" not in r["snippet"] for r in outsider["results"])
    assert search(client, tokens["tanaka"], q="人事").get_json()["total"] == 0
    colleague = search(client, tokens["sato"], q="予算").get_json()
    assert {r["id"] for r in colleague["results"]} == {corpus["pdf"], corpus["dept"]}  # 課内 yes, 秘 no
    owner = search(client, tokens["yamada"], q="予算").get_json()
    assert {r["id"] for r in owner["results"]} == {corpus["pdf"], corpus["dept"], corpus["secret"]}
    records = search(client, tokens["kiroku"], q="予算").get_json()
    assert records["total"] == 3


def test_paging_with_limit_and_offset(client: Any, tokens: dict[str, str], corpus: dict[str, int]) -> None:
    """Do limit and offset page through the hits while total stays the same"""
    first = search(client, tokens["kiroku"], q="予算", limit=2).get_json()
    second = search(client, tokens["kiroku"], q="予算", limit=2, offset=2).get_json()
    assert first["total"] == second["total"] == 3
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("*", 400),
        ("a*", 200),
        ("予" * 10_000, 422),
        (" OR ".join(f"語{i}" for i in range(3000)), 422),
        ("", 400),
    ],
)
def test_abusive_queries_end_quickly_with_a_message(
    client: Any, tokens: dict[str, str], corpus: dict[str, int], query: str, status: int
) -> None:
    """Do a bare *, a*, a 10,000-character query and thousands of ORs answer at once with a clear status"""
    response = search(client, tokens["yamada"], q=query)
    assert response.status_code == status
    if status != 200:
        message = response.get_json()["error"]["message"]
        assert any("\u3040" <= c <= "\u9fff" for c in message)  # a Japanese message


def test_bad_parameters_are_400(client: Any, tokens: dict[str, str]) -> None:
    """Are a bad type, limit or year answered with 400"""
    assert search(client, tokens["yamada"], q="予算", type="spreadsheet").status_code == 400
    assert search(client, tokens["yamada"], q="予算", limit=100000).status_code == 400
    assert search(client, tokens["yamada"], q="予算", fiscal_year="abc").status_code == 400


def test_sort_by_date(client: Any, tokens: dict[str, str], corpus: dict[str, int]) -> None:
    """Can results be sorted by date"""
    response = search(client, tokens["kiroku"], q="予算", sort="date")
    assert response.status_code == 200
    assert response.get_json()["total"] == 3
