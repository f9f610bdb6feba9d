"""Configuration: defaults, then an optional instance file, then WORKSPACE_* environment variables.

Flask config keys are the environment names without the prefix (WORKSPACE_DATA_DIR → DATA_DIR).
Nothing here runs at import time; create_app() calls load_config().
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

PREFIX = "WORKSPACE_"

# Every option with its default; the README's configuration table mirrors this dict.
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # generated once and kept in DATA_DIR/secret_key when unset
    "DATA_DIR": "./data",
    "DATABASE_URL": None,  # default: sqlite:///DATA_DIR/workspace.sqlite3
    "REDIS_URL": None,  # Socket.IO message queue and rate-limit storage when set
    "DIRECTORY": "local",  # local | ldap
    "VILLAGE_NAME": "榛東村",
    "VILLAGE_PREFIX": "榛",
    "BASE_URL": None,  # e.g. https://workspace.village.lg.jp — used for Origin checks behind a proxy
    "ALLOWED_ORIGINS": "",  # extra Socket.IO origins, comma separated
    "TRUSTED_PROXIES": 0,  # number of reverse proxies whose X-Forwarded-* headers are trusted
    "SESSION_HOURS": 12,
    "TOKEN_DAYS": 365,
    "LOGIN_LIMIT_ACCOUNT": "5 per 5 minutes",
    "LOGIN_LIMIT_ADDRESS": "30 per 5 minutes",
    "KNOWN_ADDRESS_DAYS": 30,  # an address with a recent session of the account has its own sign-in bucket
    "SECTION_CHIEF_TITLES": "係長",
    "DEPARTMENT_HEAD_TITLES": "課長,事務局長,局長",
    "ASYNC_MODE": "threading",
    # Seconds between a server's re-checks of its live sockets against access changes made elsewhere
    # (workspace.live_access); delivery re-checks first anyway. 0 = only at delivery.
    "SOCKET_RECHECK_SECONDS": 2.0,
    "SHUTDOWN_GRACE_SECONDS": 5.0,  # `workspace serve` on SIGTERM: how long requests in flight may finish
    "ARGON2_TIME_COST": 0,  # 0 = argon2-cffi's default
    "ARGON2_MEMORY_KIB": 0,  # 0 = argon2-cffi's default (64 MiB)  # `workspace serve` switches to gevent
    "LDAP_URL": "ldap://127.0.0.1:389",
    "LDAP_BIND_DN": "",
    "LDAP_BIND_PASSWORD": "",
    "LDAP_USER_BASE": "",
    "LDAP_USER_FILTER": "(uid={username})",
    "LDAP_GROUP_BASE": "",
    "LDAP_START_TLS": False,
    "LDAP_CA_FILE": None,
    "LDAP_TLS_VERIFY": True,
    "LDAP_TIMEOUT": 5.0,
    "LDAP_ATTR_USERNAME": "uid",
    "LDAP_ATTR_DISPLAY_NAME": "displayName",
    "LDAP_ATTR_DISPLAY_NAME_KANA": None,  # 読み, e.g. msDS-PhoneticDisplayName (AD)
    "LDAP_ATTR_DEPARTMENT": "ou",
    "LDAP_ATTR_DEPARTMENT_CODE": "departmentNumber",
    "LDAP_ATTR_SECTION": None,
    "LDAP_ATTR_SECTION_CODE": None,
    "LDAP_ATTR_TITLE": "title",
    "LDAP_ATTR_MAIL": "mail",
    "LDAP_ROLE_GROUPS": "",
    "LDAP_DISABLED_ATTR": None,
    "LDAP_SYNC_INTERVAL": 3600,  # seconds between scheduled directory syncs; 0 turns the schedule off
    "LDAP_PAGE_SIZE": 500,
    # chat
    "CHAT_EDIT_LOCK_MINUTES": 30,  # edits and deletes are refused after this; negative = never locked
    "CHAT_MAX_LENGTH": 4000,
    "CHAT_RATE_LIMIT": "20 per second;720 per minute",
    "CHAT_TYPING_INTERVAL_SECONDS": 3,
    "CHAT_ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024,
    "CHAT_IMAGE_MAX_PIXELS": 50_000_000,
    "CHAT_PENDING_ATTACHMENT_HOURS": 24,
    "CHAT_EXPORT_MAX_MESSAGES": 100_000,
    # approvals
    "APPROVALS_KEY_DIR": None,  # default DATA_DIR/keys
    "APPROVALS_FONT_PATH": None,  # default: IPAex or Noto CJK found on the system
    "APPROVALS_ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024,
    "APPROVALS_VERIFY_MAX_BYTES": 20 * 1024 * 1024,
    # Seconds the deciding request waits for the signed record (0: answers at once; the outbox
    # worker signs it after the commit and the PDF download waits for it).
    "APPROVALS_RECORD_WAIT_SECONDS": 0.0,
    "OUTBOX_WORKER": True,  # run owed jobs in a background worker after each commit (else: `outbox run`)
    # documents and search
    "DOCUMENT_MAX_BYTES": 50 * 1024 * 1024,
    "ZIP_MAX_ENTRIES": 5000,
    "ZIP_MAX_UNCOMPRESSED": 200 * 1024 * 1024,
    "ZIP_MAX_RATIO": 100.0,
    "EXTRACT_MAX_CHARS": 2_000_000,
    "EXTRACT_MAX_PDF_PAGES": 2000,
    "EXTRACT_MAX_CELLS": 1_000_000,
    "SEARCH_INDEX_DIR": None,  # default DATA_DIR/index
    "SEARCH_LOCK_TIMEOUT": 10.0,
    "SEARCH_DRAIN_ON_COMMIT": True,
    "SEARCH_INDEX_PROCS": 1,
    "SEARCH_INDEX_LIMITMB": 1024,  # per rebuild process; past it a process starts another segment
    "SEARCH_TIME_LIMIT": 5.0,
    "SEARCH_SYNONYMS": None,  # default: docsearch/synonyms.txt
    "DOCSEARCH_FILING_VISIBILITY": "department",  # visibility of decided 決裁 filed into the registry
    "DOCSEARCH_DISPOSAL_ROUTE": "general",  # approval route of 廃棄 proposals
}

_BOOL_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, bool)}
_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
_FLOAT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, float)}


def _coerce(key: str, value: str) -> Any:
    """Turn an environment string into the type of the option's default."""
    if key in _BOOL_KEYS:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT_KEYS:
        return int(value)
    if key in _FLOAT_KEYS:
        return float(value)
    return value


