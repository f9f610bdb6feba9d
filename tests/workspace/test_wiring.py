"""Wiring: create_app registers everything, importing a module registers nothing, and building several
apps in one process adds no second copy of a receiver, a handler or a listener."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blinker import NamedSignal
from sqlalchemy import func, select

from chat import channels, messages
from chat.models import Member
from docsearch.models import IndexOutbox
from tests.conftest import PASSWORD, make_app
from workspace import db, directory, live_access, realtime, signals
from workspace.realtime import socketio

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workspace", "chat", "approvals", "docsearch")
SIGNALS = {name: value for name, value in vars(signals).items() if isinstance(value, NamedSignal)}
SOCKET_EVENTS = {"connect", "disconnect", "message:send", "typing", "presence"}
SESSION_EVENTS = ("before_flush", "after_flush", "after_begin", "after_commit", "after_soft_rollback")


@pytest.fixture
def app_config() -> dict[str, Any]:
    # The outbox rows stay where the test can count them (no background drain deletes them).
    return {"SEARCH_DRAIN_ON_COMMIT": False}


@pytest.fixture
def three_apps(app: Any, schema: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[list[Any]]:
    """The test's app and two more, built by create_app the way the test rig builds every app."""
    more = [make_app(schema, tmp_path / name, **app_config) for name in ("b", "c")]
    yield [app, *more]
    for other in more:
        other.extensions["db_engine"].dispose()


def _receivers(signal: NamedSignal) -> list[Any]:
    return list(signal.receivers_for(object()))  # every receiver is connected for any sender


def _name(function: Any) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _listener_counts() -> dict[str, int]:
    """How many listeners the current app context's session runs, per session event."""
    sess = db.session()
    return {name: len(list(getattr(sess.dispatch, name))) for name in SESSION_EVENTS}


def test_every_signal_has_each_receiver_once_however_many_apps(three_apps: list[Any], schema: str, tmp_path):
    before = {name: _receivers(signal) for name, signal in SIGNALS.items()}
    fourth = make_app(schema, tmp_path / "d")
    fourth.extensions["db_engine"].dispose()
    for name, signal in SIGNALS.items():
        receivers = _receivers(signal)
        assert receivers == before[name], name
        names = Counter(_name(r) for r in receivers)
        assert all(n == 1 for n in names.values()), (name, names)
    # A few the wiring must have made, each exactly once.
    assert Counter(map(_name, _receivers(signals.user_deactivated))) == {
        "workspace.realtime._on_user_deactivated": 1,
        "chat.channels.on_user_deactivated": 1,
    }
    assert list(map(_name, _receivers(signals.socket_connected))) == ["chat.rooms.on_socket_connected"]


def test_each_app_has_its_blueprints_and_socket_handlers(three_apps: list[Any]):
    domain_blueprints = {"chat", "approvals", "docsearch"}
    servers = []
    for each in three_apps:
        assert domain_blueprints <= set(each.blueprints)
        server = each.wsgi_app.engineio_app  # the app's own python-socketio server (Flask-SocketIO's)
        assert set(server.handlers["/"]) >= SOCKET_EVENTS
        servers.append(server)
    assert len({id(server) for server in servers}) == 3
    assert [set(each.blueprints) for each in three_apps[1:]] == [set(three_apps[0].blueprints)] * 2
    assert [set(s.handlers["/"]) for s in servers[1:]] == [set(servers[0].handlers["/"])] * 2
    # Nothing was queued on the shared SocketIO before a server existed (an import-time @socketio.on).
    assert socketio.handlers == []
    assert socketio.default_exception_handler is realtime._on_socket_error


def test_session_listeners_do_not_pile_up_with_more_apps(three_apps: list[Any], schema: str, tmp_path):
    first, second, _ = three_apps
    before = _listener_counts()
    assert list(db.session().dispatch.before_flush).count(live_access._bump_on_access_change) == 1
    make_app(schema, tmp_path / "d").extensions["db_engine"].dispose()
    for each in (second, first):
        with each.app_context():  # a new context: a new session
            assert _listener_counts() == before


