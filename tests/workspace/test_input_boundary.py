"""The input boundary (workspace/inputs.py): each class of hostile input gets its documented status.

Every test performs the attack of issue 11, finding 4; on the code before the fix each answered 500,
raised inside a Socket.IO handler (no acknowledgement), or showed Python's own exception text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.approvals import test_service_support as support
from tests.chat.conftest import Person, emit, isolated
from tests.conftest import PASSWORD, api_token, csrf_from, login
from workspace import db
from workspace.models import ApiToken

# The approval fixtures (the org with its route templates, the shared signing keys).
app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

HUGE = 2**63
BEYOND_INTEGER = 2**31  # past PostgreSQL's INTEGER, inside bigint: failed the statement there
DEEP = '{"username": "yamada", "password": "x", "a": ' + "[" * 5000 + "]" * 5000 + "}"


def _json(client: Any, path: str, body: str, headers: dict[str, str] | None = None) -> Any:
    return client.post(path, data=body, content_type="application/json", headers=headers or {})


def _bearer(client: Any, username: str = "yamada") -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token(client, username)}"}


# --- the parser --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["²", "１", "١", "+1", " 1", "1 ", "1_000", "0x1", "", "9" * 20, str(HUGE), str(BEYOND_INTEGER)]
)
def test_the_id_parser_takes_only_ascii_digits_within_the_id_range(text: str) -> None:
    from workspace import inputs

    assert inputs.parse_id(text) is None


def test_the_id_parser_takes_the_whole_id_range_and_json_numbers_only_for_json_ids() -> None:
    from workspace import inputs

    assert inputs.parse_id("1") == 1 and inputs.parse_id(str(BEYOND_INTEGER - 1)) == BEYOND_INTEGER - 1
    assert inputs.parse_id("0") is None and inputs.parse_id(True) is None
    assert inputs.json_id(5) == 5 and inputs.json_id("5") is None and inputs.json_id(HUGE) is None
    assert inputs.json_id(BEYOND_INTEGER) is None


def test_depth_is_measured_without_parsing_and_brackets_in_strings_do_not_count() -> None:
    from workspace import inputs

    assert inputs.json_depth("[" * 100_000) == 100_000
    assert inputs.json_depth('{"a": "[[[[[[", "b": [1, {"c": "\\"]]]"}]}') == 3


# --- path ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("segment", [str(HUGE), "9" * 40, "0", "１", "²"])
def test_a_path_id_beyond_bigint_or_in_unicode_digits_is_404(client: Any, village: Any, segment: str) -> None:
    headers = _bearer(client)
    for path in (f"/api/v1/approvals/{segment}", f"/api/v1/channels/{segment}/messages",
                 f"/api/v1/documents/{segment}", f"/api/v1/messages/{segment}/thread"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"


def test_path_ids_on_pages_and_forms_are_404_for_every_method(client: Any, village: Any) -> None:
    assert login(client, "yamada").status_code == 302
    token = csrf_from(client.get("/settings").get_data(as_text=True))
    assert client.get(f"/approvals/{HUGE}").status_code == 404
    assert client.get(f"/documents/{HUGE}").status_code == 404
    assert client.post(f"/settings/tokens/{HUGE}/revoke", data={"csrf_token": token}).status_code == 404
    # Werkzeug checks the method before the converter: the bound must not turn this into a 405.
    assert client.get(f"/api/v1/approvals/{HUGE}/attachments").status_code == 404


# --- query values ------------------------------------------------------------------------------


def test_query_numbers_beyond_bigint_or_in_unicode_digits_are_refused(client: Any, village: Any) -> None:
    yamada = Person(client.application, client, "yamada")
    channel_id = yamada.channel_id("総務課")
    for query in (f"after={HUGE}", "before=²", "limit=１"):
        response = yamada.get(f"/channels/{channel_id}/messages?{query}")
        assert response.status_code == 400, query
        assert "整数" in response.get_json()["error"]["message"]
    assert yamada.get(f"/approvals/inbox?offset={HUGE}").status_code == 400
    assert yamada.get("/search?q=x&fiscal_year=²").status_code == 400
    assert yamada.get(f"/search?q=x&offset={HUGE}").status_code == 400
    assert yamada.get(f"/notifications?limit={HUGE}").status_code == 400
    assert login(client, "yamada").status_code == 302
    assert client.get(f"/documents?page={HUGE}&fiscal_year={HUGE}").status_code == 200


def test_a_nul_in_a_path_segment_is_400_before_any_lookup(client: Any, village: Any) -> None:
    response = client.get("/api/v1/approval-routes/%00", headers=_bearer(client))
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_text"


def test_a_nul_in_a_lookup_by_query_or_form_names_nothing(client: Any, org: Any) -> None:
    """PostgreSQL cannot hold NUL in text, so the driver raised (500) for these lookups."""
    assert login(client, "yamada").status_code == 302
    listed = client.get("/documents?title=%00&department=%00&classification=%00&visibility=%00")
    assert listed.status_code == 200
    assert client.get("/approvals/route-preview?route=%00").status_code == 200
    token = csrf_from(client.get("/approvals/new").get_data(as_text=True))
    drafted = client.post("/approvals/new", data={"csrf_token": token, "route": "\x00", "title": "x"})
    assert drafted.status_code in (404, 422)


@pytest.mark.parametrize("amount", ["²", "１０００", str(HUGE), "abc"])
def test_route_preview_refuses_unicode_digits_like_letters(client: Any, org: Any, amount: str) -> None:
    """The fragment is swapped into the form by JavaScript: a bad amount shows the amount message."""
    assert login(client, "yamada").status_code == 302
    response = client.get(f"/approvals/route-preview?route=general&amount={amount}")
    assert response.status_code == 200
    assert "金額" in response.get_data(as_text=True)


# --- JSON and form fields ------------------------------------------------------------------------


def test_json_ids_beyond_bigint_name_nothing(client: Any, org: Any) -> None:
    yamada = Person(client.application, client, "yamada")
    channel_id = yamada.channel_id("総務課")
    reply = yamada.post(f"/channels/{channel_id}/messages", {"body": "返信", "thread_id": HUGE})
    assert reply.status_code == 422 and reply.get_json()["error"]["code"] == "bad_thread"
    attached = yamada.post(f"/channels/{channel_id}/messages", {"body": "添付", "attachment_ids": [HUGE]})
    assert attached.status_code == 422 and attached.get_json()["error"]["code"] == "bad_attachment"
    read = yamada.post(f"/channels/{channel_id}/read", {"last_read_id": HUGE})
    assert read.status_code == 400
    bulk = yamada.post("/approvals/bulk", {"ids": [HUGE], "action": "approve"})
    assert bulk.status_code == 200 and bulk.get_json()["results"][0]["error"]["code"] == "not_found"
    assert yamada.post("/notifications/read", {"ids": [HUGE]}).status_code == 204
    proposal = yamada.post("/retention/disposal-proposals", {"document_ids": [HUGE], "reason": "x"})
    assert proposal.status_code in (403, 422)


def test_the_bulk_approve_form_ignores_unicode_digit_ids(client: Any, org: Any) -> None:
    assert login(client, "sato").status_code == 302
    token = csrf_from(client.get("/approvals/").get_data(as_text=True))
    response = client.post("/approvals/bulk", data={"csrf_token": token, "ids": ["²", str(HUGE)]})
    assert response.status_code == 302
    assert "選んでください" in client.get("/approvals/").get_data(as_text=True)


def test_absence_cancel_with_a_hostile_id_is_refused_not_500(client: Any, org: Any) -> None:
    assert login(client, "yamada").status_code == 302
    token = csrf_from(client.get("/approvals/absence").get_data(as_text=True))
    for value in ("²", str(HUGE)):
        response = client.post("/approvals/absence", data={"csrf_token": token, "cancel": value})
        assert response.status_code == 422, value


# --- deep JSON ----------------------------------------------------------------------------------


def test_deep_json_to_the_token_endpoint_is_400_unauthenticated(client: Any, village: Any) -> None:
    """The sign-in throttle reads the body in its key function, before the view: that raised first."""
    response = _json(client, "/api/v1/auth/token", DEEP)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "too_deep" and "入れ子" in error["message"]
    assert db.session().execute(select(func.count()).select_from(ApiToken)).scalar() == 0


def test_json_at_the_depth_limit_is_parsed_and_one_deeper_is_refused(client: Any, village: Any) -> None:
    headers = _bearer(client)
    at_limit = json.dumps({"ids": [1], "x": json.loads("[" * 63 + "]" * 63)})
    assert _json(client, "/api/v1/notifications/read", at_limit, headers).status_code == 204
    too_deep = json.dumps({"ids": [1], "x": json.loads("[" * 64 + "]" * 64)})
    assert _json(client, "/api/v1/notifications/read", too_deep, headers).status_code == 400


def test_deep_json_to_every_kind_of_json_endpoint_is_400(client: Any, org: Any) -> None:
    headers = _bearer(client, "admin")
    for path in ("/api/v1/channels", "/api/v1/approvals", "/api/v1/approval-routes",
                 "/api/v1/approval-routes/general/preview", "/api/v1/approvals/absences"):
        assert _json(client, path, "[" * 5000 + "]" * 5000, headers).status_code == 400, path


# --- lone surrogates ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["username", "password", "name"])
def test_a_lone_surrogate_in_the_token_request_is_400(client: Any, village: Any, field: str) -> None:
    body = {"username": "yamada", "password": PASSWORD, "name": "API"}
    raw = json.dumps(body).replace(f'"{body[field]}"', '"x\\ud800"')
    response = _json(client, "/api/v1/auth/token", raw)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_text" and "サロゲート" in error["message"]
    assert "codec" not in error["message"]
    assert db.session().execute(select(func.count()).select_from(ApiToken)).scalar() == 0


def test_lone_surrogates_are_refused_where_they_used_to_fail_on_save(client: Any, org: Any) -> None:
    headers = _bearer(client, "yamada")
    channel_id = Person(client.application, client, "suzuki").channel_id("総務課")
    for path, raw in (
        (f"/api/v1/channels/{channel_id}/messages", '{"body": "\\ud800"}'),
        ("/api/v1/channels", '{"name": "\\udfff", "kind": "public"}'),
        ("/api/v1/approvals", '{"route": "general", "title": "\\ud800", "body": "x"}'),
        ("/api/v1/approvals/absences", '{"from": "2026-01-05", "until": "2026-01-06", "note": "\\ud800"}'),
    ):
        response = _json(client, path, raw, headers)
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "invalid_text"


def test_a_refused_token_name_still_answers_its_japanese_422(client: Any, village: Any) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD,
                                                        "name": "x" * 101})
    assert response.status_code == 422 and "100文字" in response.get_json()["error"]["message"]


# --- Socket.IO ---------------------------------------------------------------------------------


def test_socket_events_with_ids_beyond_bigint_acknowledge_an_error(client: Any, village: Any) -> None:
    yamada = Person(client.application, client, "yamada")
    channel_id = yamada.channel_id("総務課")
    ws = yamada.socket()
    for payload in ({"channel_id": channel_id, "body": "x", "thread_id": HUGE},
                    {"channel_id": HUGE, "body": "x"},
                    {"channel_id": channel_id, "body": "x", "attachment_ids": [HUGE]}):
        ack = emit(ws, "message:send", payload)
        assert ack["ok"] is False and ack["error"]["code"] in ("bad_thread", "not_found", "bad_attachment")
    assert emit(ws, "typing", {"channel_id": HUGE})["ok"] is False
    assert ws.is_connected()


def test_socket_packets_too_deep_or_with_lone_surrogates_are_acknowledged_with_400(
    client: Any, village: Any
) -> None:
    from workspace.realtime import socketio

    yamada = Person(client.application, client, "yamada")
    ws = yamada.socket()

    def raw(args: str) -> Any:
        ws.acks = None
        socketio.server._handle_eio_message(ws.eio_sid, '21["message:send",' + args + "]")
        return ws.acks["args"][0]

    deep = isolated(raw, "[" * 5000 + "]" * 5000)
    assert deep["ok"] is False and deep["error"]["code"] == "too_deep"
    lone = isolated(raw, '{"channel_id": 1, "body": "\\ud800"}')
    assert lone["ok"] is False and lone["error"]["code"] == "invalid_text"
    assert ws.is_connected()


def test_an_unexpected_error_in_a_socket_event_is_still_acknowledged(
    client: Any, village: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chat import channels

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("a bug")

    yamada = Person(client.application, client, "yamada")
    ws = yamada.socket()
    monkeypatch.setattr(channels, "require_member", broken)
    ack = emit(ws, "typing", {"channel_id": 1})
    assert ack == {"ok": False, "error": {"code": "internal", "message": ack["error"]["message"]}}
    assert "a bug" not in ack["error"]["message"]



def test_the_admin_export_with_a_channel_id_beyond_bigint_is_refused(client: Any, village: Any) -> None:
    """Administrators only (the fuzz test signs in as 主事): the same parser covers their query too."""
    headers = _bearer(client, "admin")
    for value in (str(HUGE), "²"):
        response = client.get(f"/api/v1/admin/chat/export?channel_id={value}", headers=headers)
        assert response.status_code == 400, value


def test_a_nul_in_a_username_to_look_up_names_nobody(client: Any, org: Any) -> None:
    """An absence for a 代決者 named with a NUL was a 500 on PostgreSQL (the driver refuses NUL)."""
    headers = _bearer(client, "yamada")
    body = {"from": "2026-12-07", "until": "2026-12-08", "deputy": "suzuki\x00", "user": "yamada\x00"}
    response = client.post("/api/v1/approvals/absences", json=body, headers=headers)
    assert response.status_code in (400, 422), response.get_json()
    from workspace import directory

    assert directory.get_user("yamada\x00") is None and directory.get_department("01\x00") is None
