"""The hash-chained audit log: verify names the first changed, removed or inserted entry."""

from __future__ import annotations

from sqlalchemy import select, text

from workspace import audit, db
from workspace.models import AuditEntry


def _write(n: int) -> list[int]:
    ids = [audit.record(f"test.{i}", actor="tester", target=f"t{i}", detail={"i": i}).id for i in range(n)]
    db.session().commit()
    return [e.id for e in db.session().execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()] or ids


def test_intact_chain_verifies(app):
    _write(5)
    result = audit.verify()
    assert result.ok and result.checked == 5


def test_changed_entry_is_named(app):
    ids = _write(5)
    db.session().execute(text("UPDATE audit_log SET target = 'forged' WHERE id = :id"), {"id": ids[2]})
    db.session().commit()
    result = audit.verify()
    assert not result.ok and result.problem == "changed" and result.entry_id == ids[2]


def test_removed_entry_is_named(app):
    ids = _write(5)
    db.session().execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[2]})
    db.session().commit()
    result = audit.verify()
    assert not result.ok and result.problem == "removed" and result.entry_id == ids[3]


def test_removed_last_entry_is_detected(app):
    ids = _write(5)
    db.session().execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[-1]})
    db.session().commit()
    result = audit.verify()
    assert not result.ok and result.problem == "removed"


def test_inserted_entry_is_named(app):
    ids = _write(4)
    entries = db.session().execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    # A forger who knows the algorithm writes a well-formed entry chained to #1, and renumbers ids
    # so that it sits between #1 and #2. Its own hash is valid; the link of #2 is what breaks.
    content = audit._canonical(entries[1].at, "forger", "test.forged", None, None, {})
    forged = AuditEntry(
        at=entries[1].at,
        actor="forger",
        action="test.forged",
        target=None,
        address=None,
        detail={},
        prev_hash=entries[1].hash,
        hash=audit._chain_hash(entries[1].hash, content),
    )
    db.session().add(forged)
    db.session().commit()
    db.session().execute(text("UPDATE audit_log SET id = id + 100 WHERE id > :id"), {"id": ids[1]})
    db.session().execute(
        text("UPDATE audit_log SET id = :new WHERE action = 'test.forged'"), {"new": ids[1] + 1}
    )
    db.session().commit()
    result = audit.verify()
    assert not result.ok
    assert result.problem == "inserted"
    assert result.entry_id == ids[2] + 100  # the first genuine entry after the insertion


def test_cli_audit_verify_exit_codes(app):
    ids = _write(3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    db.session().execute(text("UPDATE audit_log SET actor = 'x' WHERE id = :id"), {"id": ids[0]})
    db.session().commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1 and f"entry {ids[0]}" in broken.output
