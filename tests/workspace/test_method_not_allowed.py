"""A 405 keeps its `Allow` header, in JSON on /api/v1 and on the HTML error page.

The JSON error handler used to build a fresh response and drop the HTTPException's headers, so a
client could not learn which methods a route takes (RFC 9110 §15.5.6 requires Allow on a 405).
"""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import api_token, login

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _sample(rule: str) -> str:
    """The rule with every variable filled in (1 for ids, a word otherwise)."""
    return re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", rule)


def _allowed_by_path(app: Any) -> dict[str, set[str]]:
    allowed: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        allowed.setdefault(_sample(rule.rule), set()).update(rule.methods or ())
    return allowed


def test_a_wrong_method_on_every_api_route_is_405_json_with_allow(app: Any, client: Any, village: Any) -> None:  # noqa: E501
    headers = {"Authorization": f"Bearer {api_token(client, 'yamada')}"}
    checked = 0
    for path, methods in sorted(_allowed_by_path(app).items()):
        if not path.startswith("/api/v1/"):
            continue
        wrong = next(m for m in METHODS if m not in methods)
        response = client.open(path, method=wrong, headers=headers)
        assert response.status_code == 405, (wrong, path, response.status_code)
        assert response.get_json()["error"]["code"] == "method_not_allowed"
        allow = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
        assert allow == methods, (wrong, path, allow, methods)
        checked += 1
    assert checked > 40


def test_put_on_the_token_route_lists_post_and_delete(client: Any, village: Any) -> None:
    response = client.put("/api/v1/auth/token", json={})
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"POST", "DELETE", "OPTIONS"}


def test_the_html_error_page_keeps_allow_too(client: Any, village: Any) -> None:
    assert login(client, "yamada").status_code == 302
    response = client.delete("/login")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
