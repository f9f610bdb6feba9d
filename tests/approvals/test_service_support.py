"""Fixtures and helpers shared by the approval service, API, numbering and concurrency tests.

(A module of fixtures, not tests: test modules import what they need from here.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from approvals import route_store
from tests.conftest import PASSWORD
from workspace import calendar, db, directory, realtime

GENERAL = {
    "key": "general",
    "name": "一般文書",
    "number_format": "榛{dept_prefix}第{n}号",
    "number_at": "decision",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {
            "kind": "decide",
            "authority": [
                {"max_amount": 500000, "approver": {"relation": "department_head"}},
                {"max_amount": 5000000, "approver": {"title": "副村長"}},
                {"approver": {"title": "村長"}},
            ],
        },
    ],
}

CONSULT = {
    "key": "consult",
    "name": "合議つき文書",
    "number_format": "{dept_prefix}第{n}号",
    "number_at": "submission",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {
            "kind": "consult",
            "mode": "any",
            "approvers": [{"department": "02", "title": "課長"}, {"user": "tanaka"}],
        },
        {"kind": "circulate", "approvers": [{"user": "admin"}]},
        {"kind": "decide", "authority": [{"approver": {"relation": "department_head"}}]},
    ],
}


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """Return an aware JST time."""
    return dt.datetime(year, month, day, hour, tzinfo=calendar.JST)


@pytest.fixture
def org(village: dict[str, Any]) -> dict[str, Any]:
    """The village plus 村長, 副村長 and the 企画財政課長, and the two route templates above."""
    people = dict(village)
    people["soncho"] = directory.add_local_user(
        "soncho", "村上 村長", PASSWORD, department_code="01", title="村長"
    )
    people["fuku"] = directory.add_local_user(
        "fuku", "副島 次郎", PASSWORD, department_code="01", title="副村長"
    )
    people["kikaku"] = directory.add_local_user(
        "kikaku", "企田 三郎", PASSWORD, department_code="02", title="課長"
    )
    route_store.save(GENERAL, people["admin"])
    route_store.save(CONSULT, people["admin"])
    db.session().commit()
    return people


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[set[int], str, dict[str, Any]]]:
    """Capture every Socket.IO notification (after commit) as (user ids, event, payload)."""
    captured: list[tuple[set[int], str, dict[str, Any]]] = []
    monkeypatch.setattr(
        realtime, "notify", lambda ids, event, payload: captured.append((set(ids), event, payload))
    )
    return captured


def bearer(token: str) -> dict[str, str]:
    """Return the Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def shared_keys(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One village key pair for the whole run: RSA key generation is slow and not what is tested."""
    from approvals.signing_keys import init_keys

    path = tmp_path_factory.mktemp("approval-keys") / "keys"
    init_keys(path, village_name="榛東村")
    return str(path)


@pytest.fixture
def app_config(shared_keys: str) -> dict[str, Any]:
    """Point the approvals at the shared keys (modules import this to override the core fixture)."""
    return {"APPROVALS_KEY_DIR": shared_keys}
