"""The rule for local passwords (`workspace users add` / `set-password`, and every other way a local
account gets one): long enough, not guessable from the account, not on a list of common passwords.

- at least 10 characters (NIST SP 800-63B asks for 8 at the least; 10 leaves room for the office's
  habit of a word plus a year);
- not blank or spaces only, not one character repeated (``aaaaaaaaaa``);
- not containing the user name, compared case-insensitively, when the user name has 3 characters or
  more (Active Directory's complexity rule does the same with sAMAccountName; a 1–2 character name
  would forbid half the alphabet, so there only the name itself is refused). ``sato-2026-spring`` for
  ``sato`` is refused: whoever knows the account name has already guessed half of it;
- not on the lists in ``workspace/data`` (where they come from: ``workspace/data/SOURCES.md``):
  the 10,000 most common passwords (``common-passwords-top10000.txt``, in order of frequency), the
  longer ones of the 20,000 (``common-passwords.txt``) and the Japanese office words
  (``common-passwords-ja.txt``), compared after NFKC (full-width ｐａｓｓ… is the same password to a
  person) and case folding;
- no control characters or lone surrogates: the sign-in form can never send them back.

Directory (LDAP) accounts have no local password: their rules are the directory's.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

MIN_LENGTH = 10
USERNAME_CONTAINED_FROM = 3  # user names this long or longer may not appear inside the password
DATA = Path(__file__).with_name("data")
LISTS = ("common-passwords-top10000.txt", "common-passwords.txt", "common-passwords-ja.txt")
COMMENT = "# "  # a comment line in a list; "#1bitch" (no space) is a password of the top 10,000


class WeakPassword(ValueError):
    """A password the rule refuses; the message is Japanese and safe to show."""


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the shipped lists of common passwords, folded as :func:`check` compares them."""
    words: set[str] = set()
    for name in LISTS:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith(COMMENT):
                words.add(_fold(line))
    return frozenset(words)


def check(password: str, username: str) -> None:
    """Raise :class:`WeakPassword` when ``password`` may not be the password of ``username``."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        raise WeakPassword("パスワードに使えない文字（制御文字など）が含まれています。")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"パスワードは{MIN_LENGTH}文字以上にしてください。")
    if not password.strip():
        raise WeakPassword("空白だけのパスワードは使えません。")
    if len(set(password)) == 1:
        raise WeakPassword("同じ文字を繰り返しただけのパスワードは使えません。")
    folded, name = _fold(password), _fold(username or "")
    if name and (folded == name or (len(name) >= USERNAME_CONTAINED_FROM and name in folded)):
        raise WeakPassword("ユーザー名を含むパスワードは使えません。")
    if folded in common_passwords():
        raise WeakPassword("よく使われていて推測されやすいパスワードです。別のものにしてください。")
