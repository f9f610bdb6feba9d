"""文書番号: format, sequence per 年度 and department prefix, no gap and no duplicate under concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from approvals import numbering, service
from approvals.models import ApprovalRequest
from tests.approvals import test_service_support as support
from tests.approvals.test_service_support import at
from workspace import db, directory

# Fixtures shared with the other approval test modules.
app_config = support.app_config
org = support.org
shared_keys = support.shared_keys


def _decide(org: dict[str, Any], when: Any, drafter: str = "yamada") -> ApprovalRequest:
    row = service.create(org[drafter], {"route": "general", "title": "番号", "submit": True}, at=when)
    service.act(org["suzuki"], row.id, "approve", at=when)
    return service.act(org["sato"], row.id, "approve", at=when)


def test_format_fills_prefix_sequence_and_years() -> None:
    """Are {dept_prefix}, {n} (with a format spec), {fiscal_year} and {era_year} filled in?"""
    text = numbering.format_number(
        "{era_year}榛{dept_prefix}第{n:03d}号({fiscal_year})", prefix="総", n=7, fiscal_year=2026
    )
    assert text == "8榛総第007号(2026)"


def test_sequence_restarts_each_fiscal_year_on_1_april(org: dict[str, Any]) -> None:
    """Is 31 March still the old 年度 and 1 April number 1 of the new one?"""
    first = _decide(org, at(2027, 3, 30))
    second = _decide(org, at(2027, 3, 31, 23))
    third = _decide(org, at(2027, 4, 1, 8))
    assert [r.document_number for r in (first, second, third)] == ["榛総第1号", "榛総第2号", "榛総第1号"]
    assert [r.number_fiscal_year for r in (first, second, third)] == [2026, 2026, 2027]


def test_sequence_is_per_department_prefix(org: dict[str, Any]) -> None:
    """Does each department prefix count on its own, and is an edited prefix used from then on?"""
    directory.ensure_department("0102", "企画係", parent=directory.get_department("02"))
    db.session().commit()
    directory.add_local_user(
        "kakari2", "係長 二", "correct-horse-9", department_code="02", section_code="0102", title="係長"
    )
    staff = directory.add_local_user(
        "kikaku_staff",
        "企画 主事",
        "correct-horse-9",
        department_code="02",
        section_code="0102",
        title="主事",
    )
    row = service.create(staff, {"route": "general", "title": "企画", "submit": True})
    service.act(directory.get_user("kakari2"), row.id, "approve")
    row = service.act(org["kikaku"], row.id, "approve")
    assert row.document_number == "榛企第1号"
    assert _decide(org, None).document_number == "榛総第1号"
    directory.set_department_prefix("01", "総務", actor="admin")
    assert _decide(org, None).document_number == "榛総務第1号"


def test_rollback_gives_the_number_back(org: dict[str, Any]) -> None:
    """Does a rolled-back transaction leave no gap in the sequence?"""
    assert numbering.next_sequence("総", 2030) == 1
    db.session().rollback()
    assert numbering.next_sequence("総", 2030) == 1
    db.session().commit()
    assert numbering.next_sequence("総", 2030) == 2
    db.session().rollback()


def test_parallel_decisions_get_consecutive_numbers(org: dict[str, Any], app: Any) -> None:
    """Do decisions committed at the same moment from parallel sessions get 1..N, no gap, no duplicate?"""
    ids = []
    for _ in range(8):
        row = service.create(org["yamada"], {"route": "general", "title": "並行", "submit": True})
        service.act(org["suzuki"], row.id, "approve")
        ids.append(row.id)
    db.session().commit()
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def decide(request_id: int) -> None:
        with app.app_context():
            try:
                sato = directory.get_user("sato")
                db.session().commit()  # on SQLite even a read holds the write lock until it ends
                barrier.wait()
                service.act(sato, request_id, "approve")
            except BaseException as error:  # reported below
                errors.append(error)

    threads = [threading.Thread(target=decide, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    db.session().expire_all()
    numbers = (
        db.session().execute(select(ApprovalRequest.number_seq).where(ApprovalRequest.id.in_(ids))).scalars()
    )
    assert sorted(numbers) == list(range(1, len(ids) + 1))


@pytest.mark.parametrize("bad", ["{n}{oops}", "no sequence", "{n!r}"])
def test_template_number_format_is_validated(org: dict[str, Any], bad: str) -> None:
    """Is a number_format with unknown fields or without {n} refused at import?"""
    from approvals import route_store
    from approvals.errors import Invalid
    from tests.approvals.test_service_support import GENERAL

    with pytest.raises(Invalid) as caught:
        route_store.save({**GENERAL, "number_format": bad}, org["admin"])
    assert caught.value.extra["path"] == "number_format"
