"""The test rig: real databases (SQLite, and the local PostgreSQL when WORKSPACE_TEST_DB=postgresql),
a private slapd, the real `workspace serve` on a loopback port, Redis, and headless Chromium.
"""

from __future__ import annotations

import contextvars
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import inspect

from tests.ldap_fixtures import *  # noqa: F403 - the slapd fixtures
from workspace import create_app, db, directory, migrate, outbox
from workspace.db import Base

ROOT = Path(__file__).resolve().parent.parent
DB_BACKEND = os.environ.get("WORKSPACE_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get(
    "WORKSPACE_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("WORKSPACE_TEST_REDIS", "redis://127.0.0.1:6379/15")
PASSWORD = "correct-horse-9"


def _import_all_models() -> None:
    import importlib

    for name in ("workspace.notifications", "chat.models", "approvals.models", "docsearch.models"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            continue


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway database for this run: a SQLite file, or a fresh PostgreSQL database."""
    if DB_BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    from sqlalchemy import create_engine, text

    name = f"ws_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the real migrations once per session; returns the database URL."""
    app = create_app(
        {
            "DATA_DIR": str(tmp_path_factory.mktemp("schema")),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "schema",
        }
    )
    migrate.upgrade(app)
    app.extensions["db_engine"].dispose()
    return database_url


def _wipe(app: Any) -> None:
    _import_all_models()
    engine = app.extensions["db_engine"]
    existing = set(inspect(engine).get_table_names())
    tables = [t for t in Base.metadata.sorted_tables if t.name in existing]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


class IsolatedClient(FlaskClient):
    """A test client whose requests run in their own app context, as real requests do.

    Flask reuses an already-pushed app context for a request, which would share `g` (the CSRF token
    cache, the database session) between the test body and every request it makes.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # End the test body's transaction first: on SQLite it holds the write lock (BEGIN IMMEDIATE).
        if has_app_context():
            db.session().commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session().expire_all()
        return response


def make_app(database_url: str, data_dir: Path, **overrides: Any) -> Any:
    """Return an app on the test database with a private data dir."""
    config = {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "DIRECTORY": "local",
        "REDIS_URL": None,
        # A cheap argon2 profile keeps the suite fast; production uses the library's defaults.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 8192,
        # No background re-check thread per test app (it would outlive the test's database);
        # delivery still re-checks, and the real servers of the tests use the default.
        "SOCKET_RECHECK_SECONDS": 0,
        # The deciding request waits for its signed record, so a test sees it at once; the tests of
        # the outbox (tests/workspace/test_outbox.py) use the default, which does not wait.
        "APPROVALS_RECORD_WAIT_SECONDS": 60.0,
    }
    config.update(overrides)
    application = create_app(config)
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Per-test config overrides; a test module may override this fixture."""
    return {}


@pytest.fixture
def app(schema: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Any]:
    """A fresh app on an empty (migrated) database."""
    application = make_app(schema, tmp_path / "data", **app_config)
    _wipe(application)
    with application.app_context():
        yield application
    outbox.stop_worker(application)  # a retry it had planned must not run into the next test's wipe
    _wipe(application)
    application.extensions["db_engine"].dispose()


@pytest.fixture
def client(app: Any) -> Any:
    """Flask test client."""
    return app.test_client()


# --- people ------------------------------------------------------------------------------------


@pytest.fixture
def village(app: Any) -> dict[str, Any]:
    """A small local directory: two departments, a section, a 課長, a 係長, staff and an admin."""
    soumu = directory.ensure_department("01", "総務課", prefix="総")
    directory.ensure_department("02", "企画財政課")
    directory.ensure_department("0101", "総務係", parent=soumu)
    db.session().commit()
    people = {
        "sato": directory.add_local_user("sato", "佐藤 一郎", PASSWORD, department_code="01", title="課長"),
        "suzuki": directory.add_local_user(
            "suzuki", "鈴木 花子", PASSWORD, department_code="01", section_code="0101", title="係長"
        ),
        "yamada": directory.add_local_user(
            "yamada", "山田 太郎", PASSWORD, department_code="01", section_code="0101", title="主事"
        ),
        "tanaka": directory.add_local_user("tanaka", "田中 誠", PASSWORD, department_code="02", title="主事"),
        "admin": directory.add_local_user(
            "admin", "管理 太郎", PASSWORD, department_code="01", title="主事", roles=("admin",)
        ),
    }
    return people


def csrf_from(html: str) -> str:
    """Pull the CSRF token out of a rendered page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in_page(page: Any, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the real form in a browser page and wait until it has left /login."""
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the real form (with its CSRF token); return the response."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def api_token(client: Any, username: str, password: str = PASSWORD) -> str:
    """Return a fresh personal API token."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def wait_for(predicate: Any, seconds: float = 10.0) -> bool:
    """Poll predicate until it holds or seconds pass; return its last answer (never a timing assert)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# --- the real server -----------------------------------------------------------------------------


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """`workspace serve` (gevent) running in a subprocess on a loopback port."""

    def __init__(
        self, env: dict[str, str], port: int, log: Path, entry: tuple[str, ...] = ("workspace",)
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", *entry, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text(errors='replace')}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code in (200, 503):
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start:\n{log.read_text(errors='replace')}")

    def stop(self) -> None:
        """Stop the server process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_env(app: Any, **extra: str) -> dict[str, str]:
    """Environment for a server process sharing app's database and data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSPACE_")}
    env.update(
        {
            "WORKSPACE_DATA_DIR": app.config["DATA_DIR"],
            "WORKSPACE_DATABASE_URL": app.config["DATABASE_URL"],
            "WORKSPACE_SECRET_KEY": app.config["SECRET_KEY"],
            "WORKSPACE_ARGON2_TIME_COST": "1",
            "WORKSPACE_ARGON2_MEMORY_KIB": "8192",
            # A stop (SIGTERM) waits this long for open sockets: the browser pages of a test.
            "WORKSPACE_SHUTDOWN_GRACE_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def live_server(app: Any, village: dict[str, Any], tmp_path: Path) -> Iterator[LiveServer]:
    """The real server on the test database, with the village already in it."""
    server = LiveServer(server_env(app), free_port(), tmp_path / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis (database 15), flushed before use."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    client.flushdb()
    return REDIS_URL


# --- the browser -----------------------------------------------------------------------------

CHROMIUM = os.environ.get("WORKSPACE_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page (Japanese locale, Tokyo time)."""
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    yield context.new_page()
    context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (bundled with axe-playwright-python, injected from disk) and return violations."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return result.response["violations"]
