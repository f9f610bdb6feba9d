"""A private OpenLDAP server for tests: session fixture ``slapd`` plus helpers.

slapd (Debian package ``slapd``; client tools from ``ldap-utils``) runs from a temporary directory
on free loopback ports with a generated slapd.conf, one mdb database ``dc=shinto,dc=example`` loaded
with slapadd from tests/ldap/village.ldif (OpenLDAP style) and tests/ldap/ad-style.ldif (an
Active-Directory-like subtree ``ou=ad``), and a throwaway CA so LDAPS and StartTLS can be tested.

Import everything from tests/conftest.py: ``from tests.ldap_fixtures import *``.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from workspace.ldap import LdapSettings

__all__ = ["SlapdServer", "slapd", "slapd_down", "slapd_reset", "VILLAGE", "AD"]

LDAP_DATA = Path(__file__).parent / "ldap"
SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = "/usr/lib/ldap"

BASE_DN = "dc=shinto,dc=example"
PEOPLE = f"ou=people,{BASE_DN}"
GROUPS = f"ou=groups,{BASE_DN}"
AD_STAFF = f"ou=Staff,ou=ad,{BASE_DN}"
AD_GROUPS = f"ou=Groups,ou=ad,{BASE_DN}"


class VILLAGE:
    """Facts about tests/ldap/village.ldif that tests may rely on. Password of every user: 'pw-' + uid."""

    user_count = 39  # 村長, 副村長, 9 課 x (課長, 係長, 2 主事), one disabled 主事
    admins = frozenset({"suzuki.hanako", "takahashi.kenta"})  # cn=ws-admins
    records = frozenset({"sato.ichiro", "tanaka.misaki"})  # cn=ws-records
    disabled = "endo.takeshi"  # nsAccountLock: TRUE
    mayor = "ishii.masaru"
    deputy_mayor = "okada.hiroshi"

    @staticmethod
    def password(username: str) -> str:
        return f"pw-{username}"


class AD:
    """Facts about tests/ldap/ad-style.ldif. Password: 'pw-' + sAMAccountName."""

    user_count = 5
    admins = frozenset({"i.suzuki", "j.sato"})
    records = frozenset({"h.tanaka", "j.sato", "s.takahashi"})  # s.takahashi is also disabled
    disabled = "s.takahashi"  # userAccountControl 514

    @staticmethod
    def password(username: str) -> str:
        return f"pw-{username}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """Write a throwaway CA and a server certificate for 127.0.0.1/localhost; return (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = build("workspace test CA", ca_key, "workspace test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build("127.0.0.1", key, "workspace test CA", ca_key, ca=False)
    paths = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    paths[2].chmod(0o600)
    return paths


class SlapdServer:
    """One private slapd. Attributes: url, ldaps_url, base_dn, admin_dn/admin_password,
    service_dn/service_password, ca_file, log_path. Methods: start, stop, reset, modify,
    settings, ad_settings, config, log_text."""

    base_dn = BASE_DN
    admin_dn = f"cn=admin,{BASE_DN}"
    admin_password = "admin-secret"
    service_dn = f"cn=ws-service,ou=services,{BASE_DN}"
    service_password = "service-secret"  # matches the {SSHA} hash in village.ldif

    def __init__(self, root: Path) -> None:
        self.root = root
        self.db_dir = root / "db"
        self.conf_path = root / "slapd.conf"
        self.log_path = root / "slapd.log"
        self.ca_file, self.cert_file, self.key_file = (str(p) for p in _make_certificates(root))
        self.port = _free_port()
        self.ldaps_port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()
        self._load_data()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def _write_config(self) -> None:
        schemas = [SCHEMA_DIR / f"{n}.schema" for n in ("core", "cosine", "nis", "inetorgperson")]
        schemas += [LDAP_DATA / "village.schema", LDAP_DATA / "ad-lite.schema"]
        includes = "\n".join(f'include "{p}"' for p in schemas)
        self.conf_path.write_text(
            f"""{includes}
pidfile "{self.root / "slapd.pid"}"
argsfile "{self.root / "slapd.args"}"
modulepath {MODULE_DIR}
moduleload back_mdb
TLSCACertificateFile "{self.ca_file}"
TLSCertificateFile "{self.cert_file}"
TLSCertificateKeyFile "{self.key_file}"
# Like Active Directory, accept "unauthenticated" binds (a DN with an empty password) as anonymous:
# the application must refuse empty passwords itself, and the tests prove that it does.
allow bind_anon_dn

database mdb
maxsize 67108864
suffix "{BASE_DN}"
rootdn "{self.admin_dn}"
rootpw "{self.admin_password}"
directory "{self.db_dir}"
index objectClass,uid,sAMAccountName,member,memberOf eq
# A page limit below the number of users proves the application pages through large directories.
limits dn.exact="{self.service_dn}" size.soft=20 size.hard=20 size.prtotal=unlimited
# Users may bind (auth) but nobody reads password hashes; the service account reads everything else;
# anonymous reads nothing.
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{self.service_dn}" read
    by self read
    by * none
""",
            encoding="utf-8",
        )

    def _load_data(self) -> None:
        if self.db_dir.exists():
            shutil.rmtree(self.db_dir)
        self.db_dir.mkdir(mode=0o700)
        for ldif in ("village.ldif", "ad-style.ldif"):
            done = subprocess.run(
                [SLAPADD, "-q", "-f", str(self.conf_path), "-b", BASE_DN, "-l", str(LDAP_DATA / ldif)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                pytest.fail(f"slapadd of {ldif} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)

    def start(self, timeout: float = 15.0) -> None:
        """Start slapd (no-op if running) and wait until it answers an authenticated search."""
        if self.is_running():
            return
        log = self.log_path.open("ab")
        listen = f"{self.url}/ {self.ldaps_url}/"
        # -d keeps slapd in the foreground so we own the process; "stats" logs each operation,
        # which tests read to prove that no bind happened.
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(self.conf_path), "-h", listen, "-d", "stats"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"slapd exited with {self.process.returncode}:\n{self.log_tail()}", pytrace=False)
            if _port_open(self.port) and self._answers():
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"slapd did not answer within {timeout}s:\n{self.log_tail()}", pytrace=False)

    def _answers(self) -> bool:
        done = subprocess.run(
            ["ldapsearch", "-x", "-H", self.url, "-D", self.admin_dn, "-w", self.admin_password]
            + ["-b", BASE_DN, "-s", "base", "1.1"],
            capture_output=True,
        )
        return done.returncode == 0

    def stop(self) -> None:
        """Stop slapd and wait until its port is closed (no-op if not running)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        deadline = time.monotonic() + 5
        while _port_open(self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def reset(self) -> None:
        """Restore the directory to the LDIF files (stop, reload, start): about half a second."""
        self.stop()
        self._load_data()
        self.start()

    def modify(self, ldif_text: str) -> str:
        """Apply LDIF change records (changetype: modify/add/delete/modrdn) as the admin; return stdout."""
        done = subprocess.run(
            ["ldapmodify", "-x", "-H", self.url, "-D", self.admin_dn, "-w", self.admin_password],
            input=ldif_text.encode("utf-8"),
            capture_output=True,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"ldapmodify failed ({done.returncode}): {done.stderr.decode(errors='replace')}"
            )
        return done.stdout.decode("utf-8", "replace")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def settings(self, **overrides: Any) -> LdapSettings:
        """LdapSettings for the OpenLDAP-style village directory (ou=people, groupOfNames roles)."""
        base = LdapSettings(
            url=self.url,
            bind_dn=self.service_dn,
            bind_password=self.service_password,
            user_base=PEOPLE,
            group_base=GROUPS,
            ca_file=self.ca_file,
            timeout=3.0,
            attr_section="villageSectionName",
            attr_section_code="villageSectionCode",
            role_groups={"admin": f"cn=ws-admins,{GROUPS}", "records": f"cn=ws-records,{GROUPS}"},
            disabled_attr="nsAccountLock",
        )
        return replace(base, **overrides)

    def ad_settings(self, **overrides: Any) -> LdapSettings:
        """LdapSettings for the AD-style subtree: sAMAccountName, memberOf, userAccountControl."""
        base = LdapSettings(
            url=self.url,
            bind_dn=self.service_dn,
            bind_password=self.service_password,
            user_base=AD_STAFF,
            user_filter="(sAMAccountName={username})",
            group_base=AD_GROUPS,
            ca_file=self.ca_file,
            timeout=3.0,
            attr_username="sAMAccountName",
            attr_department="department",
            attr_department_code="departmentNumber",
            # Upper-case, AD-style DNs on purpose: DN comparison must not depend on case.
            role_groups={
                "admin": "CN=ws-admins,OU=Groups,OU=ad,DC=shinto,DC=example",
                "records": "CN=ws-records,OU=Groups,OU=ad,DC=shinto,DC=example",
            },
        )
        return replace(base, **overrides)

    def config(self, **overrides: str) -> dict[str, str]:
        """Flask config keys (without the WORKSPACE_ prefix) for the village directory, as strings."""
        values = {
            "DIRECTORY": "ldap",
            "LDAP_URL": self.url,
            "LDAP_BIND_DN": self.service_dn,
            "LDAP_BIND_PASSWORD": self.service_password,
            "LDAP_USER_BASE": PEOPLE,
            "LDAP_GROUP_BASE": GROUPS,
            "LDAP_TIMEOUT": "3",
            "LDAP_ATTR_SECTION": "villageSectionName",
            "LDAP_ATTR_SECTION_CODE": "villageSectionCode",
            "LDAP_ROLE_GROUPS": f"admin=cn=ws-admins,{GROUPS};records=cn=ws-records,{GROUPS}",
            "LDAP_DISABLED_ATTR": "nsAccountLock",
        }
        values.update(overrides)
        return values


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM slapd if pytest dies without running its finalizers."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlapdServer]:
    """A running private slapd for the whole session, stopped at the end."""
    missing = [p for p in (SLAPD, SLAPADD) if not os.access(p, os.X_OK)]
    missing += [t for t in ("ldapsearch", "ldapmodify") if shutil.which(t) is None]
    if missing:
        pytest.fail(
            f"OpenLDAP is needed for these tests: install slapd and ldap-utils ({missing})", pytrace=False
        )
    server = SlapdServer(tmp_path_factory.mktemp("slapd"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def slapd_down(slapd: SlapdServer) -> Iterator[SlapdServer]:
    """slapd stopped for the duration of one test, then started again."""
    slapd.stop()
    try:
        yield slapd
    finally:
        slapd.start()


@pytest.fixture
def slapd_reset(slapd: SlapdServer) -> Iterator[SlapdServer]:
    """slapd for a test that changes the directory; the LDIF contents are restored afterwards."""
    yield slapd
    slapd.reset()
