"""The index follows the database: outbox, drain, crash repair, rebuild, the single writer."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from docsearch import indexer
from docsearch.engine import IndexBusy
from docsearch.engine.whoosh.index import SearchIndex
from docsearch.models import IndexOutbox
from tests.conftest import LiveServer, free_port, server_env
from tests.docsearch.conftest import search, upload
from workspace import db, signals


def _outbox() -> int:
    count = db.session().execute(select(func.count()).select_from(IndexOutbox)).scalar_one()
    db.session().commit()  # end the read: on SQLite it holds the write lock the drain needs
    return count


def test_upload_is_searchable_at_once_and_outbox_empty(client: Any, tokens: dict[str, str]) -> None:
    """Does the after-commit drain index a new document and empty the outbox"""
    doc = upload(client, tokens["yamada"], "議会運営委員会の資料".encode(), "gikai.txt").get_json()
    assert _outbox() == 0
    assert [r["id"] for r in search(client, tokens["yamada"], q="議会").get_json()["results"]] == [doc["id"]]


def test_crash_between_commit_and_index_is_repaired_by_the_next_drain(
    app: Any, client: Any, tokens: dict[str, str]
) -> None:
    """Is a document committed without its index update (no drain) found after `workspace index drain`"""
    indexer.ready_index()  # an existing index (a missing one would be rebuilt from the database)
    app.config["SEARCH_DRAIN_ON_COMMIT"] = False  # the process "crashes" before the in-process drain
    doc = upload(client, tokens["yamada"], "上下水道の料金改定".encode(), "suido.txt").get_json()
    assert _outbox() == 1
    assert search(client, tokens["yamada"], q="料金改定").get_json()["total"] == 0
    result = app.test_cli_runner().invoke(args=["index", "drain"])
    assert result.exit_code == 0, result.output
    assert "drained 1" in result.output
    assert _outbox() == 0
    assert [r["id"] for r in search(client, tokens["yamada"], q="料金改定").get_json()["results"]] == [
        doc["id"]
    ]


def test_missing_index_is_rebuilt_from_the_database(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is a deleted index directory rebuilt from the database on the next search"""
    doc = upload(client, tokens["yamada"], "除雪計画の見直し".encode(), "josetsu.txt").get_json()
    index = indexer.get_index()
    index.reset()
    shutil.rmtree(index.path)
    assert [r["id"] for r in search(client, tokens["yamada"], q="除雪").get_json()["results"]] == [doc["id"]]


