"""The curated okurigana spellings (``okurigana.txt``): which forms of one word search joins.

取り扱い, 取扱い and 取扱 are one word written with different okurigana (the 許容 forms of
送り仮名の付け方); 手当て and 手当 can be two words.  Stripping kana in general cannot tell them
apart, so search joins only the spellings listed in the shipped file, expanded at query time like
synonyms (``docsearch.query.clause_forms``), and ranks the spelling as typed first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from docsearch.synonyms import SynonymTable

OKURIGANA_PATH = Path(__file__).with_name("okurigana.txt")


@lru_cache(maxsize=1)
def get_okurigana() -> SynonymTable:
    """Return the table of okurigana spellings shipped with the application (read once)."""
    return SynonymTable.from_text(OKURIGANA_PATH.read_text(encoding="utf-8"))
