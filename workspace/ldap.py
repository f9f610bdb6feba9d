"""Directory backend: sign-in and staff listing against LDAP or Active Directory (ldap3).

A pure module (no ``flask.request``, no database): callers pass ``LdapSettings`` and get
``DirectoryEntry`` values. Sign-in binds as the service account, finds exactly one entry with
``user_filter``, then binds as that entry's DN with the typed password.

Roles: R when the user's DN is listed in the ``member``/``uniqueMember`` of ``role_groups[R]``
(OpenLDAP groupOfNames) or the user's ``memberOf`` names that group (AD; nested groups not expanded).
Disabled: ``userAccountControl`` with bit 0x2 (AD ACCOUNTDISABLE); and, when ``disabled_attr`` is set
(e.g. ``nsAccountLock`` as in 389-DS/FreeIPA, or ppolicy's ``pwdAccountLockedTime``), any value of
that attribute other than ``FALSE``/``0``.
"""

from __future__ import annotations

import contextlib
import math
import re
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

MAX_USERNAME_LENGTH = 256
UF_ACCOUNTDISABLE = 0x2
_INVALID_MESSAGE = "invalid username or password"
# Bind results that say "the server cannot answer now" rather than "these credentials are wrong".
_UNAVAILABLE_RESULTS = {3, 11, 51, 52, 80}  # timeLimit, adminLimit, busy, unavailable, other
_SIZE_LIMIT_EXCEEDED = 4
_NO_SUCH_OBJECT = 32


class DirectoryError(Exception):
    """Base class of every error this module raises."""


class DirectoryUnavailable(DirectoryError):
    """The directory cannot be used: down, timeout, TLS failure, bad service credentials or config."""


class InvalidCredentials(DirectoryError):
    """Sign-in refused. The message is always the same; ``reason`` is for logs only, never for users."""

    def __init__(self, reason: str) -> None:
        super().__init__(_INVALID_MESSAGE)
        self.reason = reason  # bad_username, bad_password, empty_password, unknown_user, ambiguous, disabled


_BOOLS = dict.fromkeys(("1", "true", "yes", "on"), True) | dict.fromkeys(("0", "false", "no", "off"), False)
# A role group is a DN ("cn=x,..." : attribute type or OID, then '=') or a bare cn resolved under group_base.
_GROUP_REF = re.compile(r"([A-Za-z][A-Za-z0-9-]*|\d+(\.\d+)*)\s*=.*|[^=,]+", re.DOTALL)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    try:
        return _BOOLS[str(value).strip().lower()]
    except KeyError:
        raise ValueError(f"not a boolean: {value!r}") from None


def parse_role_groups(value: str | Mapping[str, str] | None) -> dict[str, str]:
    """Parse ``"admin=cn=ws-admins,ou=groups,dc=x;records=cn=..."`` into ``{role: group DN}``.

    DNs contain '=' and ',', so entries are split on ';' and each on its first '='.
    Raises ValueError on an entry without a role or a DN.
    """
    if not value:
        return {}
    if isinstance(value, Mapping):
        return {str(k).strip(): str(v).strip() for k, v in value.items()}
    groups: dict[str, str] = {}
    for item in str(value).split(";"):
        if not item.strip():
            continue
        role, _, dn = item.partition("=")
        if not role.strip() or not _GROUP_REF.fullmatch(dn.strip()):
            raise ValueError(f"LDAP_ROLE_GROUPS entry must be role=DN or role=cn: {item!r}")
        groups[role.strip()] = dn.strip()
    return groups


