"""Under `workspace serve` (gevent) the drain's whoosh work runs outside the event loop.

The server process is a real gevent interpreter (monkey-patched first, as `workspace serve` does)
in a subprocess on the test's database; it posts chat messages, asks for the drain and waits for
it while a greenlet of its loop keeps counting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from chat import channels
from tests.conftest import ROOT, wait_for
from workspace import db

SERVER = """
from gevent import monkey; monkey.patch_all()
import json, os, signal, sys
from pathlib import Path
import gevent
from chat import messages
from docsearch import indexer
from workspace import create_app, directory

config, channel_id, count = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
app = create_app(config)
with app.app_context():
    indexer.ready_index()  # first: a session holding the (SQLite) writer lock would make it wait
    sender = directory.get_user("yamada")
    with indexer.deferred():  # rows only: the drain below then has them all in one round
        for n in range(count - 1):
            messages.post(sender, channel_id, f"防災無線の点検 {n}", client_msg_id=f"d{n}")
    last, _ = messages.post(sender, channel_id, "防災無線の点検 最後", client_msg_id="last")  # asks for it
    ticks = 0

    def tick():
        global ticks
        while True:
            ticks += 1
            gevent.sleep(0)

    ticker = gevent.spawn(tick)
    gevent.sleep(0)
    at_start = ticks
    caught_up = indexer.wait_idle(120)
    at_end = ticks
    ticker.kill()
    worker = app.extensions["docsearch_drainer"]
    child = worker.last_round_pid
    stat = Path(f"/proc/{child}/stat").read_text() if child else ") ? 0"
    parent_of_child = int(stat.rsplit(")", 1)[1].split()[1])
    found = indexer.ready_index().searcher().document(key=f"message:{last.id}") is not None
    # A child that dies (killed, out of memory) is replaced by the next round.
    os.kill(child, signal.SIGKILL)
    gevent.sleep(0.1)
    again, _ = messages.post(sender, channel_id, "防災無線の再点検", client_msg_id="again")
    indexer.wait_idle(120)
    found_again = indexer.ready_index().searcher().document(key=f"message:{again.id}") is not None
    print(json.dumps({
        "pid": os.getpid(), "round_pid": child, "parent_of_child": parent_of_child,
        "ticks_during_drain": at_end - at_start, "caught_up": caught_up,
        "pending": indexer.pending(), "found": found, "rounds": worker.rounds,
        "found_again": found_again, "round_pid_again": worker.last_round_pid, "failures": worker.failures,
    }))
"""


def test_drain_under_gevent_runs_in_a_child_while_the_loop_keeps_running(
    app: Any, village: dict[str, Any], tmp_path: Path
) -> None:
    """Does a gevent server hand its drain round to a child process (not the loop), and is the message
    then searchable in the server, with the loop's greenlets running meanwhile?  Is a killed child
    replaced by the next round, and does none outlive the server?"""
    channel, _ = channels.create_channel(village["yamada"], "防災", "public", ["suzuki"])
    db.session().close()  # on SQLite an open transaction here would hold the server's writes
    config = {
        key: app.config[key]
        for key in ("DATA_DIR", "DATABASE_URL", "SECRET_KEY", "TESTING", "DIRECTORY", "REDIS_URL")
    }
    config.update({"SOCKET_RECHECK_SECONDS": 0, "CHAT_RATE_LIMIT": "1000000 per second"})
    done = subprocess.run(
        [sys.executable, "-c", SERVER, json.dumps(config), str(channel.id), "300"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["caught_up"] and report["pending"] == 0 and report["found"]
    assert report["rounds"] == 2
    # The whoosh work ran in another process, a child of the server's...
    assert report["round_pid"] not in (None, report["pid"])
    assert report["parent_of_child"] == report["pid"]
    # ...while the server's loop went on running greenlets.
    assert report["ticks_during_drain"] > 0
    # A killed child is replaced: the next round (not a later one) applies the new message.
    assert report["found_again"] and report["failures"] == 0
    assert report["round_pid_again"] not in (None, report["pid"], report["round_pid"])
    # The child does not outlive the server.
    assert wait_for(lambda: not Path(f"/proc/{report['round_pid_again']}").exists())
