"""読み from the directory (WORKSPACE_LDAP_ATTR_DISPLAY_NAME_KANA) at sign-in and by `directory sync`.

The private slapd's inetOrgPerson schema allows displayName with a language tag, the LDAP way (RFC 3866)
of writing a phonetic name: displayName;lang-ja-jp-phonetic.
"""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.ldap_fixtures import VILLAGE
from workspace import db, directory

SATO = "sato.ichiro"
SATO_DN = f"uid={SATO},ou=people,dc=shinto,dc=example"
TANAKA_DN = "uid=tanaka.misaki,ou=people,dc=shinto,dc=example"
PHONETIC = "displayName;lang-ja-jp-phonetic"


@pytest.fixture
def app_config(slapd):
    return slapd.config(LDAP_ATTR_DISPLAY_NAME_KANA=PHONETIC)


@pytest.fixture
def readings(slapd_reset):
    """Give two people a phonetic display name in the directory (restored after the test)."""
    slapd_reset.modify(
        f"dn: {SATO_DN}\nchangetype: modify\nadd: {PHONETIC}\n{PHONETIC}: さとう いちろう\n\n"
        f"dn: {TANAKA_DN}\nchangetype: modify\nadd: {PHONETIC}\n{PHONETIC}: タナカ　ミサキ\n"
    )
    return slapd_reset


def test_sign_in_reads_the_reading_from_the_mapped_attribute(client, readings):
    """Does an LDAP sign-in store the 読み named by LDAP_ATTR_DISPLAY_NAME_KANA?"""
    assert login(client, SATO, VILLAGE.password(SATO)).status_code == 302
    user = directory.get_user(SATO)
    assert user.display_name_kana == "さとう いちろう"
    assert user.display_name == "佐藤 一郎"  # the plain displayName is still the 氏名


def test_directory_sync_reads_readings_and_the_picker_finds_them(app, client, readings):
    """Does `workspace directory sync` import 読み, so かとう-style searches find directory people?"""
    result = app.test_cli_runner().invoke(args=["directory", "sync"])
    assert result.exit_code == 0, result.output
    db.session().expire_all()
    assert directory.get_user("tanaka.misaki").display_name_kana == "タナカ ミサキ"
    assert directory.get_user("suzuki.hanako").display_name_kana is None  # none in the directory
    login(client, SATO, VILLAGE.password(SATO))
    found = client.get("/api/v1/users?q=たなか").get_json()["users"]
    assert [u["username"] for u in found] == ["tanaka.misaki"]


def test_directory_people_cannot_change_their_reading_locally(client, readings):
    """Is a directory person's 読み read-only in 設定 (the next sync would undo it)?"""
    login(client, SATO, VILLAGE.password(SATO))
    html = client.get("/settings").get_data(as_text=True)
    assert "さとう いちろう" in html and 'id="display-name-kana"' not in html
    with pytest.raises(directory.DirectoryInputError):
        directory.set_own_kana(directory.get_user(SATO), "さとう")
