"""Secrets at rest: argon2 for passwords, SHA-256 for random tokens, and safe text for logs."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2-cffi's defaults (RFC 9106 low-memory profile) unless configured
# Verified when the username is unknown, so a miss costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password")


def configure(time_cost: int | None, memory_kib: int | None) -> None:
    """Set the argon2 cost (the test suite lowers it; production keeps the library defaults)."""
    global _hasher, _DUMMY_HASH
    if not time_cost and not memory_kib:
        return
    defaults = PasswordHasher()
    _hasher = PasswordHasher(time_cost=time_cost or defaults.time_cost,
                             memory_cost=memory_kib or defaults.memory_cost)
    _DUMMY_HASH = _hasher.hash("not a real password")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def hash_password(password: str) -> str:
    """Return an argon2id hash of password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return True when password matches; a missing hash still costs one verification."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "") -> str:
    """Return a fresh random secret (256 bits), optionally with a readable prefix."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a random secret is stored.

    A plain hash is enough here (unlike passwords) because the secret has 256 bits of entropy.
    """
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def printable(text: str | None, limit: int = 100) -> str:
    """Return text safe for one log line: control characters (CR, LF, NUL …) escaped, length capped."""
    if text is None:
        return ""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text[: limit + 1])
    # The cap applies to what is shown (escapes are longer than the characters they replace),
    # because the result goes into columns of exactly that width.
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def has_control_chars(text: str) -> bool:
    """True when text contains a control character (never valid in a username)."""
    return bool(_CONTROL.search(text))
