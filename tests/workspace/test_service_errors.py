"""One ServiceError, answered in one place: the JSON error body of the API, the error page, and the
acknowledgement of a Socket.IO event — for the base class and for each domain's subclass."""

from __future__ import annotations

from typing import Any

from flask import Flask

from approvals.errors import ApprovalError, Invalid
from chat.errors import ChatError
from docsearch.errors import DocumentError
from tests.chat.conftest import Person, emit
from workspace.errors import MESSAGES, ApiError, ServiceError

CLOSED = "受付期間は終了しました。"


def _add_refusing_routes(app: Flask) -> None:
    """A page and an API call that let a ServiceError through (added before the app's first request)."""

    def refuse() -> Any:
        raise ServiceError(CLOSED, "closed", status=409, field="due_on")

    app.add_url_rule("/test-refusal", "test_refusal_page", refuse)
    app.add_url_rule("/api/v1/test-refusal", "test_refusal_api", refuse)


def test_code_and_message_follow_the_status_when_not_given() -> None:
    """Does an error without code or message get the usual ones for its status, in Japanese?"""
    error = ServiceError(status=404)
    assert (error.status, error.code, error.message) == (404, "not_found", "見つかりません。")
    assert ServiceError().as_dict() == {"code": "bad_request", "message": MESSAGES[400]}
    assert ApiError(429).as_dict() == {"code": "throttled", "message": MESSAGES[429]}
    assert DocumentError(400, "sort は relevance か date です。").code == "bad_request"


def test_domain_errors_are_service_errors_with_their_own_constructors() -> None:
    """Do ChatError, ApprovalError, DocumentError and ApiError keep their signatures and share the fields?"""
    chat = ChatError(413, "大きすぎます。", "too_large")
    approval = Invalid("ファイルが空です。", code="empty_file", field="file")
    document = DocumentError(415, "登録できません。", "unsupported_type")
    api = ApiError(400, "JSONオブジェクトを送ってください。")
    assert all(isinstance(e, ServiceError) for e in (chat, approval, document, api))
    assert (chat.status, chat.code) == (413, "too_large")
    assert approval.as_dict() == {"code": "empty_file", "message": "ファイルが空です。", "field": "file"}
    assert (approval.status, ApprovalError("x").code) == (422, "bad_request")
    refused = {"code": "unsupported_type", "message": "登録できません。"}
    assert document.ack() == {"ok": False, "error": refused}
    assert (api.code, str(api)) == ("bad_request", "JSONオブジェクトを送ってください。")


def test_raised_in_an_api_call_it_is_the_json_error_body(app: Any, client: Any) -> None:
    """Is a ServiceError from an /api/v1 view answered {"error": {"code", "message", …}} with its status?"""
    _add_refusing_routes(app)
    response = client.get("/api/v1/test-refusal")
    assert response.status_code == 409
    assert response.get_json() == {"error": {"code": "closed", "message": CLOSED, "field": "due_on"}}


def test_raised_in_a_page_view_it_is_the_error_page(app: Any, client: Any) -> None:
    """Is a ServiceError from a page answered with the error page, its status and its message?"""
    _add_refusing_routes(app)
    response = client.get("/test-refusal")
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert CLOSED in page and "エラー番号: 409" in page


def test_each_domains_api_answers_through_the_same_mapping(client: Any, village: Any) -> None:
    """Do chat, the registry and 決裁 answer their own refusals with the documented body (no own handlers)?"""
    yamada = Person(client.application, client, "yamada")
    chat = yamada.get("/channels?scope=everything")
    assert chat.status_code == 400
    assert chat.get_json() == {
        "error": {"code": "bad_request", "message": "scope は mine か joinable を指定してください。"}
    }
    search = yamada.get("/search?q=予算&sort=sideways")
    assert search.status_code == 400
    refused = {"code": "bad_request", "message": "sort は relevance か date です。"}
    assert search.get_json() == {"error": refused}
    approval = yamada.get("/approvals/2147483000")
    assert approval.status_code == 404
    assert approval.get_json() == {"error": {"code": "not_found", "message": "起案が見つかりません。"}}


def test_raised_in_a_socket_handler_it_is_the_acknowledgement(app: Any, client: Any, village: Any) -> None:
    """Is a refusal in a Socket.IO handler acknowledged {"ok": false, "error"}, and the next event served?"""
    yamada = Person(app, client, "yamada")
    soumu = yamada.channel_id("総務課")
    ws = yamada.socket()
    assert emit(ws, "message:send", "not an object") == {
        "ok": False,
        "error": {"code": "bad_request", "message": "オブジェクトを送ってください。"},
    }
    assert emit(ws, "message:send", {"channel_id": 2147483000, "body": "x", "client_msg_id": "n1"}) == {
        "ok": False,
        "error": {"code": "not_found", "message": "見つかりません。"},
    }
    empty = emit(ws, "message:send", {"channel_id": soumu, "body": "  ", "client_msg_id": "e1"})
    assert empty == {"ok": False, "error": {"code": "empty", "message": "メッセージを入力してください。"}}
    sent = emit(ws, "message:send", {"channel_id": soumu, "body": "了解です", "client_msg_id": "ok1"})
    assert sent["ok"] is True and sent["message"]["body"] == "了解です"