@dataclass(frozen=True)
class LdapSettings:
    """Everything needed to talk to one directory. Build it with ``from_config`` in the app."""

    url: str  # ldap://host:port or ldaps://host:port
    bind_dn: str  # empty: search anonymously
    bind_password: str
    user_base: str
    user_filter: str = "(uid={username})"  # AD: "(sAMAccountName={username})"
    group_base: str | None = None  # lets role_groups name a group by its bare cn
    start_tls: bool = False
    ca_file: str | None = None
    tls_verify: bool = True
    timeout: float = 5.0
    attr_username: str = "uid"
    attr_display_name: str = "displayName"
    # 読み: AD's msDS-PhoneticDisplayName, or a language-tagged displayName;lang-ja-jp-phonetic.
    attr_display_name_kana: str | None = None
    attr_department: str = "ou"
    attr_department_code: str = "departmentNumber"
    attr_section: str | None = None
    attr_section_code: str | None = None
    attr_title: str = "title"
    attr_mail: str = "mail"
    role_groups: dict[str, str] = field(default_factory=dict)
    disabled_attr: str | None = None
    page_size: int = 500  # below AD's default MaxPageSize of 1000

    def __post_init__(self) -> None:
        # A filter without {username} would match the same entries whoever signs in.
        if "{username}" not in self.user_filter or not self.user_filter.startswith("("):
            raise ValueError("LDAP_USER_FILTER must be a parenthesised filter containing {username}")
        if urlsplit(self.url).scheme not in ("ldap", "ldaps"):
            raise ValueError("LDAP_URL must start with ldap:// or ldaps://")
        if not self.group_base and any("=" not in g for g in self.role_groups.values()):
            raise ValueError("LDAP_ROLE_GROUPS names a group by its cn only, so LDAP_GROUP_BASE is required")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LdapSettings:
        """Build settings from config keys without the WORKSPACE_ prefix: LDAP_<FIELD NAME>.

        String values (from the environment) are coerced. Raises ValueError on missing or bad values.
        """
        values: dict[str, Any] = {"bind_dn": "", "bind_password": ""}
        for f in fields(cls):
            raw = config.get(f"LDAP_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            if f.name in ("start_tls", "tls_verify"):
                values[f.name] = _as_bool(raw)
            elif f.name in ("timeout", "page_size"):
                values[f.name] = float(raw) if f.name == "timeout" else int(raw)
            elif f.name == "role_groups":
                values[f.name] = parse_role_groups(raw)
            else:
                values[f.name] = str(raw).strip() if f.name != "bind_password" else str(raw)
        for required in ("url", "user_base"):
            if required not in values:
                raise ValueError(f"LDAP_{required.upper()} is required for the LDAP directory")
        return cls(**values)


@dataclass(frozen=True)
class DirectoryEntry:
    """One staff member as the directory describes them."""

    username: str
    display_name: str
    department_code: str | None
    department_name: str | None
    section_code: str | None
    section_name: str | None
    title: str | None
    mail: str | None
    roles: frozenset[str]
    enabled: bool
    dn: str
    display_name_kana: str | None = None


def _server(settings: LdapSettings) -> ldap3.Server:
    parts = urlsplit(settings.url)
    use_ssl = parts.scheme == "ldaps"
    tls = None
    if use_ssl or settings.start_tls:
        verify = ssl.CERT_REQUIRED if settings.tls_verify else ssl.CERT_NONE
        tls = ldap3.Tls(validate=verify, ca_certs_file=settings.ca_file)
    return ldap3.Server(
        parts.hostname or "localhost",
        port=parts.port or (636 if use_ssl else 389),
        use_ssl=use_ssl,
        tls=tls,
        get_info=ldap3.NONE,  # no schema/DSE reads: one round trip less per connection
        connect_timeout=settings.timeout,
    )


def _open(settings: LdapSettings, user: str | None, password: str | None) -> ldap3.Connection:
    """Open (not bind) a connection, with StartTLS done, ready for ``bind()``."""
    server = _server(settings)
    conn = ldap3.Connection(
        server,
        user=user or None,
        password=password if user else None,
        authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
        receive_timeout=max(1, math.ceil(settings.timeout)),  # ldap3 packs it as whole seconds
        auto_referrals=False,  # a referral would send the user's password to another server
        raise_exceptions=False,
        read_only=True,
    )
    try:
        conn.open()
        if settings.start_tls and not server.ssl and not conn.start_tls():
            raise DirectoryUnavailable("StartTLS failed")
    except BaseException:
        if conn.socket is not None:  # ldap3 leaves the socket of a failed open or StartTLS unclosed
            conn.socket.close()
        raise
    return conn


@contextmanager
def _bound(
    settings: LdapSettings, user: str, password: str, refused: DirectoryError
) -> Iterator[ldap3.Connection]:
    """Yield a connection bound as ``user``; raise ``refused`` if the server rejects the credentials.

    Socket, TLS and protocol errors, and "busy"/"unavailable" answers, become DirectoryUnavailable.
    """
    conn = None
    try:
        conn = _open(settings, user, password)
        if not conn.bind():
            if conn.result.get("result") in _UNAVAILABLE_RESULTS:
                raise DirectoryUnavailable(f"bind failed: {conn.result.get('description')}")
            raise refused
        yield conn
    except (LDAPException, OSError) as exc:
        raise DirectoryUnavailable(f"directory error: {exc.__class__.__name__}: {exc}") from exc
    finally:
        if conn is not None and not conn.closed:
            conn.unbind()


def _service_connection(settings: LdapSettings) -> contextlib.AbstractContextManager[ldap3.Connection]:
    return _bound(
        settings, settings.bind_dn, settings.bind_password, DirectoryUnavailable("service bind refused")
    )


_MAPPED = ("attr_username", "attr_display_name", "attr_department", "attr_department_code", "attr_section")
_MAPPED += ("attr_section_code", "attr_title", "attr_mail", "disabled_attr", "attr_display_name_kana")


def _attributes(settings: LdapSettings) -> list[str]:
    # userAccountControl/memberOf are always asked for: servers ignore attributes they do not know.
    names = [getattr(settings, n) for n in _MAPPED] + ["cn", "userAccountControl", "memberOf"]
    return list(dict.fromkeys(n for n in names if n))


def _values(raw: dict[str, Any]) -> dict[str, list[str]]:
    """Attribute name (lower case) -> list of str values, decoding bytes as UTF-8."""
    out: dict[str, list[str]] = {}
    for name, values in (raw.get("raw_attributes") or {}).items():
        items = values if isinstance(values, list | tuple) else [values]
        texts = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in items]
        out.setdefault(name.lower(), []).extend(t.strip() for t in texts if t.strip())
    return out


