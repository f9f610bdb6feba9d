"""The input boundary: one strict parser for ids and integers, and JSON that cannot hurt the server.

Every id or number that comes from a client — a path segment, a query value, a form field, a JSON
member, a Socket.IO payload — goes through parse_int / parse_id / json_id here, so that a value
outside the range of the id columns never reaches the database (where it raised instead of matching
nothing), and Unicode digits such as ``²`` or ``１`` (which pass str.isdigit() and then fail or
surprise int()) are refused the same way everywhere.

Request bodies are parsed by JsonProvider.loads: nesting deeper than MAX_JSON_DEPTH is refused before the
body is parsed (a deep document made the recursive parser raise RecursionError), and strings holding
lone surrogates (``"\\ud800"``, valid JSON but not encodable as UTF-8, so unstorable) are refused too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from workspace.errors import ApiError

# Ids are SQL INTEGER columns: 32 bits on PostgreSQL, where a bigger number does not match nothing
# but fails the statement ("integer out of range"). The same bound on SQLite keeps one rule.
ID_MAX = 2**31 - 1
MAX_JSON_DEPTH = 64

_ASCII_INT = re.compile(r"-?[0-9]{1,19}")  # 19 digits hold every bigint; more is never a valid input
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# A JSON string literal (escapes included), and everything that is not a bracket.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}

TOO_DEEP_MESSAGE = f"JSONの入れ子が深すぎます（{MAX_JSON_DEPTH}段まで）。"
SURROGATE_MESSAGE = "文字として扱えない値（不正なサロゲート）が含まれています。"
NUL_MESSAGE = "URLに使用できない文字（NUL）が含まれています。"


def parse_int(value: Any, low: int, high: int) -> int | None:
    """Return value as an int within low..high, or None.

    Accepts a Python int (not a bool) or a text of ASCII digits with an optional leading minus:
    no spaces, no "+", no Unicode digits, no more than 19 digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _ASCII_INT.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if low <= number <= high else None


def bounded(low: int, high: int) -> Callable[[Any], int | None]:
    """parse_int with fixed bounds, for Werkzeug's ``request.args.get(name, type=…)``."""
    return lambda value: parse_int(value, low, high)


def parse_id(value: Any) -> int | None:
    """Return value as a database id (1..ID_MAX) from text or int, or None."""
    return parse_int(value, 1, ID_MAX)


def json_id(value: Any) -> int | None:
    """Return a JSON member as an id: a JSON number (not true/false, not a string) in 1..ID_MAX, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX else None


def is_json_int(value: Any) -> bool:
    """True for a JSON number that is an integer (true/false are not numbers here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def json_ids(value: Any) -> list[int] | None:
    """Return a JSON list of ids (see json_id), or None when it is not one."""
    if not isinstance(value, list):
        return None
    ids = [json_id(v) for v in value]
    return None if any(i is None for i in ids) else ids  # type: ignore[return-value]


def json_depth(text: str) -> int:
    """Return how deeply the arrays and objects of a JSON text nest, without parsing it.

    Strings are removed first (a bracket inside a string does not nest), then only brackets are kept;
    both steps are regular expressions, so a hostile body costs linear time and no recursion.
    """
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, skeleton)), default=0)


def has_lone_surrogate(value: Any) -> bool:
    """True when any string (key or value) inside a parsed JSON value holds a surrogate code point.

    Iterative, so it is safe on any depth; a decoded UTF-8 text never holds one, only a "\\ud800" escape.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads_checked(text: str | bytes) -> Any:
    """Parse a JSON text, refusing (ApiError 400) deep nesting before parsing and lone surrogates after.

    Malformed JSON raises ValueError as json.loads does.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")  # UnicodeDecodeError is a ValueError
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ApiError(400, TOO_DEEP_MESSAGE, "too_deep")
    data = json.loads(text)
    if has_lone_surrogate(data):
        raise ApiError(400, SURROGATE_MESSAGE, "invalid_text")
    return data


class JsonProvider(DefaultJSONProvider):
    """The application's JSON: Japanese kept readable when writing, hostile bodies refused when reading.

    Flask parses every request body with app.json.loads (request.get_json). ApiError is not a
    ValueError, so even get_json(silent=True) — as in the sign-in throttle's key function — answers 400
    for a hostile body instead of passing it on or failing with 500.
    """

    ensure_ascii = False

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_checked(s)


class RefusedPayload:
    """Stands in for the arguments of a Socket.IO event that were refused while the packet was decoded.

    The event still reaches its handler's guard (see realtime.CheckedSocketIO), which acknowledges with
    this error instead of calling the handler: a client waiting for an ack is never left waiting.
    """

    def __init__(self, message: str, code: str) -> None:
        self.error = ApiError(400, message, code)

    def ack(self) -> dict[str, Any]:
        return self.error.ack()


_EVENT_NAME = re.compile(r'\s*\[\s*("[^"\\]*(?:\\.[^"\\]*)*")\s*,')


class SocketJson:
    """The JSON module of the Socket.IO server: the same depth and surrogate rules as request bodies.

    A refused packet decodes to [event name, RefusedPayload], so its handler can still acknowledge.
    """

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        if isinstance(text, (bytes, bytearray)):
            text = bytes(text).decode("utf-8")
        if json_depth(text) > MAX_JSON_DEPTH:
            return SocketJson._refused(text, RefusedPayload(TOO_DEEP_MESSAGE, "too_deep"))
        data = json.loads(text, **kwargs)
        if has_lone_surrogate(data):
            return SocketJson._refused(text, RefusedPayload(SURROGATE_MESSAGE, "invalid_text"))
        return data

    @staticmethod
    def _refused(text: str, refused: RefusedPayload) -> Any:
        if not text.lstrip().startswith("["):
            return refused  # a CONNECT packet's auth object: the socket is then not authenticated by it
        match = _EVENT_NAME.match(text)
        name = json.loads(match.group(1)) if match else ""
        # A name that is not usable matches no handler: nothing is called, nothing could acknowledge.
        return [name if isinstance(name, str) and not _SURROGATE.search(name) else "", refused]

    @staticmethod
    def dumps(obj: Any, **kwargs: Any) -> str:
        return json.dumps(obj, **kwargs)


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: ASCII digits only; a number outside 1..ID_MAX names nothing (404).

    Werkzeug's own converter matches ``\\d+`` (Unicode digits too) with no upper bound, so an id of
    2^63 reached the database and raised there (on PostgreSQL anything past 2^31-1 did). Out of range
    is answered with NotFound here rather than ValidationError: Werkzeug checks the method before the
    converter, so a ValidationError made the same path answer 405 for one method and 404 for another.
    """

    regex = r"[0-9]+"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    """Install the bounded ``int`` converter (before any blueprint adds a route) and the checked JSON."""
    app.url_map.converters["int"] = IdConverter
    app.json = JsonProvider(app)
    app.before_request(refuse_nul_in_path)


def refuse_nul_in_path() -> None:
    """Refuse (400) a NUL in a path segment: path values are looked up, and PostgreSQL text cannot hold
    NUL at all (the driver raised). Query and body values are the services' to check, field by field
    (``?next=`` of the sign-in page, for one, is cleaned rather than refused)."""
    from flask import request

    if any(isinstance(v, str) and "\x00" in v for v in (request.view_args or {}).values()):
        raise ApiError(400, NUL_MESSAGE, "invalid_text")
