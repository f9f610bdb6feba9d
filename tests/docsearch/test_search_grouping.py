"""A decided 決裁, its filed 起案用紙 and its filed attachments are one search hit with links to each;
a hit carries its date and 文書番号; a filed record's snippet is never the form's printed labels."""

from __future__ import annotations

from typing import Any

import pytest

from docsearch import filing
from tests.approvals import test_service_support as support
from tests.conftest import api_token
from tests.docsearch.conftest import auth, search
from tests.docsearch.test_filing_attachments import ESTIMATE, _attach
from workspace import db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

BODY = "公用車（軽自動車）一台を購入したいので、伺います。購入の理由は、現在の車両が老朽化したためです。"


@pytest.fixture
def tok(client: Any, org: dict[str, Any], people: dict[str, Any]) -> dict[str, str]:
    """Tokens for the drafter, the route and an outsider."""
    return {name: api_token(client, name) for name in ("yamada", "suzuki", "sato", "tanaka")}


@pytest.fixture
def decided(client: Any, tok: dict[str, str]) -> dict[str, Any]:
    """公用車の購入について, decided with one attachment (filed: the record and the attachment)."""
    created = client.post(
        "/api/v1/approvals",
        json={"route": "general", "title": "公用車の購入について", "body": BODY, "amount": 300000},
        headers=auth(tok["yamada"]),
    )
    request_id = created.get_json()["id"]
    _attach(client, tok["yamada"], request_id, ESTIMATE, "見積書.csv")
    url = f"/api/v1/approvals/{request_id}/actions"
    for who, action in (("yamada", "submit"), ("suzuki", "approve"), ("sato", "approve")):
        response = client.post(url, json={"action": action}, headers=auth(tok[who]))
        assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    assert filing.filing_of(request_id) is not None
    db.session().commit()  # end the read, so a live server can start on the same SQLite file
    return response.get_json()


def test_decision_record_and_attachment_are_one_hit_with_links(
    client: Any, tok: dict[str, str], decided: dict[str, Any]
) -> None:
    """Does 公用車 find the 決裁 once, with links to its filed record and attachment, counted once?"""
    found = search(client, tok["suzuki"], q="公用車").get_json()
    assert found["total"] == 1 and len(found["results"]) == 1
    hit = found["results"][0]
    assert (hit["type"], hit["id"], hit["url"]) == ("approval", decided["id"], f"/approvals/{decided['id']}")
    assert [link["kind"] for link in hit["filed"]] == ["record", "attachment"]
    assert hit["filed"][1]["filename"] == "見積書.csv"
    assert found["facets"]["type"] == {"approval": 1}
    assert hit["document_number"] and hit["date"] and hit["department"] == "01"
    assert found["next_offset"] is None


def test_filed_documents_alone_are_one_hit_that_links_the_decision(
    client: Any, tok: dict[str, str], decided: dict[str, Any]
) -> None:
    """With type=document, are the record and the attachment one hit that also links the 決裁?"""
    found = search(client, tok["suzuki"], q="公用車", type="document").get_json()
    assert found["total"] == 1 and len(found["results"]) == 1
    hit = found["results"][0]
    assert hit["approval"] == {
        "id": decided["id"],
        "title": "公用車の購入について",
        "url": f"/approvals/{decided['id']}",
    }
    assert {link["kind"] for link in hit["filed"]} == {"record", "attachment"}


def test_filed_record_snippet_is_the_body_not_the_form_labels(
    client: Any, tok: dict[str, str], decided: dict[str, Any]
) -> None:
    """Is the record's snippet cut from the body around the words, not from 件名・起案者・決裁欄?"""
    for query in ("購入", "老朽化"):  # 購入 is in the 件名 as well, printed among the labels
        found = search(client, tok["suzuki"], q=query, type="document").get_json()
        snippet = found["results"][0]["snippet"]
        assert snippet.startswith(BODY[:4]) or snippet.startswith("…"), snippet
        assert f"<mark>{query}</mark>" in snippet
        for label in ("件名", "起案者", "決裁欄", "起案日", "文書番号", "保存年限"):
            assert label not in snippet, (query, snippet)


@pytest.mark.parametrize(
    "query,old_times,new_times,first",
    [("国民健康保険", 3, 1, "new"), ("國民健康保險", 1, 3, "old")],
)
def test_kyujitai_as_typed_ranks_first(
    client: Any, tokens: dict[str, str], query: str, old_times: int, new_times: int, first: str
) -> None:
    """Does a document with the 旧字体 or 新字体 exactly as typed come before its folded variant?"""
    from tests.docsearch.conftest import upload

    made = {}
    for name, word, times in (("old", "國民健康保險", old_times), ("new", "国民健康保険", new_times)):
        response = upload(
            client, tokens["yamada"], ("。".join([word] * times)).encode(), f"{name}.txt", title="届"
        )
        made[response.get_json()["id"]] = name
    found = search(client, tokens["yamada"], q=query).get_json()
    assert [made[r["id"]] for r in found["results"]] == [first, "new" if first == "old" else "old"]