def _first(values: dict[str, list[str]], name: str | None) -> str | None:
    found = values.get(name.lower()) if name else None
    return found[0] if found else None


def _unescape(value: str) -> str:
    # The same DN may come back as "cn=Sato\, Jiro" (AD) or "cn=Sato\2C Jiro" (OpenLDAP).
    hexed = re.sub(
        rb"\\([0-9a-fA-F]{2}|.)",
        lambda m: m[1] if len(m[1]) == 1 else bytes.fromhex(m[1].decode()),
        value.encode(),
    )
    return hexed.decode("utf-8", "replace")


def _norm_dn(dn: str) -> str:
    """Compare DNs case-insensitively, ignoring spaces around separators and escaping style."""
    try:
        return repr([(a.lower(), _unescape(v).lower(), sep) for a, v, sep in parse_dn(dn, strip=True)])
    except LDAPException:
        return dn.strip().lower()


def _is_disabled(values: dict[str, list[str]], settings: LdapSettings) -> bool:
    uac = _first(values, "userAccountControl")
    if uac is not None:
        try:
            if int(uac) & UF_ACCOUNTDISABLE:
                return True
        except ValueError:
            return True  # unreadable flags: fail closed
    if settings.disabled_attr:
        flags = values.get(settings.disabled_attr.lower(), [])
        return any(v.upper() not in ("FALSE", "0") for v in flags)
    return False


def _role_members(conn: ldap3.Connection, settings: LdapSettings) -> dict[str, set[str]]:
    """Read each configured role group once: role -> normalised member DNs (empty if the group is gone)."""
    members: dict[str, set[str]] = {}
    for role, group in settings.role_groups.items():
        dn = group if "=" in group else f"cn={group},{settings.group_base}"
        ok = conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["member", "uniqueMember"])
        if not ok and conn.result.get("result") != _NO_SUCH_OBJECT:
            raise DirectoryUnavailable(f"cannot read role group {dn}: {conn.result.get('description')}")
        found = _values(conn.response[0]) if ok and conn.response else {}
        members[role] = {_norm_dn(m) for m in found.get("member", []) + found.get("uniquemember", [])}
        members[role].add("group:" + _norm_dn(dn))  # marker so memberOf values can be matched too
    return members


def _to_entry(
    raw: dict[str, Any], settings: LdapSettings, members: dict[str, set[str]]
) -> DirectoryEntry | None:
    values = _values(raw)
    username = _first(values, settings.attr_username)
    if not username:
        return None
    user_dn = _norm_dn(raw["dn"])
    member_of = {"group:" + _norm_dn(g) for g in values.get("memberof", [])}
    roles = frozenset(role for role, dns in members.items() if user_dn in dns or member_of & dns)
    return DirectoryEntry(
        username=username,
        display_name=_first(values, settings.attr_display_name) or _first(values, "cn") or username,
        display_name_kana=_first(values, settings.attr_display_name_kana),
        department_code=_first(values, settings.attr_department_code),
        department_name=_first(values, settings.attr_department),
        section_code=_first(values, settings.attr_section_code),
        section_name=_first(values, settings.attr_section),
        title=_first(values, settings.attr_title),
        mail=_first(values, settings.attr_mail),
        roles=roles,
        enabled=not _is_disabled(values, settings),
        dn=raw["dn"],
    )


