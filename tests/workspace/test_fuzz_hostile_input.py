"""Every route of the URL map and every Socket.IO event, fed each class of hostile input: never a 5xx.

The routes come from app.url_map and the events from the Socket.IO server's handler table, so a new
route or event is covered without touching this file. Each hostile value goes into the path ids, the
query string, a JSON body and a form body — one field at a time (the other fields plausible, so the
view gets as far as that field) and all fields at once. Bodies nested 5,000 deep and strings with lone
surrogates go to every route. Signed in as an ordinary member of staff, and signed out.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import csrf_from, login
from workspace.realtime import socketio

HUGE = 2**63
HUGE_TEXT = str(HUGE)

# Values for one field. Text values go into paths, query strings and forms; JSON values into bodies.
TEXT_HOSTILE = {
    "huge": HUGE_TEXT,
    "beyond_integer": str(2**31),  # past PostgreSQL's INTEGER id columns
    "beyond_any_int": "9" * 40,
    "negative": "-1",
    "zero": "0",
    "unicode_digit": "²",
    "fullwidth_digit": "１２",
    "nul": "\x00",
}
JSON_HOSTILE = {
    "huge": HUGE,
    "beyond_integer": 2**31,
    "huge_text": HUGE_TEXT,
    "huge_negative": -HUGE - 1,
    "negative": -1,
    "unicode_digit": "²",
    "fullwidth_digit": "１２",
    "surrogate": "\ud800",
    "nul": "\x00",
}
# Whole bodies: nested far beyond any sensible depth (the recursive parser gives up near 1,000), and
# a lone surrogate escape (valid JSON, not encodable as UTF-8).
DEEP_ARRAY = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000
SURROGATE_BODY = '{"name": "\\ud800", "body": "\\udfff", "title": "x\\ud800"}'
PER_FIELD = ("huge", "negative", "unicode_digit", "fullwidth_digit", "nul")  # the costly loop: fewer
BODIES = {"deep array": DEEP_ARRAY, "deep object": DEEP_OBJECT, "surrogate": SURROGATE_BODY}
RAW_PATH_HOSTILE = {"huge": HUGE_TEXT, "nul": "%00", "surrogate_bytes": "%ED%A0%80", "unicode_digit": "²"}

_NAME = r'"([a-z][a-z_]*)"'
_READS = re.compile(
    rf"(?:\.get|\.getlist|_form_int|_int|_date|_arg_int)\(\s*{_NAME}|\[\s*{_NAME}\s*\]"
)
_NUMBERISH = re.compile(r"(^|_)(ids?|after|before|limit|offset|page|years?|amount|step|days|version)$")
_PASSES_WHOLE_INPUT = re.compile(r"json_body\(\)\)|to_dict\(\)|request\.form\)|request\.args\)|, data\)")
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workspace", "chat", "approvals", "docsearch")


def _names_read(source: str) -> set[str]:
    return {a or b for a, b in _READS.findall(source)}


def _all_numberish_names() -> set[str]:
    """Field names that look like ids or numbers, read anywhere in the application's packages."""
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).glob("*.py"):
            names |= {n for n in _names_read(path.read_text(encoding="utf-8")) if _NUMBERISH.search(n)}
    return names


NUMBERISH = _all_numberish_names()


def fields_of(view: Any) -> set[str]:
    """The request fields a view reads; a view handing its whole input to a service gets every id name."""
    source = inspect.getsource(inspect.unwrap(view))
    names = _names_read(source)
    if _PASSES_WHOLE_INPUT.search(source):
        names |= NUMBERISH
    return names


def sample(name: str, ids: dict[str, int]) -> Any:
    """A plausible value for a field, so a view gets past it to the hostile one."""
    if name in ids:
        return ids[name]
    if name == "ids" or name.endswith("_ids"):
        return [ids.get(name[:-1], 1)]
    if name == "id" or name.endswith("_id") or _NUMBERISH.search(name):
        return 1
    if name == "members":
        return ["suzuki"]
    return "試験"


def _hostile_for(name: str, value: Any) -> Any:
    return [1, value] if name == "ids" or name.endswith("_ids") or name == "members" else value


def path_for(rule: Any, ids: dict[str, int], hostile: tuple[str, str] | None = None) -> str:
    """The rule's path with every argument filled: a real id, or the hostile text in (arg, text)."""
    path = rule.rule
    for arg, converter in rule._converters.items():
        value = hostile[1] if hostile and hostile[0] == arg else str(ids.get(arg, 1))
        if hostile is None and type(converter).__name__ not in ("IntegerConverter", "IdConverter"):
            value = "general" if arg == "key" else "x"
        path = re.sub(rf"<(?:[^<>:]+:)?{arg}>", value, path)
    return path


