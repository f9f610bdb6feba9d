"""Event-loop stall during a search drain round, in a gevent process as under `workspace serve`.

    .venv/bin/python bench/drain_stall.py [--messages 250] [--history 2000] [--rounds 3]

A fresh SQLite data dir with `--history` chat messages already indexed; then, `--rounds` times,
`--messages` new messages are posted (outbox rows only) and one drain round applies them, while a
greenlet of the loop wakes every millisecond and records the longest gap between its wake-ups.
The baseline, measured in the same run, is that greenlet's longest gap over an idle spell as long
as the round (what the machine's scheduling alone costs).  Before the drain child, the round's
whoosh analysis, commit and merge ran on the loop and the gap was the round's CPU time; with it
the gap stays at the baseline.  Not a test: nothing here asserts a time.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - gevent patches first, as `workspace serve` does
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench/approvals.py would shadow

from chat import channels, messages  # noqa: E402
from docsearch import indexer  # noqa: E402
from workspace import create_app, directory, migrate  # noqa: E402


def longest_gap(work) -> tuple[float, float]:
    """Run work() while a greenlet ticks every millisecond; return (work's seconds, longest gap ms)."""
    gaps = [0.0]
    last = time.perf_counter()

    def tick() -> None:
        nonlocal last
        while True:
            gevent.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = gevent.spawn(tick)
    gevent.sleep(0.01)
    gaps[:] = [0.0]
    last = started = time.perf_counter()
    work()
    took = time.perf_counter() - started
    ticker.kill()
    return took, max(gaps) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=250)
    parser.add_argument("--history", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = create_app(
        {
            "DATA_DIR": tempfile.mkdtemp(prefix="drain-stall-"),
            "SECRET_KEY": "bench",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_KIB": 8192,
            "CHAT_RATE_LIMIT": "1000000 per second",
        }
    )
    migrate.upgrade(app)
    with app.app_context():
        indexer.ready_index()
        sender = directory.add_local_user("sender", "送信 太郎", "bench-password-1")
        channel, _ = channels.create_channel(sender, "ベンチ", "public", [])
        with indexer.deferred():
            for n in range(args.history):
                messages.post(sender, channel.id, f"過去の連絡 {n} 防災訓練の日程", client_msg_id=f"h{n}")
        indexer.rebuild()
        messages.post(sender, channel.id, "準備", client_msg_id="warm")  # a first round (starts a child)
        indexer.wait_idle(300)
        print(f"drain rounds of {args.messages} messages into an index of {args.history} (gevent)")
        for run in range(args.rounds):
            with indexer.deferred():
                for n in range(args.messages - 1):
                    messages.post(sender, channel.id, f"新しい連絡 {n} 除雪計画", client_msg_id=f"r{run}-{n}")
            messages.post(sender, channel.id, "新しい連絡 最後", client_msg_id=f"r{run}-last")
            took, gap = longest_gap(lambda: indexer.wait_idle(300))
            _, idle_gap = longest_gap(lambda took=took: gevent.sleep(took))
            worker = app.extensions["docsearch_drainer"]
            # (before the drain child there was no last_round_pid: the round ran in this process)
            in_child = getattr(worker, "last_round_pid", os.getpid()) != os.getpid()
            where = "the drain child" if in_child else "this process (on the loop)"
            print(
                f"  round {run + 1}: {took * 1000:.0f} ms in {where}; longest loop gap {gap:.1f} ms "
                f"(idle baseline {idle_gap:.1f} ms); {indexer.pending()} rows left"
            )


if __name__ == "__main__":
    main()
