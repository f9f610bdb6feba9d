"""The draft form's route preview: POST /api/v1/approval-routes/<key>/preview and the page fragment."""

from __future__ import annotations

from typing import Any

import pytest

from approvals import route_store
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import GENERAL, bearer
from tests.conftest import api_token, login
from workspace import db

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


@pytest.fixture
def yamada(client: Any, org: dict[str, Any]) -> dict[str, str]:
    """The drafter's bearer header."""
    return bearer(api_token(client, "yamada"))


def _preview(client: Any, headers: dict[str, str], key: str, amount: Any) -> Any:
    return client.post(f"/api/v1/approval-routes/{key}/preview", json={"amount": amount}, headers=headers)


def _deciders(body: dict[str, Any]) -> list[str]:
    return [a["username"] for s in body["steps"] if s["kind"] == "decide" for a in s["approvers"]]


def test_preview_resolves_the_route_for_the_caller_and_amount(client: Any, yamada: dict) -> None:
    """Does the preview name the 係長, then the decider the amount calls for (課長 / 副村長 / 村長)?"""
    small = _preview(client, yamada, "general", 100000)
    assert small.status_code == 200
    body = small.get_json()
    assert body["route"] == {"key": "general", "version": 1, "name": "一般文書"}
    assert [a["username"] for a in body["steps"][0]["approvers"]] == ["suzuki"]
    assert _deciders(body) == ["sato"]
    assert _deciders(_preview(client, yamada, "general", 1000000).get_json()) == ["fuku"]
    assert _deciders(_preview(client, yamada, "general", None).get_json()) == ["sato"]
    assert "route_error" not in body


def test_preview_refuses_bad_input_in_japanese(client: Any, yamada: dict) -> None:
    """Is an unknown route a 404 and a negative amount a 422, both with Japanese messages?"""
    unknown = _preview(client, yamada, "nothing", 1)
    assert (
        unknown.status_code == 404
        and unknown.get_json()["error"]["message"] == "決裁ルートが見つかりません。"
    )
    negative = _preview(client, yamada, "general", -5)
    assert negative.status_code == 422 and "負の値" in negative.get_json()["error"]["message"]
    anonymous = client.post("/api/v1/approval-routes/general/preview", json={})
    assert anonymous.status_code == 401


def test_preview_reports_an_unresolvable_approver_without_failing(
    client: Any, org: dict[str, Any], yamada: dict
) -> None:
    """Does a route naming a title nobody holds come back 200 with route_error and its step?"""
    broken = {**GENERAL, "key": "broken", "steps": [{"kind": "review", "approver": {"title": "会計管理者"}}]}
    route_store.save({**broken, "steps": [*broken["steps"], GENERAL["steps"][1]]}, org["admin"])
    db.session().commit()
    body = _preview(client, yamada, "broken", 1).get_json()
    assert body["steps"] == [] and body["route_error"]["step_index"] == 0 and body["route_error"]["message"]


def test_draft_form_draws_the_preview_and_the_fragment_follows_the_amount(
    client: Any, org: dict[str, Any]
) -> None:
    """Does the form show the diagram at once, and /approvals/route-preview redraw it for an amount?"""
    login(client, "yamada")
    page = client.get("/approvals/new").get_data(as_text=True)
    assert 'id="route-preview"' in page and 'class="route-diagram"' in page and "鈴木 花子" in page
    assert "route-preview.js" in page
    fragment = client.get("/approvals/route-preview?route=general&amount=1000000").get_data(as_text=True)
    assert "副島 次郎" in fragment and "佐藤 一郎" not in fragment
    bad = client.get("/approvals/route-preview?route=general&amount=abc").get_data(as_text=True)
    assert "金額に負の値は指定できません。" in bad