def test_corrupt_index_is_quarantined_and_rebuilt(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Is an index with damaged files moved aside and rebuilt from the database"""
    doc = upload(client, tokens["yamada"], "公共施設の長寿命化".encode(), "shisetsu.txt").get_json()
    index = indexer.get_index()
    index.reset()
    for path in Path(index.path).iterdir():
        path.write_bytes(b"\x00garbage\xff" * 10)
    assert [r["id"] for r in search(client, tokens["yamada"], q="長寿命化").get_json()["results"]] == [
        doc["id"]
    ]
    assert list(Path(index.path).parent.glob("index.corrupt-*"))


def test_reindex_command_rebuilds_everything(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Does `workspace reindex` rebuild the index with every active document"""
    for i in range(3):
        upload(client, tokens["yamada"], f"観光振興計画 第{i}版".encode(), f"k{i}.txt")
    result = app.test_cli_runner().invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed 3 entries" in result.output
    assert search(client, tokens["yamada"], q="観光振興").get_json()["total"] == 3


def test_second_writer_waits_then_gives_up_with_index_busy(app: Any, tmp_path: Path) -> None:
    """Does a writer wait for the lock held by another and raise IndexBusy after the timeout"""
    first = SearchIndex(tmp_path / "ix", lock_timeout=0.3)
    second = SearchIndex(tmp_path / "ix", lock_timeout=0.3)  # as another process would open it
    first.open()
    with first.writer(), pytest.raises(IndexBusy), second.writer():
        pass
    with second.writer() as writer:  # once released, the lock is free again
        writer.delete_by_term("key", "document:1")


def test_busy_index_leaves_outbox_for_the_next_drain(app: Any, client: Any, tokens: dict[str, str]) -> None:
    """Does an upload succeed while another process holds the index lock, and is it indexed later"""
    app.config["SEARCH_LOCK_TIMEOUT"] = 0.2
    indexer.ready_index()
    app.extensions.pop("docsearch_index")  # pick up the short timeout
    other = SearchIndex(indexer.get_index().path, lock_timeout=0.2)
    with other.writer():
        response = upload(client, tokens["yamada"], "固定資産税の納期".encode(), "zei.txt")
        assert response.status_code == 201
        assert _outbox() == 1
    assert indexer.drain() == 1
    assert search(client, tokens["yamada"], q="固定資産税").get_json()["total"] == 1


def test_chat_and_approval_signals_leave_outbox_rows_the_drain_applies(
    app: Any, people: dict[str, Any]
) -> None:
    """Do message and approval signals record what the index owes, and does the drain apply it?"""
    indexer.ready_index()  # a first rebuild would take the rows over
    db.session().commit()
    with indexer.deferred():
        signals.message_created.send(app, message_id=7, channel_id=1)
        signals.approval_changed.send(app, request_id=3, status="approved")
    kinds = sorted(db.session().execute(select(IndexOutbox.kind, IndexOutbox.object_id)).all())
    db.session().commit()
    assert kinds == [("approval", 3), ("message", 7)]
    assert indexer.drain() == 2  # neither object exists: their (absent) entries are removed
    assert _outbox() == 0


def test_reindex_has_no_gap_and_keeps_changes_made_meanwhile(
    app: Any, client: Any, tokens: dict[str, str]
) -> None:
    """While `workspace reindex` runs, do searches still find everything, and does a change made
    meanwhile (its drain refused) reach the new index afterwards"""
    from whoosh import query as wq

    from docsearch.models import Document

    app.config["SEARCH_LOCK_TIMEOUT"] = 0.3
    for i in range(3):
        upload(client, tokens["yamada"], f"観光振興計画 第{i}版".encode(), f"k{i}.txt")
    app.extensions.pop("docsearch_index")  # pick up the short timeout
    index = indexer.ready_index()
    seen_during: list[int] = []

    def midway(_count: int) -> None:
        # The old index still answers: nothing has disappeared from search.
        seen_during.append(index.searcher().search(wq.Term("type", "document")).scored_length())
        # A document changes now; its drain is refused (the rebuild holds the lock), the row stays.
        with app.app_context():
            doc = db.session().execute(select(Document).order_by(Document.id)).scalars().first()
            doc.title = "改訂 観光振興計画"
            indexer.enqueue("document", doc.id)
            db.session().commit()
            with pytest.raises(IndexBusy):
                indexer.drain()

    written = indexer.rebuild(progress=midway)
    assert written == 3 and seen_during and set(seen_during) == {3}
    assert _outbox() == 1  # the change made during the rebuild is still owed
    assert indexer.drain() == 1
    titles = [r["title"] for r in search(client, tokens["yamada"], q="改訂").get_json()["results"]]
    assert titles == ["改訂 観光振興計画"]
    assert not index.path.with_name(index.path.name + ".new").exists()
    assert not index.path.with_name(index.path.name + ".old").exists()


def test_stopping_server_applies_the_outbox_before_it_exits(
    app: Any, client: Any, tokens: dict[str, str], tmp_path: Path
) -> None:
    """When `workspace serve` is stopped (SIGTERM, as systemd stops it), does it apply the outbox
    rows committed before, and exit cleanly instead of leaving them for the next start"""
    indexer.ready_index()
    app.config["SEARCH_DRAIN_ON_COMMIT"] = False  # this process leaves the row to the server
    doc = upload(client, tokens["yamada"], "除雪計画の見直し".encode(), "josetsu.txt").get_json()
    app.config["SEARCH_DRAIN_ON_COMMIT"] = True
    assert _outbox() == 1
    server = LiveServer(server_env(app), free_port(), tmp_path / "server.log")
    try:
        assert _outbox() == 1  # starting drains nothing: the row waits for the server's next commit
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(60) == 0
    finally:
        server.stop()
    assert "stopped" in server.log.read_text()
    assert _outbox() == 0
    found = search(client, tokens["yamada"], q="除雪計画").get_json()["results"]
    assert [r["id"] for r in found] == [doc["id"]]
