"""One rule for the text people type and others read: names, titles, descriptions and bodies.

Every service that stores a human-readable name or title passes it through :func:`clean_line`, and a
multi-line body through :func:`clean_text`, in the one place that entity is written, so the API, the
forms and the CLI all meet the same rule:

- Unicode NFC (か + ゛ combining, as some IMEs and macOS file names send it, is stored as が, so the
  same name is one string for search, sorting and uniqueness);
- refused, never silently dropped: C0/C1 control characters (NUL among them — PostgreSQL cannot even
  store it), line and paragraph separators, the bidi embedding/override/isolate controls
  (U+202A–U+202E, U+2066–U+2069: 「山田\u202e郎太」 displays as something else than it is) and lone
  surrogates (not text at all: they cannot be encoded to UTF-8);
- in a single-line name also tab, newline and the bidi marks U+200E, U+200F, U+061C (invisible; in a
  name they only serve to make two different strings look alike);
- a multi-line body keeps newline and tab; CR LF and a lone CR (what a textarea sends) become LF.

Directory data (LDAP) is not ours to refuse: one odd attribute must not lock a person out of the
office's workspace, so :func:`strip_line` removes the same characters instead (the sync logs it).
Rows stored before the rule are neutralised where they are shown (:func:`for_display`, applied to
every template expression and to the 起案用紙).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Bidi embedding, override and isolate controls: they reorder what follows them.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# Bidi marks: invisible, harmless in running text, but a way to make two names look alike.
_BIDI_MARKS = "\u200e\u200f\u061c"
_SURROGATES = "\ud800-\udfff"
# Refused in a multi-line body: controls other than tab and newline, separators, bidi controls, surrogates.
_REFUSED_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}{_SURROGATES}]")
# Refused in a single-line name: all of the above, tab and newline, and the bidi marks.
_REFUSED_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI_CONTROLS}{_BIDI_MARKS}{_SURROGATES}]")
_SPACES = re.compile(r"\s+")
_INVISIBLE = re.compile(f"[{_BIDI_CONTROLS}{_BIDI_MARKS}{_SURROGATES}]")
_DISPLAY = re.compile(f"[{_BIDI_CONTROLS}]")


class TextRefused(ValueError):
    """Text holding characters the rule refuses; the message is Japanese and safe to show."""

    def __init__(self, label: str) -> None:
        super().__init__(f"{label}に使えない文字（制御文字・文字の向きを変える文字）が含まれています。")
        self.label = label


def _nfc(value: str, pattern: re.Pattern[str], label: str) -> str:
    # Checked before normalising, which never produces a refused character (none of them is the
    # composition of others), so the result needs no second look.
    if pattern.search(value):
        raise TextRefused(label)
    return unicodedata.normalize("NFC", value)


def clean_line(value: str, label: str) -> str:
    """Return a single-line name or title in NFC; raise :class:`TextRefused` naming ``label``.

    Surrounding spaces are kept: callers strip, collapse and measure the length as their field needs.
    """
    return _nfc(value, _REFUSED_LINE, label)


def clean_text(value: str, label: str) -> str:
    """Return a multi-line body in NFC with LF line ends; raise :class:`TextRefused` naming ``label``."""
    return _nfc(value.replace("\r\n", "\n").replace("\r", "\n"), _REFUSED_TEXT, label)


def strip_line(value: str | None) -> str | None:
    """Return a directory value made safe for a name: refused characters removed, spaces collapsed, NFC.

    For data the workspace does not own (LDAP attributes); None and blank values give None.
    """
    if value is None:
        return None
    # Controls and separators stood between words (a tab, a newline): a space. Bidi characters and
    # surrogates stood for nothing: removed.
    text = _REFUSED_LINE.sub(" ", _INVISIBLE.sub("", value))
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return text or None


def is_clean_line(value: str | None) -> bool:
    """True when value passes :func:`clean_line` unchanged (already NFC, nothing refused)."""
    return value is None or (not _REFUSED_LINE.search(value) and unicodedata.is_normalized("NFC", value))


def for_display(value: Any) -> Any:
    """Return value with bidi embedding/override/isolate controls shown as U+FFFD; others unchanged.

    For rows stored before the rule (or by a future path that forgot it): a replacement character
    shows that something was there, where removing it would hide it. Markup stays Markup (only
    characters that are never markup are replaced).
    """
    if not isinstance(value, str) or not _DISPLAY.search(value):
        return value
    cleaned = _DISPLAY.sub("\ufffd", value)
    return type(value)(cleaned) if type(value) is not str else cleaned
