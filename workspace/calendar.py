"""Japanese calendar helpers: 和暦 (era dates) and 年度 (fiscal years from 1 April).

Everything here is pure and timezone-aware where a time is involved: the office works in
Asia/Tokyo (+09:00), and so does every date shown to staff.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")

# (first day, era name). Newest first; dates before Meiji are not needed by a village office.
_ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1868, 1, 25), "明治"),
)


def now() -> dt.datetime:
    """Return the current time in Japan (aware, +09:00)."""
    return dt.datetime.now(JST)


def today() -> dt.date:
    """Return today's date in Japan."""
    return now().date()


def greeting(at: dt.datetime) -> str:
    """Return the greeting for a moment of the day in JST: おはようございます, こんにちは or こんばんは."""
    hour = to_jst(at).hour
    if 4 <= hour < 11:
        return "おはようございます"
    if 11 <= hour < 18:
        return "こんにちは"
    return "こんばんは"


def to_jst(value: dt.datetime) -> dt.datetime:
    """Return an aware datetime in JST; naive values are taken to be UTC (how the database stores them)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(JST)


def isoformat(value: dt.datetime | None) -> str | None:
    """Return ISO 8601 with the +09:00 offset, as the API promises, or None."""
    return None if value is None else to_jst(value).isoformat(timespec="seconds")


def era(value: dt.date) -> tuple[str, int]:
    """Return (era name, year within the era) for a date, e.g. (令和, 8) for 2026-11-26."""
    for start, name in _ERAS:
        if value >= start:
            return name, value.year - start.year + 1
    raise ValueError("dates before 明治 are not supported")


def wareki(value: dt.date) -> str:
    """Return the long era form: 令和8年11月26日 (元年 for the first year)."""
    name, year = era(value)
    year_text = "元" if year == 1 else str(year)
    return f"{name}{year_text}年{value.month}月{value.day}日"


WEEKDAYS = "月火水木金土日"  # date.weekday(): Monday is 0


def wareki_weekday(value: dt.date) -> str:
    """Return the long era form with the day of the week: 令和8年12月3日（木） (chat's date lines)."""
    return f"{wareki(value)}（{WEEKDAYS[value.weekday()]}）"


def era_table() -> list[dict[str, str]]:
    """Return [{"start": "2019-05-01", "name": "令和"}, …] newest first: the eras for a browser script,
    so the page draws 和暦 from the same table as the server."""
    return [{"start": start.isoformat(), "name": name} for start, name in _ERAS]


def wareki_short(value: dt.date) -> str:
    """Return the short form used on a 日付印 (seal): 8.11.26."""
    _, year = era(value)
    return f"{year}.{value.month}.{value.day}"


def seireki(value: dt.date) -> str:
    """Return the Western form shown beside the era form: 2026年11月26日."""
    return f"{value.year}年{value.month}月{value.day}日"


def both(value: dt.date) -> str:
    """Return the display form staff expect: 令和8年11月26日（2026年11月26日）."""
    return f"{wareki(value)}（{seireki(value)}）"


def fiscal_year(value: dt.date) -> int:
    """Return the 年度 a date falls in: 1 April – 31 March (2027-03-31 → 2026)."""
    return value.year if value.month >= 4 else value.year - 1


def fiscal_year_wareki(year: int) -> str:
    """Return 令和8年度 for 2026 (a table cell; fiscal_year_label adds the 西暦).

    The era of a 年度 is the one in force on 31 December: 2019年度 is officially 令和元年度 (the era
    changed in May), while 1988年度 stayed 昭和63年度 (平成 began in January 1989).
    """
    name, era_year = era(dt.date(year, 12, 31))
    year_text = "元" if era_year == 1 else str(era_year)
    return f"{name}{year_text}年度"


def fiscal_year_label(year: int) -> str:
    """Return 令和8年度（2026年度） for 2026."""
    return f"{fiscal_year_wareki(year)}（{year}年度）"


def fiscal_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """Return the first and last day of a 年度."""
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def retention_until(year: int, retention_years: int | None) -> dt.date | None:
    """Return the 保存期間満了日: 31 March of (年度 + 1 + years); None for 永年 (permanent).

    Retention is counted from 1 April of the next 年度, so 2026年度 + 5年 → 2032-03-31.
    """
    if retention_years is None:
        return None
    return dt.date(year + 1 + retention_years, 3, 31)