def routes(app: Any) -> Iterator[tuple[Any, str]]:
    """(rule, method) for every route; reads first, then writes, deletes, and signing out last."""
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 1, "DELETE": 2}
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.endswith(".static")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    pairs.sort(key=lambda p: (p[0].endpoint == "workspace.logout", order.get(p[1], 1), p[0].rule))
    return iter(pairs)


class Fuzzer:
    """Sends the attacks and records every 5xx (and every path id that was not a 404)."""

    def __init__(self, app: Any, client: Any, ids: dict[str, int], csrf: str | None) -> None:
        self.app, self.client, self.ids, self.csrf = app, client, ids, csrf
        self.failures: list[str] = []
        self.sent = 0
        self.statuses: Counter[int] = Counter()

    def send(self, method: str, path: str, what: str, expect_404: bool = False, **kw: Any) -> None:
        headers = {"X-CSRFToken": self.csrf} if self.csrf else {}
        if "json" in kw:  # escaped as a client would send it (the test client's own dumps cannot)
            kw["data"], kw["content_type"] = json.dumps(kw.pop("json")), "application/json"
        response = self.client.open(path, method=method, headers=headers, **kw)
        self.sent += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500 or (expect_404 and response.status_code != 404):
            self.failures.append(f"{method} {path[:90]!r} [{what}] → {response.status_code}")

    def form(self, data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "csrf_token": self.csrf} if self.csrf else data

    def route(self, rule: Any, method: str, one_field_at_a_time: bool) -> None:
        view = self.app.view_functions[rule.endpoint]
        source = inspect.getsource(inspect.unwrap(view))
        fields = sorted(fields_of(view))
        path = path_for(rule, self.ids)
        for arg in rule.arguments:
            int_arg = type(rule._converters[arg]).__name__ in ("IntegerConverter", "IdConverter")
            for name, text in (TEXT_HOSTILE if int_arg else RAW_PATH_HOSTILE).items():
                self.send(method, path_for(rule, self.ids, (arg, text)), f"path {arg}={name}",
                          expect_404=int_arg)
        # Every field at once: the first one the view checks meets the hostile value.
        for name, text in TEXT_HOSTILE.items():
            self.send(method, path, f"query all={name}", query_string={f: text for f in fields or ["x"]})
            if method != "GET":
                self.send(method, path, f"form all={name}", data=self.form({f: text for f in fields}))
        if method != "GET":
            for name, value in JSON_HOSTILE.items():
                body = {f: _hostile_for(f, value) for f in fields or ["x"]}
                self.send(method, path, f"json all={name}", json=body)
            for name, raw in BODIES.items():
                self.send(method, path, f"json {name}", data=raw, content_type="application/json")
        if not one_field_at_a_time:
            return
        # One field at a time, the others plausible, so the view gets as far as that field.
        base = {f: sample(f, self.ids) for f in fields}
        flat = {k: str(v[0] if isinstance(v, list) else v) for k, v in base.items()}
        reads_form = method != "GET" and re.search(r"request\.(form|files)|_form_int|getlist", source)
        reads_json = method != "GET" and re.search(r"json_body\(|get_json\(", source)
        for field in fields:
            for name in PER_FIELD:
                if method == "GET":
                    self.send(method, path, f"query {field}={name}",
                              query_string={**flat, field: TEXT_HOSTILE[name]})
                if reads_form:
                    self.send(method, path, f"form {field}={name}",
                              data=self.form({**flat, field: TEXT_HOSTILE[name]}))
                if reads_json:
                    self.send(method, path, f"json {field}={name}",
                              json={**base, field: _hostile_for(field, JSON_HOSTILE[name])})


def _world(client: Any, village: dict[str, Any]) -> dict[str, int]:
    """Objects the signed-in person can reach, so path ids point at something real."""
    from workspace import db

    headers = {"X-CSRFToken": client.csrf}
    mine = client.get("/api/v1/channels").get_json()["channels"]
    channel_id = mine[0]["id"] if mine else 1
    posted = client.post(f"/api/v1/channels/{channel_id}/messages", json={"body": "試験"}, headers=headers)
    message_id = posted.get_json()["id"] if posted.status_code == 201 else 1
    db.session().commit()
    return {"channel_id": channel_id, "message_id": message_id, "thread_id": message_id,
            "last_read_id": message_id, "request_id": 1, "doc_id": 1, "attachment_id": 1,
            "absence_id": 1, "token_id": 1}


