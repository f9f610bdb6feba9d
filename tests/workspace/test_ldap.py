"""Directory backend (workspace.ldap) against a private slapd: sign-in, listing, roles, failures."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator

import ldap3
import pytest

from tests.ldap_fixtures import AD, VILLAGE, SlapdServer
from workspace.ldap import (
    DirectoryUnavailable,
    InvalidCredentials,
    LdapSettings,
    authenticate,
    check,
    iter_entries,
    lookup,
    parse_role_groups,
)

pytestmark = pytest.mark.ldap

GROUPS = "ou=groups,dc=shinto,dc=example"


def _log_counts(slapd: SlapdServer) -> tuple[int, int]:
    """(connections accepted, binds) so far, from slapd's stats log."""
    text = slapd.log_text()
    return text.count(" ACCEPT from "), text.count(" BIND dn=")


def test_openldap_sign_in_returns_mapped_attributes(slapd: SlapdServer) -> None:
    entry = authenticate(slapd.settings(), "suzuki.hanako", VILLAGE.password("suzuki.hanako"))
    assert entry.username == "suzuki.hanako"
    assert entry.display_name == "鈴木 花子"
    assert (entry.department_code, entry.department_name) == ("01", "総務課")
    assert (entry.section_code, entry.section_name) == ("0102", "情報政策係")
    assert entry.title == "係長"
    assert entry.mail == "suzuki.hanako@vill.shinto.example"
    assert entry.roles == frozenset({"admin"})
    assert entry.enabled is True
    assert entry.dn == "uid=suzuki.hanako,ou=people,dc=shinto,dc=example"


def test_records_role_and_mayor_without_department(slapd: SlapdServer) -> None:
    records = authenticate(slapd.settings(), "tanaka.misaki", VILLAGE.password("tanaka.misaki"))
    assert records.roles == frozenset({"records"})
    mayor = authenticate(slapd.settings(), VILLAGE.mayor, VILLAGE.password(VILLAGE.mayor))
    assert (mayor.title, mayor.department_code, mayor.section_code, mayor.roles) == (
        "村長",
        None,
        None,
        frozenset(),
    )


def test_active_directory_style_works_by_configuration_only(slapd: SlapdServer) -> None:
    # Typed in another case, as AD users do; the canonical sAMAccountName comes back.
    entry = authenticate(slapd.ad_settings(), "I.SUZUKI", AD.password("i.suzuki"))
    assert entry.username == "i.suzuki"
    assert entry.display_name == "鈴木 一郎"
    assert (entry.department_code, entry.department_name, entry.title) == ("01", "総務課", "係長")
    assert entry.roles == frozenset({"admin"})  # from memberOf: the AD groups list no members
    assert entry.enabled is True  # userAccountControl 66048 = NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD


def test_active_directory_member_of_matches_dn_with_escaped_comma(slapd: SlapdServer) -> None:
    entry = authenticate(slapd.ad_settings(), "j.sato", AD.password("j.sato"))
    assert entry.roles == frozenset({"admin", "records"})
    assert entry.display_name == "佐藤 次郎"


def test_wrong_password_and_unknown_user_raise_identical_invalid_credentials(slapd: SlapdServer) -> None:
    with pytest.raises(InvalidCredentials) as wrong:
        authenticate(slapd.settings(), "suzuki.hanako", "not-her-password")
    with pytest.raises(InvalidCredentials) as unknown:
        authenticate(slapd.settings(), "nobody.here", "not-her-password")
    assert type(wrong.value) is type(unknown.value)
    assert str(wrong.value) == str(unknown.value) == "invalid username or password"
    assert wrong.value.args == unknown.value.args


def test_rig_accepts_unauthenticated_bind_so_empty_password_tests_mean_something(slapd: SlapdServer) -> None:
    dn = "uid=suzuki.hanako,ou=people,dc=shinto,dc=example"
    done = subprocess.run(["ldapwhoami", "-x", "-H", slapd.url, "-D", dn, "-w", ""], capture_output=True)
    assert done.returncode == 0, done.stderr  # like AD: a DN with an empty password "succeeds"


def test_empty_password_is_refused_without_contacting_the_directory(slapd: SlapdServer) -> None:
    before = _log_counts(slapd)
    with pytest.raises(InvalidCredentials) as refused:
        authenticate(slapd.settings(), "suzuki.hanako", "")
    assert refused.value.reason == "empty_password"
    assert _log_counts(slapd) == before  # no connection, no bind
    # Positive control: a real sign-in does show up in the same log.
    authenticate(slapd.settings(), "suzuki.hanako", VILLAGE.password("suzuki.hanako"))
    accepted, binds = _log_counts(slapd)
    assert accepted >= before[0] + 2 and binds >= before[1] + 2


