"""The 差戻し reason: 今日の仕事 and the request's page give the same one (one helper, serialize's)."""

from __future__ import annotations

from typing import Any

from approvals import home, service
from approvals.serialize import request_json
from tests.approvals import test_service_support as support

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


def _home_reason(user: Any, request_id: int) -> Any:
    return {item["id"]: item["reason"] for item in home.today(user)["sent_back"]}[request_id]


def test_home_and_the_request_agree_on_the_send_back_reason(org: dict[str, Any]) -> None:
    """Is the reason the latest 差戻し's, null without a comment, and none after the drafter's own 引戻し?"""
    yamada = org["yamada"]
    row = service.create(yamada, {"route": "general", "title": "備品", "amount": 1000, "submit": True})
    service.act(org["suzuki"], row.id, "send_back", comment="見積を添付してください")
    assert _home_reason(yamada, row.id) == "見積を添付してください"
    assert request_json(row, yamada)["send_back_reason"] == "見積を添付してください"

    service.act(yamada, row.id, "resubmit")
    row = service.act(yamada, row.id, "pull_back")  # taken back before 鈴木 looked: sent_back, no reason
    assert row.status == "sent_back"
    assert request_json(row, yamada)["send_back_reason"] is None
    assert _home_reason(yamada, row.id) is None  # not the earlier round's reason

    service.act(yamada, row.id, "resubmit")
    row = service.act(org["suzuki"], row.id, "send_back")
    assert request_json(row, yamada)["send_back_reason"] == ""
    assert _home_reason(yamada, row.id) is None  # GET /api/v1/home has always said null here
