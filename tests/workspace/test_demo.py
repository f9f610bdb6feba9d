"""The demo village: `workspace demo` builds a lived-in village, twice changes nothing, --empty stays bare.

The village is built once for the module (it takes a few seconds) and looked at the way its people
would: through the API as a 課長, a 係長, a 主事 and records staff, and the decided record as a PDF.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from approvals.models import ApprovalRequest, DecidedRecord
from approvals.record import family_name
from chat.models import Channel, Member, Message, Reaction
from docsearch.models import ApprovalFiling, Classification, Document
from tests.conftest import _wipe, login, make_app
from workspace import calendar, db
from workspace.db import Base
from workspace.models import User

PASSWORD = "demo-2026-mura"


@pytest.fixture(scope="module")
def demo_app(schema: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An app whose database holds the lived-in demo village (built by the real command)."""
    application = make_app(schema, tmp_path_factory.mktemp("demo") / "data")
    _wipe(application)
    with application.app_context():
        result = application.test_cli_runner().invoke(args=["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
        assert "デモ村の準備:" in result.output
        application.config["DEMO_OUTPUT"] = result.output
        db.session().commit()
        yield application
    _wipe(application)


@pytest.fixture(autouse=True)
def _end_reads() -> Iterator[None]:
    # On SQLite a transaction holds the writer lock: end the test body's before the next one writes.
    yield
    db.session().commit()


def _client(app: Any, username: str) -> Any:
    client = app.test_client()
    response = login(client, username, PASSWORD)
    assert response.status_code in (200, 302), response.get_data(as_text=True)[:200]
    return client


def _count(model: Any, *where: Any) -> int:
    return db.session().execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_demo_registers_about_300_documents_over_three_years_with_a_classification_table(demo_app):
    assert _count(Classification) >= 60
    assert _count(Document, Document.retention_until.is_not(None)) > 0
    this_year = calendar.fiscal_year(calendar.today())
    years = dict(
        db.session()
        .execute(
            select(Document.fiscal_year, func.count())
            .where(~Document.id.in_(select(ApprovalFiling.document_id)))
            .group_by(Document.fiscal_year)
        )
        .all()
    )
    assert set(years) == {this_year - 2, this_year - 1, this_year}
    assert 280 <= sum(years.values()) <= 320
    per_department = db.session().execute(select(Document.department_id).distinct()).scalars().all()
    assert len(per_department) >= 9
    # Every demo document carries a 分類 from the table and text a person can read.
    assert _count(Document, Document.classification_id.is_(None), Document.fiscal_year < this_year) == 0


def test_records_staff_see_a_non_empty_expiry_list(demo_app):
    client = _client(demo_app, "takahashi")  # the demo's records clerk
    expired = client.get("/api/v1/retention/expired").get_json()["documents"]
    assert expired, "the 満了 list is empty"
    assert all(d["retention_until"] < calendar.today().isoformat() for d in expired)
    html = client.get("/documents/retention").get_data(as_text=True)
    assert expired[0]["title"] in html


def test_inboxes_of_a_kacho_and_a_kakaricho_are_not_empty(demo_app):
    for username in ("kato", "sato", "yoshida", "suzuki"):
        inbox = _client(demo_app, username).get("/api/v1/approvals/inbox").get_json()
        assert inbox["pending"], f"{username}'s inbox is empty"
    home = _client(demo_app, "kato").get("/api/v1/home").get_json()
    assert home["approvals_pending"] and home["approvals_pending"][0]["drafter"]


def test_a_sent_back_request_shows_its_reason_to_the_drafter(demo_app):
    home = _client(demo_app, "yamada").get("/api/v1/home").get_json()
    reasons = [item["reason"] for item in home["sent_back"]]
    assert any("積算根拠" in (r or "") for r in reasons), home["sent_back"]


def test_a_consultation_is_under_way_and_a_post_review_waits(demo_app):
    consult = (
        db.session()
        .execute(
            select(ApprovalRequest).where(
                ApprovalRequest.route_key == "joint", ApprovalRequest.status == "in_progress"
            )
        )
        .scalar_one()
    )
    steps = consult.state["steps"]
    consult_step = next(s for s in steps if s["kind"] == "consult")
    statuses = {slot["status"] for slot in consult_step["slots"]}
    assert "approved" in statuses and "pending" in statuses, consult_step
    post_review = _client(demo_app, "fukusoncho").get("/api/v1/approvals/inbox").get_json()["post_review"]
    assert post_review, "副村長 has no 後閲 waiting"
    absent = _client(demo_app, "yamada").get("/api/v1/home").get_json()["absent_today"]
    assert {"fukusoncho", "kimura"} <= {a["username"] for a in absent}


def test_every_stage_of_a_request_exists(demo_app):
    statuses = set(db.session().execute(select(ApprovalRequest.status)).scalars())
    assert {"draft", "in_progress", "sent_back", "approved"} <= statuses


def test_a_decided_request_is_filed_as_a_signed_pdf_with_the_seals_of_who_acted(demo_app, tmp_path: Path):
    filed = db.session().execute(select(ApprovalFiling)).scalars().all()
    decided = _count(ApprovalRequest, ApprovalRequest.status == "approved")
    assert decided >= 5 and len(filed) == decided
    request = (
        db.session()
        .execute(
            select(ApprovalRequest).where(
                ApprovalRequest.route_key == "joint", ApprovalRequest.status == "approved"
            )
        )
        .scalar_one()
    )
    record = (
        db.session().execute(select(DecidedRecord).where(DecidedRecord.request_id == request.id)).scalar_one()
    )
    assert record.signed
    path = tmp_path / "record.pdf"
    path.write_bytes(record.pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "（決裁経路なし）" not in text
    actors = {
        slot["acted_by"] for step in request.state["steps"] for slot in step["slots"] if slot.get("acted_by")
    }
    names = db.session().execute(select(User.display_name).where(User.id.in_(actors))).scalars().all()
    assert len(names) == 5
    for name in names:
        assert family_name(name) in text, f"no seal of {name} on the record"
    assert calendar.wareki_short(calendar.to_jst(request.decided_at).date()) in text
    # Filed into 文書 with the 分類 the request names, whichever domain built its demo data first.
    filed_doc = db.session().get(Document, next(f.document_id for f in filed if f.request_id == request.id))
    assert filed_doc.classification is not None and filed_doc.classification.minor == "有害鳥獣対策"
    assert not [t for t in filed_doc.tags if t.startswith("分類:")]


def test_chat_has_four_weeks_in_every_department_channel_with_threads_reactions_and_dms(demo_app):
    for channel in db.session().execute(select(Channel).where(Channel.kind == "department")).scalars():
        assert _count(Message, Message.channel_id == channel.id) >= 10, channel.name
    assert _count(Channel, Channel.kind == "public") >= 3
    directs = db.session().execute(select(Channel.id).where(Channel.kind == "direct")).scalars().all()
    sizes = [_count(Member, Member.channel_id == c) for c in directs]
    assert 2 in sizes and any(n > 2 for n in sizes), "no DM or no group DM"
    assert _count(Message, Message.thread_id.is_not(None)) >= 50
    assert _count(Reaction) >= 50
    oldest, newest = (
        db.session().execute(select(func.min(Message.created_at), func.max(Message.created_at))).one()
    )
    assert (newest - oldest).days >= 20
    assert newest <= calendar.now()


def test_a_kacho_sees_unread_channels_and_mentions_and_a_thread_with_replies(demo_app):
    client = _client(demo_app, "kato")
    home = client.get("/api/v1/home").get_json()
    assert home["channels_unread"] and home["mentions_unread"] >= 1
    channel_id = home["channels_unread"][0]["id"]
    listed = client.get(f"/api/v1/channels/{channel_id}/messages?limit=200").get_json()["messages"]
    assert any(m["thread_id"] for m in listed)


def test_the_demo_is_searchable_at_once_documents_decisions_and_chat(demo_app):
    client = _client(demo_app, "kato")
    for query in ("戸籍", "マイナンバーカード休日交付窓口", "回覧の前に"):
        found = client.get("/api/v1/search", query_string={"q": query}).get_json()
        assert found["total"] > 0, query


def test_a_record_filed_before_the_classification_table_gets_its_classification(demo_app):
    from docsearch import demo as docsearch_demo

    filing = db.session().execute(select(ApprovalFiling)).scalars().first()
    doc = db.session().get(Document, filing.document_id)
    expected = doc.classification.code
    # As filing leaves it when the 分類 table is not loaded yet (the other domain ran first).
    doc.tags = [*doc.tags, f"分類:{doc.classification.minor}"]
    doc.classification = None
    db.session().commit()
    docsearch_demo.on_demo_village_ready()
    db.session().expire_all()
    doc = db.session().get(Document, filing.document_id)
    assert doc.classification is not None and doc.classification.code == expected
    assert not [t for t in doc.tags if t.startswith("分類:")]


def _snapshot() -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its content."""
    session = db.session()
    existing = set(inspect(session.connection()).get_table_names())
    shot = {}
    for table in Base.metadata.sorted_tables:
        if table.name in existing:
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            shot[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    session.commit()
    return shot


def test_running_the_demo_again_changes_nothing(demo_app):
    before = _snapshot()
    result = demo_app.test_cli_runner().invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    after = _snapshot()
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}


# Last: the function-scoped app empties the database the module's village lives in.
def test_empty_keeps_the_bare_village(app):
    result = app.test_cli_runner().invoke(args=["demo", "--empty", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert _count(User) > 30
    assert _count(Message) == 0 and _count(ApprovalRequest) == 0 and _count(Document) == 0
    from approvals import route_store

    assert {"general", "expense", "contract", "personnel"} <= {r.key for r in route_store.list_latest()}
