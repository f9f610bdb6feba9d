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


def prepare(data_dir: Path, listeners: int) -> dict:
    """Create the schema, a sender and a listener account, one public channel, and tokens."""
    from chat import channels
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
        return {"channel_id": channel.id, "tokens": tokens, "sender_token": sender_token, "app": app}


async def run_fanout(
    url: str,
    tokens: list[str] | None,
    sender_auth: dict | None,
    channel_id: int,
    listeners: int,
    count: int,
    rate: float,
) -> dict:
    """Connect listeners, send count messages at rate, return delivery and latency figures."""
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
        payload = {"channel_id": channel_id, "body": f"{n}:{time.time()}", "client_msg_id": f"b{n}"}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--persist", type=int, default=2000)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    setup = prepare(data_dir, max(args.listeners, args.idle))
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
        stderr=subprocess.DEVNULL,
    )
    script = data_dir / "bare.py"
    script.write_text(BARE_SERVER)
    bare_server = subprocess.Popen(
        [sys.executable, str(script), str(bare_port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_up(app_url, app_server)
        _wait_up(bare_url, bare_server)
        n, m = args.listeners, args.messages
        bare = asyncio.run(run_fanout(bare_url, None, None, 0, n, m, args.rate))
        app = asyncio.run(
            run_fanout(
                app_url,
                setup["tokens"][:n],
                {"token": setup["sender_token"]},
                setup["channel_id"],
                n,
                m,
                args.rate,
            )
        )
        print(f"fan-out: {n} listeners, {m} messages at {args.rate}/s (gevent, one process each)")
        for name, r in (("bare Flask-SocketIO", bare), ("workspace app", app)):
            print(
                f"  {name:20s} delivered {r['delivered']}/{r['expected']}  "
                f"p50 {r['p50']:.1f} ms  p95 {r['p95']:.1f} ms  p99 {r['p99']:.1f} ms"
            )
        print(f"  ratio app/bare p99: {app['p99'] / max(bare['p99'], 0.001):.2f} (goal ≤ 1.5)")

        async def idle() -> int:
            held = await hold_idle(app_url, setup["tokens"][: args.idle])
            print(
                f"idle sockets held by one app process: {held}/{args.idle} (goal ≥ 2000), "
                f"RSS {_rss_mib(app_server.pid):.0f} MiB"
            )
            for client in hold_idle.clients:  # type: ignore[attr-defined]
                await client.disconnect()
            return held

        asyncio.run(idle())
    finally:
        app_server.terminate()
        bare_server.terminate()
        app_server.wait(10)
        bare_server.wait(10)
    rate, catch_up, pending = persist_rate(setup["app"], setup["channel_id"], args.persist)
    overall = args.persist / (args.persist / rate + catch_up)
    print(
        f"messages persisted per second on SQLite: {rate:.0f} (goal ≥ 300); search index caught up "
        f"{catch_up:.2f} s after the last post ({overall:.0f} /s including it, {pending} rows left)"
    )


if __name__ == "__main__":
    main()
