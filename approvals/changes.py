"""What the drafter changed between two submissions: the page's 「前回からの変更」.

Pure functions over the ``versions`` of the request JSON. The body is compared line by line with
:mod:`difflib` (Japanese text is written in lines and paragraphs, so a line is the unit a reader
checks); the attachment list is compared by content (SHA-256), so a file replaced under the same
name shows as changed.
"""

from __future__ import annotations

import difflib
from typing import Any

CONTEXT_LINES = 2


def body_diff(old: str, new: str) -> list[dict[str, str]]:
    """Return the changed lines with a little context: ``[{"op": "same"|"del"|"add"|"gap", "text"}]``."""
    a, b = old.replace("\r\n", "\n").split("\n"), new.replace("\r\n", "\n").split("\n")
    lines: list[dict[str, str]] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT_LINES):
        if lines:
            lines.append({"op": "gap", "text": "…"})
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend({"op": "same", "text": t} for t in a[i1:i2])
                continue
            lines.extend({"op": "del", "text": t} for t in a[i1:i2])
            lines.extend({"op": "add", "text": t} for t in b[j1:j2])
    return lines


def attachment_diff(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Return ``{"added": [names], "removed": [names], "kept": [names]}`` comparing by content."""
    old_keys = {(a["name"], a["sha256"]) for a in old}
    new_keys = {(a["name"], a["sha256"]) for a in new}
    return {
        "added": [a["name"] for a in new if (a["name"], a["sha256"]) not in old_keys],
        "removed": [a["name"] for a in old if (a["name"], a["sha256"]) not in new_keys],
        "kept": [a["name"] for a in new if (a["name"], a["sha256"]) in old_keys],
    }


def since_previous(versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Return what the last submission changed against the one before, or None after a single one.

    ``{"from", "to", "title": (old, new) | None, "amount": (old, new) | None, "body": [...],
    "attachments": {...}, "unchanged": bool}``.
    """
    if len(versions) < 2:
        return None
    old, new = versions[-2], versions[-1]
    attachments = attachment_diff(old["attachments"], new["attachments"])
    out = {
        "from": old["n"],
        "to": new["n"],
        "title": (old["title"], new["title"]) if old["title"] != new["title"] else None,
        "amount": (old["amount"], new["amount"]) if old["amount"] != new["amount"] else None,
        "body": body_diff(old["body"], new["body"]) if old["body"] != new["body"] else [],
        "attachments": attachments,
    }
    out["unchanged"] = not (
        out["title"] or out["amount"] or out["body"] or attachments["added"] or attachments["removed"]
    )
    return out
