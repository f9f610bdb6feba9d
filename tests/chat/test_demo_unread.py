"""The demo's chat history leaves the BEHIND logins with 未読 and メンション whenever the demo is built:
on a weekday afternoon, but also on a Saturday morning or a Monday before office hours, when the
last message of the village is more than 20 hours old (it was counted from now, and then nothing
was unread: the home page of 加藤 課長 showed no channel to read)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from chat import demo as chat_demo
from chat import reads
from workspace import calendar, directory, notifications

MOMENTS = {
    "saturday-06:00": dt.datetime(2026, 12, 5, 6, 0, tzinfo=calendar.JST),
    "monday-07:00": dt.datetime(2026, 12, 7, 7, 0, tzinfo=calendar.JST),
    "wednesday-14:00": dt.datetime(2026, 12, 2, 14, 0, tzinfo=calendar.JST),
}


@pytest.mark.parametrize("moment", MOMENTS)
def test_people_behind_have_unread_channels_and_mentions(app: Any, moment: str) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "--no-serve", "--empty"])
    assert result.exit_code == 0, result.output
    assert chat_demo.build(now=MOMENTS[moment]) > 0
    kato = directory.get_user("kato")
    assert kato is not None
    unread = [(channel.name, n) for channel, n in reads.my_channels(kato) if n > 0]
    assert unread, moment
    assert notifications.unread_count(kato, ("mention", "reply")) >= 1, moment