def test_a_change_in_one_of_three_apps_runs_each_receiver_once(three_apps: list[Any]):
    """In app B: a new person lands in their 課's channel (user_changed, chat), and a message posted
    there owes the index exactly one outbox row (message_created, docsearch) — not one per app."""
    second = three_apps[1]
    with second.app_context():
        department = directory.ensure_department("03", "住民課")
        db.session().commit()
        person = directory.add_local_user("kimura", "木村 聡", PASSWORD, department_code="03", title="主事")
        channel = channels.department_channel(department)
        db.session().commit()
        members = select(func.count()).select_from(Member).where(Member.channel_id == channel.id)
        assert db.session().execute(members).scalar_one() == 1

        message, created = messages.post(person, channel.id, "住民票の交付窓口は本日十七時まで")
        assert created
        owed = select(func.count()).select_from(IndexOutbox).where(IndexOutbox.object_id == message.id)
        assert db.session().execute(owed.where(IndexOutbox.kind == "message")).scalar_one() == 1
        db.session().commit()


# --- registration happens in init_app, never on import ---------------------------------------------

# Calls that register a handler, a receiver or a listener on something shared by the whole process.
REGISTERING_CALLS = {
    "connect",  # blinker signal receivers
    "connect_via",
    "on",  # Socket.IO handlers
    "on_event",
    "event",
    "on_error",
    "on_error_default",
    "on_namespace",
    "listen",  # SQLAlchemy event listeners
    "listens_for",
    "register_blueprint",
    "watch",  # live_access: what moves the access counter, which rooms a policy owns
    "room_policy",
}


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported: the module's and its classes' bodies, and
    blocks inside them (if, try, with), but not function bodies."""
    for node in body:
        yield node
        if isinstance(node, ast.ClassDef):
            yield from _import_time_statements(node.body)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for field in ("body", "orelse", "finalbody", "handlers"):
                yield from _import_time_statements(getattr(node, field, []))


def _registrations(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        candidates: list[ast.expr] = list(node.decorator_list)
    else:
        candidates = [
            n
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.stmt)
            for n in ast.walk(child)
            if isinstance(n, ast.Call)
        ]
    for candidate in candidates:
        target = candidate.func if isinstance(candidate, ast.Call) else candidate
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name in REGISTERING_CALLS:
            yield f"{ast.unparse(target)} (line {node.lineno})"


def test_no_module_registers_anything_when_imported():
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts or "static" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for statement in _import_time_statements(tree.body):
                found += [f"{path.relative_to(ROOT)}: {r}" for r in _registrations(statement)]
    assert found == []


def test_the_source_check_sees_each_kind_of_import_time_registration():
    source = """
import x
@socketio.on("typing")
def a(): pass
@signals.user_changed.connect
def b(*_): pass
@event.listens_for(Session, "before_flush")
def c(*_): pass
signals.user_changed.connect(b, weak=False)
if x:
    socketio.on_event("presence", a)
class Late:
    event.listen(Session, "after_commit", c)
watch(User, "active")
def fine(app):
    signals.user_changed.connect(b)
    app.register_blueprint(bp)
"""
    tree = ast.parse(source)
    found = [r for s in _import_time_statements(tree.body) for r in _registrations(s)]
    assert [f.split(" (")[0] for f in found] == [
        "socketio.on",
        "signals.user_changed.connect",
        "event.listens_for",
        "signals.user_changed.connect",
        "socketio.on_event",
        "event.listen",
        "watch",
    ]


# --- the import order ------------------------------------------------------------------------------


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_workspace_loads_no_application_module():
    """`workspace serve` imports the package before gevent patches the standard library."""
    done = _python(
        "import sys, workspace, workspace.__main__\n"
        "heavy = ('chat', 'approvals', 'docsearch', 'flask_socketio', 'sqlalchemy', 'workspace.db')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("first", ["chat.models", "approvals.machine", "docsearch.analyzer", "workspace.db"])
def test_any_module_can_be_imported_first(first: str):
    """No import cycle: whichever module a tool imports first, the whole application then loads."""
    done = _python(f"import {first}\nfrom workspace import create_app\nimport chat, approvals, docsearch")
    assert done.returncode == 0, done.stderr
