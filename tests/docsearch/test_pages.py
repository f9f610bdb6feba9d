"""The HTML pages: registry list, registration form, detail, search page, 満了 list."""

from __future__ import annotations

import io
from typing import Any

from tests.conftest import csrf_from, login
from tests.docsearch.conftest import upload
from tests.docsearch.samples import pdf_bytes


def test_register_through_the_form_and_see_the_detail(client: Any, people: dict[str, Any]) -> None:
    """Can staff register a PDF with the form and see its detail page with a preview"""
    login(client, "yamada")
    page = client.get("/documents/new")
    assert page.status_code == 200
    response = client.post(
        "/documents/new",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "title": "令和8年度予算書",
            "department_code": "01",
            "fiscal_year": "2026",
            "retention_years": "10",
            "visibility": "internal",
            "file": (io.BytesIO(pdf_bytes("予算の概要")), "yosan.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "令和8年度予算書" in html and "pdf-preview" in html and "令和19年3月31日" in html


def test_form_error_is_shown_in_japanese(client: Any, people: dict[str, Any]) -> None:
    """Does a bad registration re-show the form with the Japanese message"""
    login(client, "yamada")
    page = client.get("/documents/new")
    response = client.post(
        "/documents/new",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "title": "",
            "file": (io.BytesIO(b"x"), "a.txt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "件名を入力してください" in response.get_data(as_text=True)


def test_search_page_shows_highlighted_snippets_and_facets(
    client: Any, tokens: dict[str, str], people: dict[str, Any]
) -> None:
    """Does the search page (box labelled 検索) show hits with <mark> and facet counts"""
    upload(client, tokens["yamada"], "令和8年度の予算編成方針".encode(), "a.txt", title="予算編成方針")
    login(client, "tanaka")
    html = client.get("/search?q=予算").get_data(as_text=True)
    assert '<label for="q">検索</label>' in html
    assert "<mark>予算</mark>" in html
    assert "1件見つかりました" in html
    assert "総務課" in html  # the 課 facet, by name


def test_hidden_documents_are_404_in_pages(
    client: Any, tokens: dict[str, str], people: dict[str, Any]
) -> None:
    """Are a 秘 document's page and file 404 for another member of staff"""
    doc = upload(client, tokens["yamada"], b"secret", "s.txt", visibility="secret").get_json()
    login(client, "tanaka")
    assert client.get(f"/documents/{doc['id']}").status_code == 404
    assert client.get(f"/documents/{doc['id']}/file").status_code == 404
    assert "s.txt" not in client.get("/documents").get_data(as_text=True)


def test_retention_page_is_for_records_staff(client: Any, people: dict[str, Any]) -> None:
    """Is the 満了 list shown to records staff and forbidden to others"""
    login(client, "yamada")
    assert client.get("/documents/retention").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/documents").get_data(as_text=True))})
    login(client, "kiroku")
    assert client.get("/documents/retention").status_code == 200


def test_nendo_reads_in_wareki_on_the_list_detail_and_filter(
    client: Any, people: dict[str, Any], tokens: dict[str, str]
) -> None:
    """Do the 文書 list and detail say 令和7年度 (2025 beside it on the detail), never a bare 2025年度?"""
    import re

    body = "本文".encode()
    created = upload(client, tokens["yamada"], body, "memo.txt", title="年度の表示", fiscal_year=2025)
    assert created.status_code == 201, created.get_json()
    login(client, "yamada")
    listing = re.sub(r"<[^>]+>", " ", client.get("/documents").get_data(as_text=True))
    row = listing[listing.index("年度の表示") :]
    assert "令和7年度" in row.split("\n")[0] + row[:200]
    assert not re.search(r"(?<![（\d])2025年度", listing)
    detail = client.get(f"/documents/{created.get_json()['id']}").get_data(as_text=True)
    assert "令和7年度（2025年度）" in detail
    filtered = client.get("/documents?fiscal_year=2025").get_data(as_text=True)
    assert '<option value="2025" selected>令和7年度（2025年度）</option>' in filtered