def load_config(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """Return the merged configuration: defaults < instance file < environment < overrides."""
    environ = dict(os.environ if environ is None else environ)
    config = dict(DEFAULTS)
    instance_file = environ.get(PREFIX + "CONFIG_FILE")
    if instance_file:
        namespace: dict[str, Any] = {}
        exec(compile(Path(instance_file).read_text(encoding="utf-8"), instance_file, "exec"), namespace)  # noqa: S102
        config.update({k: v for k, v in namespace.items() if k.isupper()})
    for name, value in environ.items():
        if name.startswith(PREFIX) and name != PREFIX + "CONFIG_FILE":
            key = name[len(PREFIX) :]
            config[key] = _coerce(key, value)
    config.update(overrides or {})
    return finalize(config)


def finalize(config: dict[str, Any]) -> dict[str, Any]:
    """Fill derived values: absolute data dir, database URL, secret key, Flask's own keys."""
    data_dir = Path(config["DATA_DIR"]).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    config["DATA_DIR"] = str(data_dir)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{data_dir / 'workspace.sqlite3'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _persistent_secret(data_dir / "secret_key")
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_NAME", "workspace_session")
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("JSON_AS_ASCII", False)
    config.setdefault("MAX_CONTENT_LENGTH", 64 * 1024 * 1024)
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    config.setdefault("RATELIMIT_STORAGE_URI", config["REDIS_URL"] or "memory://")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    return config


def _persistent_secret(path: Path) -> str:
    """Return the secret in path, creating it (mode 0600) the first time."""
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret


def csv_list(value: str | None) -> list[str]:
    """Split a comma separated option into trimmed, non-empty items."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]