def test_empty_or_nul_password_is_refused_even_when_directory_is_down(slapd_down: SlapdServer) -> None:
    for password in ("", "\x00", "pw-suzuki.hanako\x00"):
        with pytest.raises(InvalidCredentials):
            authenticate(slapd_down.settings(), "suzuki.hanako", password)


INJECTIONS = [
    "*",
    "x)(|(uid=*",
    "admin)(&)",
    "suzuki.hanak*",  # unescaped, this wildcard would match exactly her entry
    "*)(uid=suzuki.hanako",
    "suzuki.hanako)(|(uid=*",
    "suzuki.hanako\\",
    "suzuki.hanako\x00",
    "\x00",
    "a" * 10_000,
    "suzuki.hanako\r",
    "suzuki.hanako\n",
    "suzuki.hanako\r\nuid=admin",
]


@pytest.mark.parametrize("username", INJECTIONS, ids=lambda u: repr(u[:30]))
def test_injection_username_never_authenticates(slapd: SlapdServer, username: str) -> None:
    with pytest.raises(InvalidCredentials):
        authenticate(slapd.settings(), username, VILLAGE.password("suzuki.hanako"))
    assert lookup(slapd.settings(), username) is None


@pytest.mark.parametrize("username", ["a" * 257, "a" * 10_000, "x\x00", "x\r", "x\n", "", "   "], ids=repr)
def test_malformed_username_is_refused_without_contacting_the_directory(
    slapd_down: SlapdServer, username: str
) -> None:
    with pytest.raises(InvalidCredentials) as refused:
        authenticate(slapd_down.settings(), username, "some password")
    assert refused.value.reason == "bad_username"


def test_ambiguous_match_is_refused_even_with_a_valid_password(slapd: SlapdServer) -> None:
    settings = slapd.settings(user_filter="(departmentNumber={username})")  # four staff share 01
    with pytest.raises(InvalidCredentials) as refused:
        authenticate(settings, "01", VILLAGE.password("sato.ichiro"))
    assert refused.value.reason == "ambiguous"


def test_disabled_user_is_refused_and_listed_as_disabled(slapd: SlapdServer) -> None:
    with pytest.raises(InvalidCredentials) as refused:
        authenticate(slapd.settings(), VILLAGE.disabled, VILLAGE.password(VILLAGE.disabled))
    assert refused.value.reason == "disabled"
    by_name = {e.username: e for e in iter_entries(slapd.settings())}
    assert by_name[VILLAGE.disabled].enabled is False
    assert [name for name, e in by_name.items() if not e.enabled] == [VILLAGE.disabled]


def test_ad_account_disable_bit_refuses_sign_in_and_marks_entry(slapd: SlapdServer) -> None:
    with pytest.raises(InvalidCredentials):
        authenticate(slapd.ad_settings(), AD.disabled, AD.password(AD.disabled))
    entries = iter_entries(slapd.ad_settings())
    assert len(entries) == AD.user_count
    assert {e.username for e in entries if not e.enabled} == {AD.disabled}
    assert {e.username for e in entries if "admin" in e.roles} == AD.admins
    assert {e.username for e in entries if "records" in e.roles} == AD.records


def test_disabling_in_the_directory_takes_effect_at_next_sign_in(slapd_reset: SlapdServer) -> None:
    settings = slapd_reset.settings()
    authenticate(settings, "yamada.taro", VILLAGE.password("yamada.taro"))
    dn = "uid=yamada.taro,ou=people,dc=shinto,dc=example"
    slapd_reset.modify(f"dn: {dn}\nchangetype: modify\nreplace: nsAccountLock\nnsAccountLock: TRUE\n")
    with pytest.raises(InvalidCredentials):
        authenticate(settings, "yamada.taro", VILLAGE.password("yamada.taro"))
    slapd_reset.modify(f"dn: {dn}\nchangetype: modify\nreplace: nsAccountLock\nnsAccountLock: FALSE\n")
    assert authenticate(settings, "yamada.taro", VILLAGE.password("yamada.taro")).enabled


