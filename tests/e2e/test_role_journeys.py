"""Every page a person can reach from the navigation, as each kind of staff member meets it.

The demo village is built by the README's own command (`workspace demo --no-serve`) into a database of
this module's own, then served by the real `workspace serve`. For 主事, 係長, 課長, records staff and the
administrator, at 1366×900 and 390×844, a browser follows the links of the navigation and of each page
it reaches (one page per kind of address, so 300 documents do not mean 300 visits) and on every page
checks what a person would notice: an error status, a console error, a request that failed without the
person causing it, an axe-core (WCAG 2.1 AA) violation, English words where Japanese is expected, a
login ID where a 氏名 belongs. A full-page screenshot of each page goes to screenshots/journeys/
(README: 画面の確認) so a reviewer can look at them one by one.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import DB_BACKEND, PG_ADMIN_URL, LiveServer, axe_violations, free_port, sign_in_page
from workspace import ROOT

SHOTS = Path(ROOT) / "screenshots" / "journeys"
DEMO_PASSWORD = "demo-2026-mura"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}
# (role, login): one person of each kind in the demo village.
ROLES = {
    "shuji": "yamada",  # 主事, 住民課
    "kakaricho": "suzuki",  # 係長, 総務課総務係
    "kacho": "sato",  # 課長, 総務課
    "records": "takahashi",  # 主事 with the records role
    "admin": "admin",
}
# Addresses a crawl must not follow: signing out, files and PDFs (not pages), the API.
SKIP = re.compile(r"^/(logout|api/|static/)|/(pdf|download|files?)(/|$)|\.(pdf|png|jpe?g|csv|zip)$")
MAX_PAGES = 40


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo village, built by `workspace demo --no-serve` and served by `workspace serve`."""
    data_dir = tmp_path_factory.mktemp("demo-village")
    admin_engine = None
    if DB_BACKEND == "postgresql":
        from sqlalchemy import create_engine, text

        name = f"ws_demo_{os.getpid()}_{secrets.token_hex(3)}"
        admin_engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    else:
        database_url = f"sqlite:///{data_dir / 'demo.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSPACE_")}
    env.update(
        {
            "WORKSPACE_DATA_DIR": str(data_dir / "data"),
            "WORKSPACE_DATABASE_URL": database_url,
            "WORKSPACE_SECRET_KEY": "journeys",
            "WORKSPACE_SHUTDOWN_GRACE_SECONDS": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    built = subprocess.run(
        [sys.executable, "-m", "workspace", "demo", "--no-serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    server = LiveServer(env, free_port(), data_dir / "server.log")
    yield server
    server.stop()
    if admin_engine is not None:
        from sqlalchemy import text

        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


def _kind_of(path: str) -> str:
    """One visit per kind of page: /approvals/12 and /approvals/13 are the same page, and so are two
    searches with the same filters (a tab or a filter is a kind of its own; values and order are not)."""
    base, _, query = path.partition("?")
    keys = sorted({part.split("=", 1)[0] for part in query.split("&") if part} - {"offset", "page"})
    return re.sub(r"\d+", "N", base) + ("?" + "+".join(keys) if keys else "")


def _links(page: Any, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "header a[href], main a[href]", "els => els.map(e => e.href)"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


# Words a page must not show a Japanese reader (the browser's own English widgets included).
ENGLISH = re.compile(
    r"\b(Choose File|No file chosen|Submit|Cancel|Delete|Edit|Error|None|null|undefined|NaN)\b"
)
ISO_DATE = re.compile(r"\b20\d\d-\d\d-\d\d(T\d\d:\d\d)?")
# A 年度 in 西暦 alone (令和8年度（2026年度） is right; 2026年度 on its own is not).
BARE_NENDO = re.compile(r"(?<![（\d])20\d\d年度")


def _check_page(page: Any, path: str, problems: list[str]) -> None:
    text = page.locator("body").inner_text()
    for pattern, what in ((ENGLISH, "English"), (ISO_DATE, "an ISO date"), (BARE_NENDO, "a 西暦 年度")):
        match = pattern.search(text)
        if match:
            problems.append(f"{path}: shows {what}: {match.group(0)!r}")
    for violation in axe_violations(page):
        targets = [n["target"] for n in violation["nodes"]][:3]
        problems.append(f"{path}: axe {violation['id']} ({violation['impact']}) at {targets}")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("role", ROLES)
def test_every_reachable_page_is_whole(demo_server: LiveServer, browser: Any, role: str, size: str) -> None:
    """Does every page this person reaches open cleanly, accessibly and in Japanese at this size?"""
    width, height = SIZES[size]
    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": width, "height": height}
    )
    page = context.new_page()
    problems: list[str] = []
    current = {"path": "/login"}
    page.on(
        "console",
        lambda m: m.type == "error" and problems.append(f"{current['path']}: console: {m.text}"),
    )
    page.on("pageerror", lambda e: problems.append(f"{current['path']}: script error: {e}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"{current['path']}: {r.status} {r.url}"),
    )
    sign_in_page(page, demo_server.url, ROLES[role], DEMO_PASSWORD)
    SHOTS.mkdir(parents=True, exist_ok=True)
    origin = demo_server.url
    # The navigation, and a search as a person would make it (the results page is a page too).
    queue: deque[str] = deque(["/", "/search?q=予算"])
    seen_kinds: set[str] = set()
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        kind = _kind_of(path)
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        current["path"] = path
        response = page.goto(origin + path)
        page.wait_for_load_state("networkidle")
        visited.append(path)
        if response is None or response.status >= 400:
            problems.append(f"{path}: status {response.status if response else 'none'}")
            continue
        slug = re.sub(r"[^A-Za-z0-9+]+", "-", kind).strip("-") or "home"
        page.screenshot(path=str(SHOTS / f"{role}-{size}-{slug}.png"), full_page=True)
        _check_page(page, path, problems)
        queue.extend(_links(page, origin))
    context.close()
    assert len(visited) >= 5, visited  # home, チャット, 決裁, 文書, 検索 at the least
    assert not problems, "\n".join(problems)