@pytest.fixture
def signed_in(client: Any, village: dict[str, Any]) -> Any:
    """The client signed in as yamada (an ordinary 主事), with the page's CSRF token at hand."""
    assert login(client, "yamada").status_code == 302
    client.csrf = csrf_from(client.get("/settings").get_data(as_text=True))
    return client


def test_no_route_answers_5xx_to_hostile_input_signed_in(app: Any, signed_in: Any, village: Any) -> None:
    """Signed in: each hostile class in every path id, query value, JSON and form field of every route."""
    ids = _world(signed_in, village)
    fuzzer = Fuzzer(app, signed_in, ids, signed_in.csrf)
    pairs = list(routes(app))
    for rule, method in pairs:
        fuzzer.route(rule, method, one_field_at_a_time=True)
    print(f"{len(pairs)} route methods, {fuzzer.sent} requests: {sorted(fuzzer.statuses.items())}",
          file=sys.stderr)
    assert len(pairs) > 100  # the URL map, not a hand list
    assert not fuzzer.failures, "\n".join(fuzzer.failures)


def test_no_route_answers_5xx_to_hostile_input_signed_out(app: Any, client: Any, village: Any) -> None:
    """Signed out: the same attacks (every field at once) must still meet a 4xx, never a 5xx."""
    fuzzer = Fuzzer(app, client, {}, None)
    pairs = list(routes(app))
    for rule, method in pairs:
        fuzzer.route(rule, method, one_field_at_a_time=False)
    print(f"{len(pairs)} route methods, {fuzzer.sent} requests: {sorted(fuzzer.statuses.items())}",
          file=sys.stderr)
    assert not fuzzer.failures, "\n".join(fuzzer.failures)


# --- Socket.IO -------------------------------------------------------------------------------------


def _events() -> dict[str, Any]:
    return {
        name: handler
        for name, handler in socketio.server.handlers.get("/", {}).items()
        if name not in ("connect", "disconnect")
    }


def _raw_ack(ws: Any, event: str, raw_args: str) -> Any:
    """Send an event whose arguments are raw JSON text (what a hostile client can put on the wire)."""
    ws.callback_counter += 1
    ws.acks = None
    packet = f'2{ws.callback_counter}["{event}",{raw_args}]'
    socketio.server._handle_eio_message(ws.eio_sid, packet)
    return ws.acks["args"][0] if ws.acks else None


def test_every_socket_event_acknowledges_hostile_input(app: Any, client: Any, village: Any) -> None:
    """Each registered event, given each hostile class in each field (and as the whole payload), answers
    its acknowledgement with an error — it never raises and never leaves the caller waiting."""
    from tests.chat.conftest import Person, isolated

    yamada = Person(app, client, "yamada")
    channel_id = yamada.get("/channels").get_json()["channels"][0]["id"]
    ws = yamada.socket()
    events = _events()
    assert {"message:send", "typing", "presence"} <= set(events)  # the table, not a hand list
    failures: list[str] = []
    sent = 0

    def check(event: str, what: str, send: Any, *args: Any, **kw: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            ack = isolated(send, *args, **kw)
        except Exception as error:  # what the server would log instead of acknowledging
            ack = error
        if not isinstance(ack, dict) or ack.get("error", {}).get("code") == "internal":
            failures.append(f"{event} [{what}] → {ack!r}"[:200])

    for event, handler in events.items():
        fields = sorted(_names_read(inspect.getsource(inspect.unwrap(handler)))) or ["channel_id"]
        base = {f: sample(f, {"channel_id": channel_id}) for f in fields}
        base.setdefault("body", "試験")
        for name, value in JSON_HOSTILE.items():
            check(event, f"payload={name}", ws.emit, event, value, callback=True)
            everything = {f: _hostile_for(f, value) for f in fields}
            check(event, f"all={name}", ws.emit, event, everything, callback=True)
            for field in fields:
                body = {**base, field: _hostile_for(field, value)}
                check(event, f"{field}={name}", ws.emit, event, body, callback=True)
        for name, raw in (("deep array", DEEP_ARRAY), ("deep object", DEEP_OBJECT),
                          ("surrogate", '{"channel_id": 1, "body": "\\ud800", "status": "\\udfff"}')):
            check(event, name, _raw_ack, ws, event, raw)
    print(f"{len(events)} events, {sent} emits", file=sys.stderr)
    assert not failures, "\n".join(failures)
    assert ws.is_connected()
