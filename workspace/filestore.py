"""The address scheme shared by every content-addressed file store (chat, approvals, documents)."""

from __future__ import annotations

from pathlib import Path

_HEX = frozenset("0123456789abcdef")


def address(root: Path, sha256: str) -> Path:
    """Return root/ab/cd/<digest> for a lowercase sha256 digest; raise ValueError for anything else.

    The check matters: a digest that came from a request must never become '../' in a path.
    """
    if len(sha256) != 64 or not _HEX.issuperset(sha256):
        raise ValueError("not a sha256 digest")
    return root / sha256[:2] / sha256[2:4] / sha256
