"""Chat messages reach the search index through the background drainer: coalesced, never lost."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event

from chat import messages
from docsearch import drainer, indexer
from docsearch.engine.whoosh.index import SearchIndex
from tests.chat.conftest import isolated
from workspace import db, directory


@pytest.fixture
def soumu(people) -> int:
    return people["yamada"].channel_id("総務課")


@pytest.fixture
def gather_until_asked(monkeypatch) -> None:
    """The worker gathers requests until someone waits: how many rounds a burst takes is then fixed."""
    monkeypatch.setattr(drainer, "GATHER_SECONDS", 600.0)


def _search_ids(person: Any, q: str) -> set[int]:
    response = person.get("/search", query_string={"q": q, "type": "message", "limit": 100})
    assert response.status_code == 200, response.get_json()
    return {r["id"] for r in response.get_json()["results"]}


def _worker() -> drainer.Drainer:
    return indexer._drainer()


def test_burst_of_messages_is_indexed_in_one_round(app, people, soumu, gather_until_asked):
    """Do 20 posts in a row cost one drain round, and is every message then found?"""
    indexer.ready_index()
    ids = [
        people["yamada"].post(f"/channels/{soumu}/messages", {"body": f"防災訓練の連絡 {n}"}).get_json()["id"]
        for n in range(20)
    ]
    assert indexer.pending() == 20  # posted without waiting for the index
    assert indexer.wait_idle(60)
    assert _worker().rounds == 1
    assert indexer.pending() == 0
    assert _search_ids(people["suzuki"], "防災訓練") == set(ids)


def test_search_right_after_posting_finds_the_message(people, soumu):
    """Does a search in the same process wait for the drain of a message just posted?"""
    posted = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "消防団の詰所の鍵"}).get_json()
    assert _search_ids(people["yamada"], "詰所") == {posted["id"]}


def test_busy_index_leaves_rows_and_the_next_request_applies_them(app, people, soumu):
    """When another writer holds the index, are the rows kept, and drained by the next post?"""
    app.config["SEARCH_LOCK_TIMEOUT"] = 0.2
    indexer.ready_index()
    app.extensions.pop("docsearch_index")  # pick up the short timeout
    other = SearchIndex(indexer.get_index().path, lock_timeout=0.2)
    with other.writer():
        first = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "除雪車の点検日"}).get_json()
        indexer.wait_idle(60)
        assert _worker().failures == 1
        assert indexer.pending() == 1
    second = people["yamada"].post(f"/channels/{soumu}/messages", {"body": "除雪車の出動"}).get_json()
    assert indexer.wait_idle(60)
    assert indexer.pending() == 0
    assert _search_ids(people["suzuki"], "除雪車") == {first["id"], second["id"]}


def test_failing_drain_keeps_the_rows(app, people, soumu, monkeypatch):
    """Does an error inside the drain leave every outbox row for the next drain?"""
    indexer.ready_index()

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(SearchIndex, "writer", broken)
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "庁舎の停電予定"})
    indexer.wait_idle(60)
    assert _worker().failures == 1
    assert indexer.pending() == 1
    monkeypatch.undo()
    assert indexer.drain() == 1
    assert _search_ids(people["suzuki"], "停電") != set()


def test_stop_ends_the_worker_without_losing_rows(app, people, soumu, gather_until_asked):
    """Does stopping (shutdown) end the worker at once, keep its rows, and let a later post drain them?"""
    indexer.ready_index()
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "議会の傍聴席"})
    worker = _worker()
    thread = worker._thread
    assert thread is not None and thread.is_alive()
    worker.stop(timeout=30)
    assert not thread.is_alive()
    assert indexer.pending() == 1
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "議会の日程"})
    assert indexer.wait_idle(60)
    assert indexer.pending() == 0
    assert len(_search_ids(people["suzuki"], "議会")) == 2


def test_disposing_the_engine_stops_the_worker(app, people, soumu, gather_until_asked):
    """Does the worker end with its app's engine (so it cannot outlive a test or a tool)?"""
    people["yamada"].post(f"/channels/{soumu}/messages", {"body": "水道メーターの交換"})
    thread = _worker()._thread
    assert thread is not None and thread.is_alive()
    app.extensions["db_engine"].dispose()
    assert not thread.is_alive()


def test_concurrent_posts_are_all_indexed(app, people, soumu):
    """Are messages posted from several threads at once all drained and searchable?"""
    indexer.ready_index()
    app.config["CHAT_RATE_LIMIT"] = "1000 per second"
    posted: list[int] = []

    def post_some(name: str) -> None:
        user = directory.get_user(name)
        for n in range(5):
            message, _ = messages.post(user, soumu, f"避難所の備蓄 {name} {n}")
            posted.append(message.id)

    def in_app(name: str) -> None:
        with app.app_context():
            post_some(name)

    threads = [threading.Thread(target=in_app, args=(name,)) for name in ("yamada", "suzuki")]
    db.session().commit()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert indexer.wait_idle(60)
    assert indexer.pending() == 0
    assert _search_ids(people["sato"], "避難所") == set(posted)


def test_a_post_costs_few_statements(app, people, soumu):
    """Does posting a message stay within eight SQL statements (checks, insert, read mark, outbox)?"""
    seen: list[str] = []
    me = threading.get_ident()

    def count(_conn, _cursor, statement, *_args) -> None:
        if threading.get_ident() == me:  # not the background drainer's
            seen.append(statement)

    def post() -> None:
        with app.app_context():
            user = directory.get_user("yamada")  # loaded first, as the request's sign-in does
            event.listen(engine, "before_cursor_execute", count)
            messages.post(user, soumu, "昼休みの当番", client_msg_id="stmt-1")

    engine = app.extensions["db_engine"]
    try:
        isolated(post)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(seen) <= 8, seen