def test_iter_entries_returns_everyone_with_roles(slapd: SlapdServer) -> None:
    entries = iter_entries(slapd.settings(page_size=7))  # several pages
    assert len(entries) == VILLAGE.user_count
    assert len({e.username for e in entries}) == VILLAGE.user_count
    assert {e.username for e in entries if "admin" in e.roles} == VILLAGE.admins
    assert {e.username for e in entries if "records" in e.roles} == VILLAGE.records
    assert {e.department_code for e in entries} == {None} | {f"{n:02d}" for n in range(1, 10)}
    assert all(e.display_name and e.display_name != e.username for e in entries)


def test_iter_entries_pages_past_the_server_size_limit(slapd: SlapdServer) -> None:
    # The rig limits the service account to 20 entries per plain search, as AD's MaxPageSize does.
    conn = ldap3.Connection(slapd.url, slapd.service_dn, slapd.service_password, auto_bind=True)
    conn.search("ou=people,dc=shinto,dc=example", "(uid=*)", attributes=["uid"])
    assert conn.result["result"] == 4 and len(conn.entries) < VILLAGE.user_count  # sizeLimitExceeded
    conn.unbind()
    assert len(iter_entries(slapd.settings())) == VILLAGE.user_count


def test_lookup_returns_entry_or_none(slapd: SlapdServer) -> None:
    entry = lookup(slapd.settings(), "sato.ichiro")
    assert entry is not None and entry.roles == frozenset({"records"}) and entry.title == "課長"
    assert lookup(slapd.settings(), VILLAGE.disabled).enabled is False  # type: ignore[union-attr]
    assert lookup(slapd.settings(), "nobody.here") is None


def test_missing_role_group_gives_no_role_instead_of_an_error(slapd: SlapdServer) -> None:
    settings = slapd.settings(role_groups={"admin": f"cn=no-such-group,{GROUPS}", "records": "ws-records"})
    entry = authenticate(settings, "sato.ichiro", VILLAGE.password("sato.ichiro"))
    assert entry.roles == frozenset({"records"})  # bare cn resolved under group_base


def test_directory_down_raises_directory_unavailable(slapd_down: SlapdServer) -> None:
    settings = slapd_down.settings(timeout=1.0)
    with pytest.raises(DirectoryUnavailable):
        authenticate(settings, "suzuki.hanako", VILLAGE.password("suzuki.hanako"))
    with pytest.raises(DirectoryUnavailable):
        iter_entries(settings)
    with pytest.raises(DirectoryUnavailable):
        check(settings)
    with pytest.raises(DirectoryUnavailable):
        lookup(settings, "suzuki.hanako")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections but never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for s in accepted:
        s.close()
    listener.close()


def test_unresponsive_directory_raises_directory_unavailable(slapd: SlapdServer, silent_server: int) -> None:
    settings = slapd.settings(url=f"ldap://127.0.0.1:{silent_server}", timeout=1.0)
    with pytest.raises(DirectoryUnavailable):
        check(settings)


def test_bad_service_password_raises_directory_unavailable(slapd: SlapdServer) -> None:
    settings = slapd.settings(bind_password="wrong-service-password")
    with pytest.raises(DirectoryUnavailable):
        authenticate(settings, "suzuki.hanako", VILLAGE.password("suzuki.hanako"))
    with pytest.raises(DirectoryUnavailable):
        iter_entries(settings)
    with pytest.raises(DirectoryUnavailable):
        check(settings)


def test_empty_service_password_raises_directory_unavailable(slapd: SlapdServer) -> None:
    # Would otherwise be an unauthenticated (anonymous) bind that the rig, like AD, accepts.
    with pytest.raises(DirectoryUnavailable):
        check(slapd.settings(bind_password=""))


def test_check_passes_when_directory_is_up(slapd: SlapdServer) -> None:
    check(slapd.settings())
    check(slapd.ad_settings())


