"""The decided record as an outbox job: the decision commits and answers without waiting for the
renderer or the signing key; the job it owes (committed with it) signs the record, and the filing
that job owes files it; the PDF download waits for it or answers 202, never an unsigned final."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from approvals import record
from approvals.models import DecidedRecord
from docsearch.models import Document
from tests.approvals import test_service_support as support
from tests.docsearch.conftest import auth
from tests.docsearch.test_filing import _decide, tok  # noqa: F401 - the fixture is used by name
from workspace import db, outbox
from workspace.models import OutboxJob

org = support.org
shared_keys = support.shared_keys


@pytest.fixture
def app_config(shared_keys: str) -> dict[str, Any]:
    # The production default (the decision does not wait) and no background worker: each step of
    # the job is then seen in turn, run by `workspace outbox run` as an operator would.
    return {"APPROVALS_KEY_DIR": shared_keys, "APPROVALS_RECORD_WAIT_SECONDS": 0.0, "OUTBOX_WORKER": False}


def _count(model: Any, *where: Any) -> int:
    with db.read_session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _jobs(kind: str) -> list[OutboxJob]:
    with db.read_session() as session:
        return list(session.scalars(select(OutboxJob).where(OutboxJob.kind == kind)))


def test_the_decision_owes_its_record_and_the_download_waits_then_gets_it(
    app: Any, client: Any, tok: dict[str, str]  # noqa: F811
) -> None:
    """Is the record owed (not made) when the decision answers, 202 before it is made, and then signed?"""
    decided = _decide(client, tok)
    assert decided["status"] == "approved"
    # Committed with the decision: the job, not the record.
    assert [j.ref for j in _jobs(record.RECORD_JOB)] == [decided["id"]]
    assert _count(DecidedRecord) == 0 and _count(Document) == 0
    url = f"/api/v1/approvals/{decided['id']}/pdf"
    pending = client.get(url, headers=auth(tok["yamada"]))
    assert pending.status_code == 202 and pending.headers["Retry-After"] == "5"
    assert pending.get_json()["status"] == "pending"
    assert "電子署名を付けています" in pending.get_json()["message"]
    assert pending.mimetype == "application/json"  # never an unsigned PDF as the final record
    page = client.get(url, headers={**auth(tok["yamada"]), "Accept": "text/html"})
    assert page.status_code == 202 and "決裁済みPDFを作成しています" in page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page.get_data(as_text=True)

    result = app.test_cli_runner().invoke(args=["outbox", "run"])
    assert result.exit_code == 0 and "done: 2" in result.output, result.output  # the record, then its filing
    assert _jobs(record.RECORD_JOB) == [] and _count(OutboxJob) == 0
    signed = client.get(url, headers=auth(tok["yamada"]))
    assert signed.status_code == 200 and signed.data.startswith(b"%PDF")
    with db.read_session() as session:
        kept = session.get(DecidedRecord, decided["id"])
        assert kept is not None and kept.signed and bytes(kept.pdf) == signed.data
    assert _count(Document) == 1  # the filing the record's job owed


def test_the_decision_never_waits_for_the_signing_key(
    app: Any, client: Any, tok: dict[str, str], tmp_path: Path, shared_keys: str  # noqa: F811
) -> None:
    """With the keys unusable, does the decision stand and the job wait, say why, and succeed later?"""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    app.config["APPROVALS_KEY_DIR"] = str(blocker / "keys")  # cannot be created: no key, no signature
    decided = _decide(client, tok)
    assert decided["status"] == "approved"
    runner = app.test_cli_runner()
    assert "done: 0" in runner.invoke(args=["outbox", "run"]).output
    (job,) = _jobs(record.RECORD_JOB)
    assert job.attempts == 1 and job.not_before is not None and "Unavailable" in (job.last_error or "")
    status = runner.invoke(args=["outbox", "status"]).output
    assert f"{record.RECORD_JOB}: 1" in status
    assert f"job {job.id} {record.RECORD_JOB}({decided['id']})" in status
    assert _count(DecidedRecord) == 0
    # The download does not keep the person waiting for a job that failed: it says to call the admin.
    failed = client.get(f"/api/v1/approvals/{decided['id']}/pdf", headers=auth(tok["yamada"]))
    assert failed.status_code == 503 and "管理者に連絡してください" in failed.get_json()["error"]["message"]
    browser = {**auth(tok["yamada"]), "Accept": "text/html"}
    page = client.get(f"/api/v1/approvals/{decided['id']}/pdf", headers=browser)
    assert page.status_code == 503 and page.mimetype == "text/html"
    assert "管理者に連絡してください" in page.get_data(as_text=True)

    app.config["APPROVALS_KEY_DIR"] = shared_keys  # the operator fixes the key directory
    with db.write():
        db.session().execute(OutboxJob.__table__.update().values(not_before=None))  # due now
    assert "done: 2" in runner.invoke(args=["outbox", "run"]).output
    assert _count(DecidedRecord) == 1 and _count(Document) == 1 and _count(OutboxJob) == 0


def test_the_worker_does_it_after_the_commit_by_itself(
    app: Any, client: Any, tok: dict[str, str]  # noqa: F811
) -> None:
    """With the worker on (the default), are the record and its filing made without anyone asking?"""
    app.config["OUTBOX_WORKER"] = True
    decided = _decide(client, tok)
    assert outbox.wait_idle(60)
    assert _count(DecidedRecord, DecidedRecord.request_id == decided["id"]) == 1
    assert _count(Document) == 1 and _count(OutboxJob) == 0


def test_a_job_owed_in_a_transaction_that_rolls_back_is_not_owed(app: Any) -> None:
    """Does an owed job share its transaction's fate?"""
    class Undo(Exception):
        pass

    with pytest.raises(Undo), db.write():
        outbox.owe(record.RECORD_JOB, 12345)
        raise Undo
    assert _count(OutboxJob) == 0
    with db.write():
        outbox.owe(record.RECORD_JOB, 12345)
    assert [j.ref for j in _jobs(record.RECORD_JOB)] == [12345]
    # A job for a request that does not exist (any more) is done without doing anything.
    assert outbox.run_due() == 1 and _count(OutboxJob) == 0


def test_an_unknown_kind_is_refused_at_once(app: Any) -> None:
    """A typo in a job kind fails where it is written, not later in the worker."""
    with pytest.raises(ValueError):
        outbox.owe("approvals.recrod", 1)
