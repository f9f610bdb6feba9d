"""A directory 氏名 holding a bidi override (U+202E) or a control character, through the real slapd,
`workspace directory sync` and LDAP sign-in: imported without them, never shown raw."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import login
from tests.ldap_fixtures import VILLAGE
from workspace import directory

SATO = "sato.ichiro"  # 総務課長 in the sample village
RLO = "\u202e"


@pytest.fixture
def app_config(slapd):
    return slapd.config()


def _set_display_name(slapd_reset, dn: str, value: str) -> None:
    encoded = base64.b64encode(value.encode()).decode()  # LDIF: a value with controls goes base64
    slapd_reset.modify(f"dn: {dn}\nchangetype: modify\nreplace: displayName\ndisplayName:: {encoded}\n")


def test_sync_imports_a_hostile_display_name_stripped(app, client, slapd_reset):
    assert app.test_cli_runner().invoke(args=["directory", "sync"]).exit_code == 0
    dn = directory.get_user(SATO).ldap_dn
    _set_display_name(slapd_reset, dn, "佐藤" + RLO + " 一郎\x07")
    result = app.test_cli_runner().invoke(args=["directory", "sync"])
    assert result.exit_code == 0, result.output
    assert directory.get_user(SATO).display_name == "佐藤 一郎"


def test_sign_in_with_a_hostile_display_name_stores_and_shows_it_stripped(app, client, slapd_reset):
    assert app.test_cli_runner().invoke(args=["directory", "sync"]).exit_code == 0
    _set_display_name(slapd_reset, directory.get_user(SATO).ldap_dn, "佐藤" + RLO + "郎一")
    assert login(client, SATO, VILLAGE.password(SATO)).status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert RLO not in html and "佐藤郎一" in html
    assert directory.get_user(SATO).display_name == "佐藤郎一"
