"""The text rule (workspace/text.py) where the core writes names: 氏名 and 役職 by the CLI, 課・係 names
by the CLI, API token names by the API and the settings form, 氏名 from the directory; and existing
rows shown through every page's template."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import PASSWORD, csrf_from, login
from workspace import db, directory, text
from workspace.ldap import DirectoryEntry
from workspace.models import ApiToken, Department, User

RLO = "\u202e"
HOSTILE = [
    pytest.param("山田" + RLO + "郎太", id="bidi-override"),
    pytest.param("山田\x00太郎", id="nul"),
    pytest.param("山田\x1b[31m太郎", id="escape"),
    pytest.param("山田\u2067太郎", id="bidi-isolate"),
    pytest.param("山田\u200f太郎", id="rlm-mark"),
    pytest.param("山田\x85太郎", id="c1-control"),
    pytest.param("山田\n太郎", id="newline"),
    pytest.param("山田\udc80太郎", id="lone-surrogate"),
]
REFUSED = "使えない文字（制御文字・文字の向きを変える文字）"


# --- the rule itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_a_single_line_name_refuses_each_kind(value: str) -> None:
    with pytest.raises(text.TextRefused) as error:
        text.clean_line(value, "氏名")
    assert str(error.value).startswith("氏名に" + REFUSED)


def test_a_body_keeps_lines_and_tabs_and_refuses_the_rest() -> None:
    assert text.clean_text("一行目\r\n二行目\r三行目\n\t字下げ", "本文") == "一行目\n二行目\n三行目\n\t字下げ"
    assert text.clean_text("右から左へ\u200f", "本文") == "右から左へ\u200f"  # marks are harmless in a body
    for bad in ("a\x00b", "a" + RLO + "b", "a\u2066b", "a\x0bb", "a\ud800b", "a\u2028b"):
        with pytest.raises(text.TextRefused):
            text.clean_text(bad, "本文")


def test_nfc_joins_a_combining_voiced_mark() -> None:
    assert text.clean_line("か\u3099と\u3099う", "氏名") == "がどう"


def test_strip_line_removes_what_is_refused_for_directory_values() -> None:
    assert text.strip_line("山田" + RLO + "\x00 太郎\u200e") == "山田 太郎"
    assert text.strip_line(RLO) is None


def test_display_neutralises_bidi_controls_and_keeps_markup() -> None:
    from markupsafe import Markup

    assert text.for_display("a" + RLO + "b") == "a\ufffdb"
    shown = text.for_display(Markup("<b>a\u202e</b>"))
    assert isinstance(shown, Markup) and shown == Markup("<b>a\ufffd</b>")
    assert text.for_display(3) == 3


# --- local directory by the CLI ----------------------------------------------------------------


@pytest.mark.parametrize("value", HOSTILE)
def test_users_add_refuses_a_hostile_display_name_and_stores_nothing(app: Any, value: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "add", "kato", "--name", value], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code != 0 and REFUSED in result.output
    assert db.session().execute(select(User)).first() is None


def test_users_add_refuses_a_hostile_title(app: Any) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "add", "kato", "--name", "加藤 浩", "--title", "課長" + RLO],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code != 0 and "役職に" + REFUSED in result.output
    assert db.session().execute(select(User)).first() is None


def test_users_update_refuses_a_hostile_display_name_and_keeps_the_old(app: Any, village: Any) -> None:
    result = app.test_cli_runner().invoke(args=["users", "update", "yamada", "--name", "山田\x00太郎"])
    assert result.exit_code != 0 and REFUSED in result.output
    db.session().expire_all()
    assert directory.get_user("yamada").display_name == "山田 太郎"


def test_users_add_stores_the_display_name_in_nfc(app: Any) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "add", "gotou", "--name", "後藤 か\u3099く"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert directory.get_user("gotou").display_name == "後藤 がく"


@pytest.mark.parametrize("value", ["総務" + RLO + "課", "総務\x00課", "総務\t課"])
def test_departments_add_refuses_a_hostile_name(app: Any, value: str) -> None:
    result = app.test_cli_runner().invoke(args=["departments", "add", "09", value])
    assert result.exit_code != 0 and REFUSED in result.output
    assert db.session().execute(select(Department)).first() is None


# --- API token names ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["RPA" + RLO + "txt.exe", "RPA\x00", "RPA\x07"])
def test_token_name_refused_by_the_api_with_422(client: Any, village: Any, value: str) -> None:
    response = client.post(
        "/api/v1/auth/token", json={"username": "yamada", "password": PASSWORD, "name": value}
    )
    assert response.status_code == 422
    assert REFUSED in response.get_json()["error"]["message"]
    assert db.session().execute(select(ApiToken)).first() is None


def test_token_name_refused_by_the_settings_form_with_422(client: Any, village: Any) -> None:
    login(client, "yamada")
    page = client.get("/settings").get_data(as_text=True)
    response = client.post("/settings", data={"name": "RPA" + RLO + "連携", "csrf_token": csrf_from(page)})
    assert response.status_code == 422 and REFUSED in response.get_data(as_text=True)
    assert db.session().execute(select(ApiToken)).first() is None


# --- directory data: stripped, never shown raw ---------------------------------------------------


def _entry(**fields: Any) -> DirectoryEntry:
    base = {
        "username": "ldapuser",
        "display_name": "森 一郎",
        "department_code": "01",
        "department_name": "総務課",
        "section_code": None,
        "section_name": None,
        "title": "主事",
        "mail": None,
        "roles": frozenset(),
        "enabled": True,
        "dn": "uid=ldapuser,ou=people,dc=example",
    }
    return DirectoryEntry(**{**base, **fields})


def test_a_directory_entry_with_a_bidi_override_is_imported_stripped(app: Any) -> None:
    """Choice: the directory is the truth and a person must not be locked out for one odd attribute,
    so the entry is imported with the refused characters removed (and the log says so)."""
    user, created, _moved = directory.apply_entry(
        _entry(display_name="森" + RLO + " 一郎\x00", title="主事\u200f", department_name="総務" + RLO + "課")
    )
    db.session().commit()
    assert created and user.display_name == "森 一郎" and user.title == "主事"
    assert user.department.name == "総務課"


# --- rows stored before the rule -----------------------------------------------------------------


def test_a_stored_bidi_override_never_reaches_a_page_raw(client: Any, village: Any) -> None:
    """A 氏名 written before the rule (here straight into the table) is neutralised by every template."""
    db.session().execute(
        update(User).where(User.username == "yamada").values(display_name="山田" + RLO + "郎太")
    )
    db.session().commit()
    login(client, "yamada")
    html = client.get("/").get_data(as_text=True)
    assert RLO not in html and "山田\ufffd郎太" in html
