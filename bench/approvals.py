"""Approvals benchmark: inbox with 10,000 pending items, render + sign one 5-step record, 100 racers.

    .venv/bin/python bench/approvals.py [--postgres ADMIN_URL] [--items 10000]

With --postgres (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) a throwaway database is
created beside the admin database and dropped afterwards; without it a temporary SQLite file is used.

Prints each figure beside a baseline measured in the same run:
* inbox (indexed task table, HTTP GET /api/v1/approvals/inbox) vs. the naive way (load every open
  request's state JSON and filter in Python);
* record: render + PAdES sign vs. render only;
* race: 100 threads approving the same step at once — exactly one must win.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from workspace import create_app, db, directory, migrate  # noqa: E402

PASSWORD = "correct-horse-9"
FIVE_STEPS = {
    "key": "five",
    "name": "五段階",
    "number_format": "榛{dept_prefix}第{n}号",
    "steps": [
        {"kind": "review", "approver": {"relation": "section_chief"}},
        {"kind": "review", "approver": {"user": "kakari2"}},
        {"kind": "consult", "mode": "all", "approvers": [{"department": "02", "title": "課長"}]},
        {"kind": "review", "approver": {"title": "副村長"}},
        {"kind": "decide", "authority": [{"approver": {"relation": "department_head"}}]},
    ],
}


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


def _people() -> dict:
    soumu = directory.ensure_department("01", "総務課", prefix="総")
    directory.ensure_department("02", "企画財政課")
    directory.ensure_department("0101", "総務係", parent=soumu)
    db.session().commit()
    add = directory.add_local_user
    return {
        "sato": add("sato", "佐藤 一郎", PASSWORD, department_code="01", title="課長"),
        "suzuki": add(
            "suzuki", "鈴木 花子", PASSWORD, department_code="01", section_code="0101", title="係長"
        ),
        "kakari2": add("kakari2", "高橋 二郎", PASSWORD, department_code="01", title="主査"),
        "yamada": add(
            "yamada", "山田 太郎", PASSWORD, department_code="01", section_code="0101", title="主事"
        ),
        "kikaku": add("kikaku", "企田 三郎", PASSWORD, department_code="02", title="課長"),
        "fuku": add("fuku", "副島 次郎", PASSWORD, department_code="01", title="副村長"),
        "admin": add("admin", "管理 太郎", PASSWORD, department_code="01", roles=("admin",)),
    }


def bench_inbox(app, people: dict, items: int) -> None:
    from approvals import service
    from approvals.models import ApprovalRequest, ApprovalTask
    from approvals.state import RequestState, pending_user_ids

    first = service.create(people["yamada"], {"route": "five", "title": "見本", "submit": True})
    columns = {c.name: getattr(first, c.key) for c in ApprovalRequest.__table__.columns if c.name != "id"}
    session = db.session()
    t0 = time.perf_counter()
    for start in range(1, items, 1000):
        batch = [{**columns, "title": f"起案 {n}"} for n in range(start, min(items, start + 1000))]
        session.execute(insert(ApprovalRequest), batch)
    ids = (
        session.execute(select(ApprovalRequest.id).where(ApprovalRequest.title.like("起案 %")))
        .scalars()
        .all()
    )
    for start in range(0, len(ids), 1000):
        rows = [
            {"user_id": people["suzuki"].id, "kind": "pending", "request_id": i}
            for i in ids[start : start + 1000]
        ]
        session.execute(insert(ApprovalTask), rows)
    session.commit()
    print(f"seeded {items} pending items for one approver in {time.perf_counter() - t0:.1f} s")

    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "suzuki", "password": PASSWORD}).get_json()[
        "token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for _ in range(200):
        t = time.perf_counter()
        response = client.get("/api/v1/approvals/inbox", headers=headers)
        timings.append(time.perf_counter() - t)
        assert response.status_code == 200 and response.get_json()["counts"]["pending"] == items
    print(
        f"inbox API (task table):  p50 {_p(timings, 0.5):7.1f} ms  p95 {_p(timings, 0.95):7.1f} ms"
        "  (goal p95 ≤ 100 ms)"
    )

    naive = []
    for _ in range(5):
        t = time.perf_counter()
        rows = db.session().execute(
            select(ApprovalRequest.id, ApprovalRequest.state).where(ApprovalRequest.status == "in_progress")
        )
        mine = [
            i for i, state in rows if people["suzuki"].id in pending_user_ids(RequestState.from_dict(state))
        ]
        naive.append(time.perf_counter() - t)
        assert len(mine) >= items
        db.session().commit()
    print(f"baseline (scan states):  p50 {_p(naive, 0.5):7.1f} ms  p95 {_p(naive, 0.95):7.1f} ms")


def bench_record(people: dict) -> None:
    from approvals import record, service, signing

    row = service.create(
        people["yamada"], {"route": "five", "title": "五段階の記録", "body": "本文\n" * 30, "submit": True}
    )
    for name in ("suzuki", "kakari2", "kikaku", "fuku"):
        service.act(people[name], row.id, "approve")
    signer = record._signer()
    renders, signs = [], []
    for _ in range(10):
        t = time.perf_counter()
        pdf = record.render(row, draft=False)
        renders.append(time.perf_counter() - t)
        t = time.perf_counter()
        signing.sign_pdf(pdf, signer)
        signs.append(time.perf_counter() - t + renders[-1])
    print(
        f"record render + sign:    median {statistics.median(signs) * 1000:7.1f} ms (goal ≤ 300 ms);"
        f"  baseline render only {statistics.median(renders) * 1000:7.1f} ms"
    )
    return row


def bench_race(app, people: dict) -> None:
    from approvals import service
    from approvals.errors import Conflict

    row = service.create(people["yamada"], {"route": "five", "title": "競争", "submit": True})
    db.session().commit()
    barrier = threading.Barrier(100)
    outcome: list[str] = []

    def attempt() -> None:
        with app.app_context():
            user = directory.get_user("suzuki")
            db.session().commit()
            barrier.wait()
            try:
                service.act(user, row.id, "approve")
                outcome.append("won")
            except Conflict:
                outcome.append("409")

    threads = [threading.Thread(target=attempt) for _ in range(100)]
    t = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        f"100 concurrent approvals: {outcome.count('won')} won, {outcome.count('409')} got 409, "
        f"{100 - len(outcome)} other, in {time.perf_counter() - t:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", metavar="ADMIN_URL")
    parser.add_argument("--items", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            with _throwaway_postgres(args.postgres) as url:
                _run(tmp, url, args.items)
        else:
            _run(tmp, f"sqlite:///{tmp}/bench.sqlite3", args.items)


@contextlib.contextmanager
def _throwaway_postgres(admin_url: str):
    """Create a fresh database next to admin_url, yield its URL, drop it at the end."""
    from sqlalchemy import create_engine, text

    name = f"ws_bench_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(tmp: str, url: str, items: int) -> None:
    config = {"DATA_DIR": tmp, "DATABASE_URL": url, "SECRET_KEY": "bench"}
    app = create_app({**config, "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8192})
    migrate.upgrade(app)
    with app.app_context():
        from approvals import route_store

        people = _people()
        route_store.save(FIVE_STEPS, people["admin"])
        print(f"database: {db.engine().dialect.name}")
        bench_record(people)
        bench_race(app, people)
        bench_inbox(app, people, items)
    app.extensions["db_engine"].dispose()


if __name__ == "__main__":
    main()