def test_from_config_parses_role_groups_with_dns_containing_equals_and_commas() -> None:
    settings = LdapSettings.from_config(
        {
            "LDAP_URL": "ldaps://dc1.vill.shinto.example:636",
            "LDAP_BIND_DN": "CN=svc-workspace,OU=Service,DC=vill,DC=shinto,DC=example",
            "LDAP_BIND_PASSWORD": "s=cr;t",
            "LDAP_USER_BASE": "OU=Staff,DC=vill,DC=shinto,DC=example",
            "LDAP_USER_FILTER": "(&(objectClass=user)(sAMAccountName={username}))",
            "LDAP_ROLE_GROUPS": " admin=CN=ws-admins,OU=Groups,DC=vill,DC=shinto,DC=example ;"
            "records=cn=Records\\, Archive,ou=groups,dc=x;",
            "LDAP_START_TLS": "false",
            "LDAP_TLS_VERIFY": "0",
            "LDAP_TIMEOUT": "2.5",
            "LDAP_PAGE_SIZE": "200",
            "LDAP_ATTR_USERNAME": "sAMAccountName",
            "LDAP_ATTR_SECTION": "",
            "LDAP_DISABLED_ATTR": None,
        }
    )
    assert settings.role_groups == {
        "admin": "CN=ws-admins,OU=Groups,DC=vill,DC=shinto,DC=example",
        "records": "cn=Records\\, Archive,ou=groups,dc=x",
    }
    assert settings.bind_password == "s=cr;t"
    assert (settings.start_tls, settings.tls_verify, settings.timeout, settings.page_size) == (
        False,
        False,
        2.5,
        200,
    )
    assert settings.attr_username == "sAMAccountName"
    assert settings.attr_display_name == "displayName"  # default kept
    assert settings.attr_section is None and settings.disabled_attr is None


@pytest.mark.parametrize(
    "config",
    [
        {"LDAP_USER_BASE": "ou=people,dc=x"},
        {"LDAP_URL": "ldap://h", "LDAP_USER_BASE": "ou=p", "LDAP_USER_FILTER": "(uid=admin)"},
        {"LDAP_URL": "http://h", "LDAP_USER_BASE": "ou=p"},
        {"LDAP_URL": "ldap://h", "LDAP_USER_BASE": "ou=p", "LDAP_START_TLS": "maybe"},
        {"LDAP_URL": "ldap://h", "LDAP_USER_BASE": "ou=p", "LDAP_ROLE_GROUPS": "cn=ws-admins,dc=x"},
    ],
    ids=["no url", "filter without username", "not ldap", "bad bool", "role group without role"],
)
def test_from_config_rejects_bad_configuration(config: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        LdapSettings.from_config(config)


def test_parse_role_groups_splits_on_first_equals_only() -> None:
    assert parse_role_groups("admin=cn=a=b,dc=x") == {"admin": "cn=a=b,dc=x"}
    assert parse_role_groups("") == {}


def test_fixture_config_round_trips_through_from_config(slapd: SlapdServer) -> None:
    settings = LdapSettings.from_config(slapd.config())
    entry = authenticate(settings, "takahashi.kenta", VILLAGE.password("takahashi.kenta"))
    assert entry.roles == frozenset({"admin"}) and entry.section_name == "情報政策係"


def test_ldaps_with_the_village_ca_signs_in(slapd: SlapdServer) -> None:
    entry = authenticate(
        slapd.settings(url=slapd.ldaps_url), "suzuki.hanako", VILLAGE.password("suzuki.hanako")
    )
    assert entry.roles == frozenset({"admin"})


def test_start_tls_with_the_village_ca_signs_in(slapd: SlapdServer) -> None:
    check(slapd.settings(start_tls=True))


def test_ldaps_with_an_untrusted_certificate_raises_directory_unavailable(slapd: SlapdServer) -> None:
    with pytest.raises(DirectoryUnavailable):
        check(slapd.settings(url=slapd.ldaps_url, ca_file=None))
    with pytest.raises(DirectoryUnavailable):
        check(slapd.settings(start_tls=True, ca_file=None))
    check(slapd.settings(url=slapd.ldaps_url, ca_file=None, tls_verify=False))  # explicitly opted out


def test_ldaps_certificate_for_another_host_name_is_refused(slapd: SlapdServer) -> None:
    # The certificate names 127.0.0.1 and localhost only; 127.0.0.2 also reaches the loopback server.
    with pytest.raises(DirectoryUnavailable):
        check(slapd.settings(url=f"ldaps://127.0.0.2:{slapd.ldaps_port}"))


def test_non_ascii_username_filter_value_is_matched_not_mangled(slapd: SlapdServer) -> None:
    settings = slapd.settings(user_filter="(displayName={username})")
    entry = authenticate(settings, "鈴木 花子", VILLAGE.password("suzuki.hanako"))
    assert entry.username == "suzuki.hanako"


def test_check_raises_directory_unavailable_when_user_base_is_missing(slapd: SlapdServer) -> None:
    with pytest.raises(DirectoryUnavailable):
        check(slapd.settings(user_base="ou=nowhere,dc=shinto,dc=example"))
