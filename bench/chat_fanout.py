"""Chat fan-out benchmark: the real server against a bare Flask-SocketIO broadcast, both on gevent.

    .venv/bin/python bench/chat_fanout.py [--listeners 500] [--messages 300] [--rate 10] [--idle 2000]

Starts `workspace serve` on a fresh SQLite data dir and a bare gevent Flask-SocketIO server that
broadcasts whatever it is sent. N python-socketio listeners join one channel; one sender sends
`--messages` messages at `--rate` per second through `message:send`. Prints, for both servers,
delivered/expected and p50/p95/p99 latency (send → receipt, same clock), and the app/bare ratio.
Each message is 1/N of the samples, so with 100 messages p99 is the second-worst message and one
scheduling stall of either process decides it (runs gave ratios from 0.3 to 3.8); 300 messages
make p99 the third-worst of 300.
Then: how many idle authenticated sockets one server process holds and its memory, and how many
messages per second the service persists on SQLite, with the time the search index (drained in the
background) then needs to catch up. Not a test: nothing here asserts a time.

Search indexing is on, as in an office: `--history` messages are in the channel and the index
before the run, so the server's drains (every gathering of about five messages at 10/s) commit and
merge real segments.  `--runs N` alternates the servers' order in one sitting after an unrecorded
warm-up run; each run prints the outbox rows still waiting 3 s after its last message (0: the
drain kept up), and the end the index's entries after the server stopped.

Issue 12, drain child (rounds run in a child process, not on the loop; `bench/drain_stall.py`
measures the loop's longest gap during a 250-message round: 57–323 ms before, 7.5–31 ms after,
idle baseline 4–22 ms). `--messages 30 --runs 3 --idle 0 --persist 0`, alternating invocations
of main and of the branch on one 2-core machine shared with test runs (load average 1.5–7.4):

    invocation (load)   app p99 / bare p99 per run, ms          p99 ratios
    main     (6.2)      1913/374  1666/668  1020/552            5.12 2.49 1.85
    branch   (7.2)       457/325   946/363   372/283            1.41 2.61 1.32
    main     (7.4)       348/243   745/491   584/502            1.43 1.52 1.16
    branch   (6.7)       490/397   257/403   319/244            1.23 0.64 1.30
    branch   (2.8)        53/156    50/46    166/150            0.34 1.08 1.11
    main     (1.5)       620/400   361/319   420/396            1.55 1.13 1.06
    main     (3.4)       131/198   242/340   807/187            0.66 0.71 4.31
    branch   (3.3)       532/337   402/93    181/48             1.58 4.31 3.75
    branch+main (2.9)    166/143   157/143                      1.16 1.10   (after merging main)

p99 ≤ 1.5 × bare in 8 of 12 branch runs and 6 of 12 main runs; median ratio 1.31 (branch) and
1.48 (main); medians of p50/p95/p99: branch app 60/135/345 ms vs bare 45/97/263 ms, main app
89/385/602 ms vs bare 55/119/385 ms.  p50 stays close to bare (branch at load 2.8: app 30–33 ms,
bare 22–28 ms).  The loop no longer stalls on the index, but on two shared cores the child's CPU
still competes with the server's, and the same code gave 0.64 and 2.61 in one invocation: these
runs cannot show the goal as met; a quiet machine should be used to confirm it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, bench/ comes first on sys.path and bench/approvals.py would shadow the approvals
# package that create_app imports: put the project root first.
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password-1"

BARE_SERVER = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import sys
    from flask import Flask
    from flask_socketio import SocketIO, emit
    app = Flask(__name__)
    sio = SocketIO(app, async_mode="gevent")

    @sio.on("message:send")
    def send(data):
        emit("message:new", data, broadcast=True)
        return {"ok": True}

    @app.get("/healthz")
    def health():
        return "ok"

    sio.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_output=False)
    """
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_up(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code in (200, 503):
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def prepare(data_dir: Path, listeners: int, history: int) -> dict:
    """Create the schema, a sender and a listener account, one public channel, and tokens.

    history: messages already in the channel and in the search index, as in a running office, so
    the server's drains commit into (and merge) real segments rather than into an empty index.
    """
    from chat import channels, messages
    from docsearch import indexer
    from workspace import auth, create_app, directory, migrate

    app = create_app(
        {"DATA_DIR": str(data_dir), "SECRET_KEY": "bench", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8192}
    )
    migrate.upgrade(app)
    with app.app_context():
        sender = directory.add_local_user("sender", "送信 太郎", PASSWORD)
        listener = directory.add_local_user("listener", "受信 花子", PASSWORD)
        channel, _ = channels.create_channel(sender, "ベンチ", "public", ["listener"])
        tokens = [auth.create_token(listener, f"l{i}")[1] for i in range(listeners)]
        sender_token = auth.create_token(sender, "sender")[1]
        app.config["CHAT_RATE_LIMIT"] = "1000000 per second"
        with indexer.deferred():
            for n in range(history):
                messages.post(sender, channel.id, f"過去の連絡 {n} 防災訓練の日程", client_msg_id=f"h{n}")
        indexer.rebuild()
        return {"channel_id": channel.id, "tokens": tokens, "sender_token": sender_token, "app": app}


async def run_fanout(
    url: str,
    tokens: list[str] | None,
    sender_auth: dict | None,
    channel_id: int,
    listeners: int,
    count: int,
    rate: float,
    tag: str = "b",
) -> dict:
    """Connect listeners, send count messages at rate, return delivery and latency figures.

    tag: prefix of the messages' client ids, different per run (a repeated id is a resend).
    """
    latencies: list[float] = []
    received = 0

    def on_new(data: dict) -> None:
        nonlocal received
        received += 1
        sent = float(data["body"].split(":", 1)[1])
        latencies.append((time.time() - sent) * 1000)

    clients = []
    limit = asyncio.Semaphore(50)

    async def connect(i: int) -> None:
        client = socketio.AsyncClient(reconnection=False)
        client.on("message:new", on_new)
        async with limit:
            await client.connect(
                url, transports=["websocket"], auth={"token": tokens[i]} if tokens else None, wait_timeout=30
            )
        clients.append(client)

    await asyncio.gather(*(connect(i) for i in range(listeners)))
    sender = socketio.AsyncClient(reconnection=False)
    await sender.connect(url, transports=["websocket"], auth=sender_auth, wait_timeout=30)
    await asyncio.sleep(1)
    for n in range(count):
        started = time.monotonic()
        payload = {"channel_id": channel_id, "body": f"{n}:{time.time()}", "client_msg_id": f"{tag}{n}"}
        await sender.emit("message:send", payload)
        await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
    await asyncio.sleep(3)
    for client in [*clients, sender]:
        await client.disconnect()
    ordered = sorted(latencies) or [0.0]

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

    return {
        "delivered": received,
        "expected": listeners * count,
        "p50": statistics.median(ordered),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


async def hold_idle(url: str, tokens: list[str]) -> int:
    """Connect one idle authenticated socket per token; return how many connected."""
    clients = []
    limit = asyncio.Semaphore(100)

    async def connect(token: str) -> None:
        client = socketio.AsyncClient(reconnection=False)
        async with limit:
            try:
                await client.connect(url, transports=["websocket"], auth={"token": token}, wait_timeout=30)
                clients.append(client)
            except Exception:  # a refused socket is counted as not held
                return

    await asyncio.gather(*(connect(t) for t in tokens))
    held = len(clients)
    hold_idle.clients = clients  # type: ignore[attr-defined]
    return held


def persist_rate(app, channel_id: int, count: int) -> tuple[float, float, int]:
    """Messages per second stored by the service (check → write → commit → signal) on SQLite.

    Returns (rate, catch_up, pending): the search index is drained in the background, so after the
    last post the run waits for the drain and reports how long it took (catch_up, seconds) and how
    many outbox rows were still waiting after it (0 when the index caught up); deferring the work
    does not make it free.
    """
    from chat import messages
    from docsearch import indexer
    from workspace import directory

    app.config["CHAT_RATE_LIMIT"] = "1000000 per second"
    with app.app_context():
        indexer.ready_index()  # an existing index, as a running office has
        sender = directory.get_user("sender")
        started = time.perf_counter()
        for n in range(count):
            messages.post(sender, channel_id, f"保存 {n}", client_msg_id=f"p{n}")
        posted = time.perf_counter()
        indexer.wait_idle(600)
        caught_up = time.perf_counter()
        return count / (posted - started), caught_up - posted, indexer.pending()


def _line(name: str, r: dict) -> str:
    return (
        f"  {name:20s} delivered {r['delivered']}/{r['expected']}  "
        f"p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  p99 {r['p99']:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1, help="alternating bare/app pairs in one sitting")
    parser.add_argument("--warmup", type=int, default=10, help="messages of an unrecorded first run")
    parser.add_argument("--history", type=int, default=2000, help="messages indexed before the run")
    parser.add_argument("--server-log", type=Path, help="keep the app server's stderr in this file")
    parser.add_argument("--idle", type=int, default=2000, help="0 skips the idle-socket count")
    parser.add_argument("--persist", type=int, default=2000, help="0 skips the persistence rate")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    setup = prepare(data_dir, max(args.listeners, args.idle), args.history)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSPACE_")}
    env.update(
        {"WORKSPACE_DATA_DIR": str(data_dir), "WORKSPACE_SECRET_KEY": "bench", "PYTHONUNBUFFERED": "1"}
    )
    app_port, bare_port = _free_port(), _free_port()
    app_url, bare_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    app_server = subprocess.Popen(
        [sys.executable, "-m", "workspace", "serve", "--port", str(app_port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=args.server_log.open("wb") if args.server_log else subprocess.DEVNULL,
    )
    script = data_dir / "bare.py"
    script.write_text(BARE_SERVER)
    bare_server = subprocess.Popen(
        [sys.executable, str(script), str(bare_port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    n, m = args.listeners, args.messages
    ratios = []
    try:
        _wait_up(app_url, app_server)
        _wait_up(bare_url, bare_server)
        print(
            f"fan-out: {n} listeners, {m} messages at {args.rate}/s (gevent, one process each), "
            f"search indexing on ({args.history} messages indexed before)"
        )
        if args.warmup:  # first connections and first messages warm caches of both servers
            asyncio.run(run_fanout(bare_url, None, None, 0, n, args.warmup, args.rate))
            tokens, sender = setup["tokens"][:n], {"token": setup["sender_token"]}
            asyncio.run(
                run_fanout(app_url, tokens, sender, setup["channel_id"], n, args.warmup, args.rate, "w")
            )
        for run in range(args.runs):

            def bare_run() -> dict:
                return asyncio.run(run_fanout(bare_url, None, None, 0, n, m, args.rate))

            def app_run(run: int = run) -> dict:
                tokens, sender = setup["tokens"][:n], {"token": setup["sender_token"]}
                return asyncio.run(
                    run_fanout(app_url, tokens, sender, setup["channel_id"], n, m, args.rate, f"r{run}-")
                )

            # Alternate which server goes first: a slow spell of the machine then hits both alike.
            if run % 2 == 0:
                bare, app = bare_run(), app_run()
            else:
                app, bare = app_run(), bare_run()
            ratios.append(app["p99"] / max(bare["p99"], 0.001))
            print(f" run {run + 1} ({'bare' if run % 2 == 0 else 'app'} first)")
            print(_line("bare Flask-SocketIO", bare))
            print(_line("workspace app", app))
            print(f"  ratio app/bare p99: {ratios[-1]:.2f} (goal ≤ 1.5); {_waiting(setup['app'])}")
        if args.runs > 1:
            print(
                f"p99 ratios: {', '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}"
            )

        async def idle() -> int:
            held = await hold_idle(app_url, setup["tokens"][: args.idle])
            print(
                f"idle sockets held by one app process: {held}/{args.idle} (goal ≥ 2000), "
                f"RSS {_rss_mib(app_server.pid):.0f} MiB"
            )
            for client in hold_idle.clients:  # type: ignore[attr-defined]
                await client.disconnect()
            return held

        if args.idle:
            asyncio.run(idle())
    finally:
        app_server.terminate()
        bare_server.terminate()
        app_server.wait(60)
        bare_server.wait(10)
    _print_index(setup["app"], args.history + args.warmup + args.runs * m)
    if not args.persist:
        return
    rate, catch_up, pending = persist_rate(setup["app"], setup["channel_id"], args.persist)
    overall = args.persist / (args.persist / rate + catch_up)
    print(
        f"messages persisted per second on SQLite: {rate:.0f} (goal ≥ 300); search index caught up "
        f"{catch_up:.2f} s after the last post ({overall:.0f} /s including it, {pending} rows left)"
    )


def _waiting(app) -> str:
    """How many outbox rows the server's drain has not applied yet (it indexes while it serves)."""
    from docsearch import indexer

    with app.app_context():
        return f"outbox rows waiting after the run: {indexer.pending()}"


def _print_index(app, expected: int) -> None:
    """Show that the server indexed what was sent (its drain ran during the fan-out, not only at stop)."""
    from docsearch import indexer

    with app.app_context():
        index = indexer.ready_index()
        print(
            f"search index after the server stopped: {index.doc_count()} entries "
            f"(messages sent and before: {expected}), {indexer.pending()} outbox rows left"
        )


if __name__ == "__main__":
    main()
