"""schemathesis against /api/v1/openapi.json, in process (WSGI, no network), as a signed-in administrator.

Every operation of the document is called with requests generated from it — valid ones (positive) and
invalid ones (negative) — on a village with channels, messages, documents and 決裁 in it, and each
answer is checked against the document: no 5xx, a documented status, a documented Content-Type, a body
that matches the documented schema, invalid data refused with 4xx and valid data not refused with
400/422. The run is bounded (a few examples per operation and mode, derandomized, no shrinking) so
that it costs about a minute per database (1,026 requests; 50–95 s on the busy 2-core machine);
`WORKSPACE_SCHEMATHESIS_EXAMPLES` raises it by hand (25 examples ran clean in 330 s).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.approvals import test_service_support as support
from tests.chat.conftest import isolated
from tests.conftest import PASSWORD
from tests.docsearch.samples import pdf_bytes
from workspace import auth, calendar, db, directory
from workspace.openapi import build_spec, path_parameters

org = support.org
shared_keys = support.shared_keys
app_config = support.app_config

EXAMPLES = int(os.environ.get("WORKSPACE_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]
# Operations that end the caller's own credentials get a fresh token for every request.
REVOKES_CALLER = {("DELETE", "/api/v1/auth/token")}
# Valid-looking data that a rule beyond what OpenAPI 3.0 can say refuses (400/422): a name that must
# exist, exactly one of two query parameters. Only the positive_data_acceptance check is waived for
# these operations, and only for 400/415/422; every other check still holds.
REFUSED_BY_RULE = {
    "GET /api/v1/admin/chat/export": "exactly one of channel_id and username",
    "POST /api/v1/admin/classifications/import": "file must be a 文書分類 CSV (header, codes, 保存年限)",
    "POST /api/v1/admin/chat/exports": "exactly one of channel_id and username, an existing one",
    "POST /api/v1/admin/channels/{channel_id}/members": "a private channel; usernames of existing people",
    "POST /api/v1/approval-routes": "steps are a route template (approvals/routes.py), checked as a whole",
    "POST /api/v1/approvals": "route must name an existing route template (code unknown_route)",
    "PATCH /api/v1/approvals/{request_id}": "route and classification must exist",
    "POST /api/v1/approvals/absences": "user and deputy must be existing people, from ≤ until",
    "POST /api/v1/approval-routes/{key}/preview": "the approvers of the route must resolve for the caller",
    "POST /api/v1/approval-routes/{key}/trial": "drafter must be an active user with a 課 (field drafter)",
    "POST /api/v1/admin/approval-routes/check": "a route template naming existing 役職, 課 and 職員",
    "POST /api/v1/channels": "members must be existing usernames (code unknown_user)",
    "POST /api/v1/documents": "department_code and classification must exist; the file must be a document",
    "POST /api/v1/documents/{doc_id}/versions": "the file must be a kind the registry holds",
    "POST /api/v1/documents/{doc_id}/extend": "the new date must be after the current end",
    "POST /api/v1/channels/{channel_id}/attachments": "the content must be a kind chat accepts (sniffed)",
    "POST /api/v1/approvals/{request_id}/attachments": "the content must be a kind 決裁 accepts (sniffed)",
    "GET /api/v1/search": "q must hold a word, not only symbols (code empty_query)",
    "POST /api/v1/approvals/{request_id}/actions": "to_step must name an earlier step of the route",
    "POST /api/v1/channels/{channel_id}/messages": "attachment_ids must be my unsent uploads in the channel",
    "POST /api/v1/admin/departments": "code must be new, parent_code an active 課, the prefix unused",
    "PATCH /api/v1/admin/departments/{code}": "parent_code must be an active 課 (a 係 only), the prefix free",
    "POST /api/v1/admin/transfers": "username must be an active person, unit an active 課 or 係",
    "POST /api/v1/admin/users": "department_code must name a 課, 読み must be kana, mail an address",
}
def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _token(user: Any) -> str:
    _row, secret = auth.create_token(user, "schemathesis")
    db.session().commit()
    return secret


@pytest.fixture
def lived_in(app: Any, client: Any, org: dict[str, Any]) -> dict[str, Any]:
    """An administrator with the records role, and a little of everything for the ids to find."""
    kiroku = directory.add_local_user(
        "kiroku", "記録 文子", PASSWORD, department_code="01", title="主事", roles=("admin", "records")
    )
    db.session().commit()
    token = _token(kiroku)
    headers = _bearer(token)
    channels = client.get("/api/v1/channels", headers=headers).get_json()["channels"]
    channel = next(c["id"] for c in channels if c["name"] == "総務課")
    hello = {"body": "おはようございます"}
    first = client.post(f"/api/v1/channels/{channel}/messages", json=hello, headers=headers)
    assert first.status_code == 201, first.get_json()
    reply = {"body": "返信です", "thread_id": first.get_json()["id"]}
    assert client.post(f"/api/v1/channels/{channel}/messages", json=reply, headers=headers).status_code == 201
    document = client.post(
        "/api/v1/documents",
        data={
            "title": "会議録",
            "department_code": "01",
            "fiscal_year": "2026",
            "retention_years": "5",
            "visibility": "internal",
            "file": (io.BytesIO(pdf_bytes("会議録")), "会議録.pdf"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert document.status_code == 201, document.get_json()
    draft = client.post(
        "/api/v1/approvals", json={"route": "general", "title": "備品購入", "amount": 1000}, headers=headers
    )
    assert draft.status_code == 201, draft.get_json()
    request_id = draft.get_json()["id"]
    approval_file = client.post(
        f"/api/v1/approvals/{request_id}/attachments",
        data={"file": (io.BytesIO(b"a,b\n1,2\n"), "data.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert approval_file.status_code == 201, approval_file.get_json()
    chat_file = client.post(
        f"/api/v1/channels/{channel}/attachments",
        data={"file": (io.BytesIO("メモ".encode()), "memo.txt")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert chat_file.status_code == 201, chat_file.get_json()
    today = calendar.today()
    absence = client.post(
        "/api/v1/approvals/absences",
        json={"deputy": "sato", "from": str(today), "until": str(today + dt.timedelta(days=2))},
        headers=headers,
    )
    assert absence.status_code == 201, absence.get_json()
    rows = {
        "channel_id": channel,
        "message_id": first.get_json()["id"],
        "doc_id": document.get_json()["id"],
        "request_id": request_id,
        "absence_id": absence.get_json()["id"],
        "key": "general",
        "code": "0101",  # a 係 (workspace.departments)
        "emoji": "👍",
        "approval attachment_id": approval_file.get_json()["id"],
        "chat attachment_id": chat_file.get_json()["id"],
    }
    return {"user": kiroku, "token": token, "rows": rows}


def _real_rows(operation: Any, rows: dict[str, Any]) -> dict[str, Any]:
    """The path parameters of operation filled with rows that exist (so 2xx answers are checked too)."""
    names = re.findall(r"{(\w+)}", operation.path)
    kind = "approval " if operation.path.startswith("/api/v1/approvals/") else "chat "
    return {name: rows.get(name, rows.get(kind + name)) for name in names}


def _not_set(body: Any) -> bool:
    return body is None or "NotSet" in type(body).__name__


def _waived(operation: Any, case: Any, response: Any, failure: Exception, counts: Counter) -> bool:
    """True (and counted) for a failure that REFUSED_BY_RULE covers (never a 5xx)."""
    refused = isinstance(failure, RejectedPositiveData) and response.status_code in (400, 415, 422)
    if refused and operation.label in REFUSED_BY_RULE:
        counts["waived: refused by a rule"] += 1
        return True
    return False


def _describe(operation: Any, mode: Any, case: Any, response: Any, failure: Any) -> str:
    body = "" if _not_set(case.body) else repr(case.body)[:300]
    sent = f"{case.path_parameters or ''} {case.query or ''} {body}"
    said = response.text[:200] if response.status_code >= 400 else ""
    found = f"{operation.label} [{mode.value}] {sent} → {response.status_code}: {failure.title}"
    return f"{found}\n  {failure.message}\n  {said}"


def _run(
    operation: Any, mode: Any, headers_for: Any, failures: list[str], counts: Counter, rows: Any = None
) -> None:
    """Call operation with EXAMPLES generated cases of mode (on rows that exist when rows are given);
    collect failures instead of stopping at the first."""
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=rows)

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        headers = headers_for()
        response = isolated(case.call, headers=headers)
        counts[f"{mode.value} requests"] += 1
        counts[f"status {response.status_code}"] += 1
        try:
            isolated(case.validate_response, response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                if not _waived(operation, case, response, failure, counts):
                    failures.append(_describe(operation, mode, case, response, failure)[:1200])

    check()


def test_the_api_conforms_to_its_openapi_document(app: Any, lived_in: dict[str, Any]) -> None:
    """Does every operation answer as /api/v1/openapi.json says, for valid and for invalid requests?"""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    user = lived_in["user"]
    failures: list[str] = []
    counts: Counter = Counter()
    started = time.monotonic()
    operations = 0
    # Reads first and deletions last, so that the rows the real-row runs use are still there.
    order = {"get": 0, "post": 1, "put": 1, "patch": 1, "delete": 2}
    found = sorted((r.ok() for r in schema.get_all_operations()), key=lambda o: order[o.method.lower()])
    for operation in found:
        operations += 1
        if (operation.method.upper(), operation.path) in REVOKES_CALLER:
            headers_for = lambda: _bearer(_token(user))  # noqa: E731
        else:
            headers_for = lambda: _bearer(lived_in["token"])  # noqa: E731
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, mode, headers_for, failures, counts)
        if "{" in operation.path:
            rows = _real_rows(operation, lived_in["rows"])
            _run(operation, GenerationMode.POSITIVE, headers_for, failures, counts, rows)
    # Shown with -s (and in the report of a failure): what ran, how long it took, what was waived.
    elapsed = time.monotonic() - started
    print(f"schemathesis {schemathesis.__version__}: {operations} operations in {elapsed:.1f} s")
    print(dict(sorted(counts.items())))
    print("\n\n".join(failures))
    assert operations >= 60
    assert not failures, f"{len(failures)} failures (printed above)"


def test_every_operation_with_a_path_parameter_declares_it(app: Any) -> None:
    """The parameters come from the URL rule itself, so no operation can lack one (25 once did)."""
    spec = build_spec(app)
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or not rule.arguments:
            continue
        path = rule.rule
        for param in path_parameters(rule):
            path = path.replace(f"<int:{param['name']}>", "{" + param["name"] + "}")
            path = path.replace(f"<{param['name']}>", "{" + param["name"] + "}")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            op = spec["paths"][path][method.lower()]
            declared = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
            assert set(declared) == set(rule.arguments), (method, path)
            assert all(p["required"] for p in declared.values())
            checked += 1
    assert checked >= 40


def test_every_operation_is_well_formed(app: Any) -> None:
    """YAML in a docstring can go quietly wrong (`{description: a, b}` is a mapping with two keys):
    every response has a description and only the keys OpenAPI knows, every error its JSON Error body,
    and every operation answers 401 unless it is public."""
    spec = build_spec(app)
    public = {("post", "/api/v1/auth/token")}
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert op["responses"], (method, path)
            for code, response in op["responses"].items():
                assert set(response) <= {"description", "content", "headers", "links"}, (method, path, code)
                assert isinstance(response["description"], str) and response["description"], (method, path)
                if code.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"
                    } or "schema" in response["content"]["application/json"], (method, path, code)
            if (method, path) not in public:
                assert "401" in op["responses"] and op["security"], (method, path)
