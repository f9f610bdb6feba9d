"""Real parallel requests against the real server: exactly one state change, everyone else gets 409.

Run on SQLite (BEGIN IMMEDIATE serializes writers) and PostgreSQL (SELECT … FOR UPDATE on the request
row plus the optimistic version column): ``WORKSPACE_TEST_DB=postgresql pytest tests/approvals``.
"""

from __future__ import annotations

import threading
from typing import Any

import requests

from approvals import route_store
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import CONSULT, GENERAL, bearer
from tests.conftest import PASSWORD
from workspace import db, directory

# Fixtures shared with the other approval test modules.
app_config = support.app_config
shared_keys = support.shared_keys


def _token(server: Any, username: str) -> str:
    response = requests.post(
        f"{server.url}/api/v1/auth/token", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()["token"]


def _parallel(calls: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[requests.Response]:
    """POST every (url, body, headers) at the same moment from its own thread; return the responses."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        with requests.Session() as http:
            barrier.wait()
            results[i] = http.post(url, json=body, headers=headers, timeout=120)

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def _setup(village: dict[str, Any]) -> None:
    directory.add_local_user("kikaku", "企田 三郎", PASSWORD, department_code="02", title="課長")
    route_store.save(GENERAL, village["admin"])
    route_store.save(CONSULT, village["admin"])
    db.session().commit()


def test_same_approver_twenty_times_at_once_changes_state_once(
    live_server: Any, village: dict[str, Any]
) -> None:
    """Does one approver pressing 承認 20 times at once make one change and get 409 for the rest?"""
    _setup(village)
    yamada, suzuki = _token(live_server, "yamada"), _token(live_server, "suzuki")
    created = requests.post(
        f"{live_server.url}/api/v1/approvals",
        json={"route": "general", "title": "同時承認", "submit": True},
        headers=bearer(yamada),
        timeout=30,
    )
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    url = f"{live_server.url}/api/v1/approvals/{request_id}/actions"
    responses = _parallel([(url, {"action": "approve"}, bearer(suzuki))] * 20)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code not in (200, 409)]
    loser = next(r for r in responses if r.status_code == 409).json()["error"]
    assert loser["code"] == "conflict" and loser["request"]["id"] == request_id
    state = requests.get(
        f"{live_server.url}/api/v1/approvals/{request_id}", headers=bearer(yamada), timeout=30
    ).json()
    assert [h["action"] for h in state["history"]] == ["submit", "approve"]
    assert state["steps"][0]["approvers"][0]["status"] == "approved"
    assert state["steps"][1]["status"] == "pending"


def test_two_consultees_of_an_any_group_at_once_one_wins(live_server: Any, village: dict[str, Any]) -> None:
    """Do two 合議 'any' members approving at the same moment settle the group once?"""
    _setup(village)
    yamada, suzuki = _token(live_server, "yamada"), _token(live_server, "suzuki")
    kikaku, tanaka = _token(live_server, "kikaku"), _token(live_server, "tanaka")
    created = requests.post(
        f"{live_server.url}/api/v1/approvals",
        json={"route": "consult", "title": "合議同時", "submit": True},
        headers=bearer(yamada),
        timeout=30,
    ).json()
    base = f"{live_server.url}/api/v1/approvals/{created['id']}"
    assert requests.post(f"{base}/actions", json={"action": "approve"}, headers=bearer(suzuki), timeout=30).ok
    responses = _parallel(
        [
            (f"{base}/actions", {"action": "approve"}, bearer(kikaku)),
            (f"{base}/actions", {"action": "approve"}, bearer(tanaka)),
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    state = requests.get(base, headers=bearer(yamada), timeout=30).json()
    assert [h["action"] for h in state["history"]] == ["submit", "approve", "approve"]
    consult = state["steps"][1]["approvers"]
    assert sorted(a["status"] for a in consult) == ["approved", "not_needed"]


def test_parallel_submissions_number_without_gap_or_duplicate(
    live_server: Any, village: dict[str, Any]
) -> None:
    """Do 12 起案 submitted at once with number_at=submission get 総第1号 … 総第12号 exactly once each?"""
    _setup(village)
    yamada = _token(live_server, "yamada")
    url = f"{live_server.url}/api/v1/approvals"
    body = {"route": "consult", "title": "番号", "submit": True}
    responses = _parallel([(url, body, bearer(yamada))] * 12)
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    numbers = sorted(r.json()["document_number"] for r in responses)
    assert numbers == sorted(f"総第{n}号" for n in range(1, 13))