def _valid_username(username: str) -> bool:
    # Control characters (NUL, CR, LF, ...) never belong in a user name; reject before any network use.
    return (
        isinstance(username, str)
        and 0 < len(username) <= MAX_USERNAME_LENGTH
        and username.strip() != ""
        and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in username)
    )


def _find_user(conn: ldap3.Connection, settings: LdapSettings, username: str) -> list[dict[str, Any]]:
    """Up to two entries matching the escaped username (two means ambiguous)."""
    flt = settings.user_filter.replace("{username}", escape_filter_chars(username))
    conn.search(settings.user_base, flt, ldap3.SUBTREE, attributes=_attributes(settings), size_limit=2)
    if conn.result.get("result") not in (0, _SIZE_LIMIT_EXCEEDED):  # search() is False for "no entries" too
        raise DirectoryUnavailable(f"user search failed: {conn.result.get('description')}")
    return [e for e in conn.response or [] if e.get("type") == "searchResEntry"]


def authenticate(settings: LdapSettings, username: str, password: str) -> DirectoryEntry:
    """Check a user's name and password against the directory and return their entry.

    Raises InvalidCredentials (unknown user, wrong/empty password, disabled, ambiguous or malformed
    name; always the same message) or DirectoryUnavailable (the directory cannot be asked).
    """
    if not _valid_username(username):
        raise InvalidCredentials("bad_username")
    # An empty password makes a simple bind "unauthenticated", which many servers (AD included)
    # answer with success; refuse it before any network traffic.
    if not isinstance(password, str) or password == "" or "\x00" in password:
        raise InvalidCredentials("empty_password")
    with _service_connection(settings) as conn:
        found = _find_user(conn, settings, username)
        if len(found) != 1:
            raise InvalidCredentials("unknown_user" if not found else "ambiguous")
        if _is_disabled(_values(found[0]), settings):
            raise InvalidCredentials("disabled")
        with _bound(settings, found[0]["dn"], password, InvalidCredentials("bad_password")):
            pass
        entry = _to_entry(found[0], settings, _role_members(conn, settings))
    if entry is None:
        raise InvalidCredentials("unknown_user")
    return entry


def lookup(settings: LdapSettings, username: str) -> DirectoryEntry | None:
    """Return the entry for ``username`` (disabled ones too), or None if there is not exactly one.

    Raises DirectoryUnavailable.
    """
    if not _valid_username(username):
        return None
    with _service_connection(settings) as conn:
        found = _find_user(conn, settings, username)
        if len(found) != 1:
            return None
        return _to_entry(found[0], settings, _role_members(conn, settings))


def iter_entries(settings: LdapSettings) -> list[DirectoryEntry]:
    """Return every user under ``user_base`` matching the filter, sorted by username.

    Uses a paged search, so server size limits (AD's MaxPageSize) do not truncate the list.
    Role groups are read once per call. Raises DirectoryUnavailable.
    """
    flt = settings.user_filter.replace("{username}", "*")
    with _service_connection(settings) as conn:
        members = _role_members(conn, settings)
        results = conn.extend.standard.paged_search(
            settings.user_base,
            flt,
            ldap3.SUBTREE,
            attributes=_attributes(settings),
            paged_size=settings.page_size,
            generator=False,
        )
        # With raise_exceptions off, a failed page only shows in conn.result.
        if conn.result and conn.result.get("result") not in (0, None):
            raise DirectoryUnavailable(f"user listing failed: {conn.result.get('description')}")
        entries = [_to_entry(r, settings, members) for r in results if r.get("type") == "searchResEntry"]
    return sorted((e for e in entries if e is not None), key=lambda e: e.username)


def check(settings: LdapSettings) -> None:
    """Return None if the service account can bind and read ``user_base``; else raise DirectoryUnavailable."""
    with _service_connection(settings) as conn:
        if not conn.search(settings.user_base, "(objectClass=*)", ldap3.BASE, attributes=["1.1"]):
            raise DirectoryUnavailable(f"cannot read user base: {conn.result.get('description')}")
