"""和暦 and 年度 arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest

from workspace import calendar


@pytest.mark.parametrize(
    ("day", "long", "short"),
    [
        (dt.date(2026, 11, 26), "令和8年11月26日", "8.11.26"),
        (dt.date(2019, 5, 1), "令和元年5月1日", "1.5.1"),
        (dt.date(2019, 4, 30), "平成31年4月30日", "31.4.30"),
        (dt.date(1989, 1, 8), "平成元年1月8日", "1.1.8"),
        (dt.date(1989, 1, 7), "昭和64年1月7日", "64.1.7"),
    ],
)
def test_wareki_long_and_seal_forms(day, long, short):
    assert calendar.wareki(day) == long
    assert calendar.wareki_short(day) == short


def test_both_calendars_shown_together():
    assert calendar.both(dt.date(2026, 11, 26)) == "令和8年11月26日（2026年11月26日）"


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2026, 4, 1), 2026),
        (dt.date(2027, 3, 31), 2026),
        (dt.date(2026, 3, 31), 2025),
    ],
)
def test_fiscal_year_turns_on_1_april(day, year):
    assert calendar.fiscal_year(day) == year


def test_retention_until_counts_from_next_fiscal_year():
    assert calendar.retention_until(2026, 5) == dt.date(2032, 3, 31)
    assert calendar.retention_until(2026, 1) == dt.date(2028, 3, 31)
    assert calendar.retention_until(2026, None) is None


def test_isoformat_uses_japan_offset():
    moment = dt.datetime(2026, 11, 26, 0, 30, tzinfo=dt.UTC)
    assert calendar.isoformat(moment) == "2026-11-26T09:30:00+09:00"
    assert calendar.isoformat(moment.replace(tzinfo=None)) == "2026-11-26T09:30:00+09:00"


def test_fiscal_year_label():
    assert calendar.fiscal_year_wareki(2026) == "令和8年度"
    assert calendar.fiscal_year_label(2026) == "令和8年度（2026年度）"
    assert calendar.fiscal_year_label(2019) == "令和元年度（2019年度）"


def test_wareki_weekday_names_the_day_of_the_week() -> None:
    """Does the chat's date line read 令和8年12月3日（木）, with 元年 and the era change handled?"""
    assert calendar.wareki_weekday(dt.date(2026, 12, 3)) == "令和8年12月3日（木）"
    assert calendar.wareki_weekday(dt.date(2019, 5, 1)) == "令和元年5月1日（水）"
    assert calendar.wareki_weekday(dt.date(2019, 4, 30)) == "平成31年4月30日（火）"
    assert calendar.era_table()[0] == {"start": "2019-05-01", "name": "令和"}
