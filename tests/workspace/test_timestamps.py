"""Every timestamp column keeps the instant it was given, on SQLite and PostgreSQL alike.

SQLite has no time zone type: a JST value (+09:00) used to be stored as its wall-clock digits and
read back as UTC, nine hours late, so the inbox said 更新 10:47 at 01:47 and a request decided
after 15:00 JST printed the next day as its 決裁日.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from approvals import service
from approvals.models import ApprovalRequest
from approvals.serialize import request_json
from tests.approvals import test_service_support as support
from tests.conftest import DB_BACKEND, _import_all_models, make_app
from workspace import calendar, db, migrate
from workspace.db import Base
from workspace.models import UTCDateTime

app_config = support.app_config
org = support.org
shared_keys = support.shared_keys

JST = calendar.JST


def timestamp_columns() -> list[sa.Column]:
    _import_all_models()
    return [
        c
        for t in Base.metadata.sorted_tables
        for c in t.columns
        if isinstance(c.type, sa.DateTime | UTCDateTime)
    ]


def test_every_timestamp_column_of_every_model_is_utc_typed() -> None:
    """Is no model left with a plain DateTime column that would store a local wall clock?"""
    columns = timestamp_columns()
    assert len(columns) > 20
    plain = [f"{c.table.name}.{c.name}" for c in columns if not isinstance(c.type, UTCDateTime)]
    assert plain == []


# Around midnight JST (15:00 UTC) and the 年度 boundary 3/31 → 4/1, with any offset the world uses.
instants = st.one_of(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    st.builds(
        lambda day, minutes: dt.datetime(2026, 3, 31) + dt.timedelta(days=day, minutes=minutes),
        st.integers(0, 1),
        st.integers(14 * 60, 16 * 60),
    ),
)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


@pytest.fixture
def scratch(app: Any) -> Any:
    """A real table with one column per model timestamp column, each of that column's own type."""
    columns = timestamp_columns()
    table = sa.Table(
        "timestamp_scratch",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(f"c{i}", c.type) for i, c in enumerate(columns)),
    )
    engine = app.extensions["db_engine"]
    db.session().commit()
    table.create(engine)
    yield table, [f"{c.table.name}.{c.name}" for c in columns]
    db.session().rollback()
    table.drop(engine)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(instants, offsets)
def test_any_aware_time_comes_back_as_the_same_instant_in_every_column(
    scratch: Any, naive: dt.datetime, zone: dt.timezone
) -> None:
    """Does each model's timestamp column type give back the instant written, aware and in UTC?"""
    table, names = scratch
    value = naive.replace(tzinfo=zone)
    session = db.session()
    session.execute(table.delete())
    session.execute(table.insert().values(id=1, **{f"c{i}": value for i in range(len(names))}))
    session.commit()
    row = session.execute(sa.select(table)).one()
    session.commit()
    for i, name in enumerate(names):
        back = row[i + 1]
        assert back == value, name
        assert back.utcoffset() == dt.timedelta(0), name


def test_a_stored_row_keeps_the_instant_across_midnight_jst(org: dict[str, Any]) -> None:
    """Is a request written at 01:47 JST on 4/1 read back as 01:47 JST, and shown so by the API?"""
    written = dt.datetime(2027, 4, 1, 1, 47, tzinfo=JST)
    row = service.create(org["yamada"], {"route": "general", "title": "時刻", "submit": True}, at=written)
    request_id = row.id
    db.session().expire_all()
    stored = db.session().get(ApprovalRequest, request_id)
    assert stored.created_at == written and stored.submitted_at == written
    assert stored.created_at.tzinfo is not None
    data = request_json(stored, org["yamada"])
    assert data["created_at"] == "2027-04-01T01:47:00+09:00"
    assert data["submitted_at"] == "2027-04-01T01:47:00+09:00"
    raw = db.session().execute(
        sa.text("SELECT created_at FROM approval_requests WHERE id = :i"), {"i": request_id}
    )
    text = str(raw.scalar_one())
    assert text.startswith("2027-03-31 16:47"), text  # UTC in the database


def test_a_decision_after_1500_jst_prints_its_own_day(org: dict[str, Any]) -> None:
    """Is a request decided at 15:30 JST on 12/3 dated 12/3, not 12/4, on its record?"""
    from approvals import record

    decided = dt.datetime(2026, 12, 3, 15, 30, tzinfo=JST)
    row = service.create(
        org["yamada"],
        {"route": "general", "title": "決裁日", "submit": True},
        at=decided - dt.timedelta(hours=1),
    )
    row = service.act(org["suzuki"], row.id, "approve", at=decided - dt.timedelta(minutes=30))
    row = service.act(org["sato"], row.id, "approve", at=decided)
    assert row.status == "approved"
    db.session().expire_all()
    sheet = record._sheet(db.session().get(ApprovalRequest, row.id), draft=False)
    assert sheet.decided_on == dt.date(2026, 12, 3)


def test_naive_times_are_refused(app: Any) -> None:
    """Is a naive datetime, whose clock nobody can know, refused instead of stored?"""
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"):
        db.session().execute(sa.select(sa.literal(dt.datetime(2026, 12, 3, 1, 47), UTCDateTime())))
    db.session().rollback()


@pytest.mark.skipif(DB_BACKEND != "sqlite", reason="PostgreSQL stored the instant; the repair is SQLite's")
def test_migration_repairs_jst_rows_written_on_sqlite(tmp_path: Path, shared_keys: str) -> None:
    """Does the repair move rows stored as JST wall-clock digits back to the instant, and only those?"""
    from approvals import route_store
    from tests.conftest import PASSWORD
    from workspace import directory

    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path / "data", APPROVALS_KEY_DIR=shared_keys)
    cfg = migrate.alembic_config(app)
    written = dt.datetime(2026, 12, 3, 1, 47, tzinfo=JST)  # 2026-12-02 16:47 UTC
    with app.app_context():
        migrate.upgrade(app)
        directory.ensure_department("01", "総務課", prefix="総")
        db.session().commit()
        yamada = directory.add_local_user("yamada", "山田 太郎", PASSWORD, department_code="01", title="主事")
        admin = directory.add_local_user(
            "admin", "管理 太郎", PASSWORD, department_code="01", roles=("admin",)
        )
        route_store.save(support.GENERAL, admin)
        db.session().commit()
        request_id = service.create(
            yamada, {"route": "general", "title": "旧版", "submit": False}, at=written
        ).id
        login_at = "SELECT created_at FROM users WHERE username = 'yamada'"
        before_user = db.session().execute(sa.text(login_at)).scalar_one()
        db.session().commit()
        stored = "SELECT created_at, updated_at FROM approval_requests WHERE id = :i"

        def raw() -> tuple[str, str]:
            values = db.session().execute(sa.text(stored), {"i": request_id}).one()
            db.session().commit()
            return tuple(str(v)[:16] for v in values)

        assert raw() == ("2026-12-02 16:47", "2026-12-02 16:47")
        # Back to the old revision: the rows look as the old code wrote them (JST digits)…
        command.downgrade(cfg, "0002_approval_attachments")
        assert raw() == ("2026-12-03 01:47", "2026-12-03 01:47")
        # …and the repair brings them back to the instant; a column the old code wrote in UTC is untouched.
        command.upgrade(cfg, "heads")
        assert raw() == ("2026-12-02 16:47", "2026-12-02 16:47")
        assert db.session().execute(sa.text(login_at)).scalar_one() == before_user
        assert db.session().get(ApprovalRequest, request_id).created_at == written
        db.session().rollback()
    app.extensions["db_engine"].dispose()
