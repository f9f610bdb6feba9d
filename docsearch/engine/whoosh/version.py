"""The whoosh release our fast paths are tested against, and the check that turns them off for any other.

The fast paths (``bulkwriter``, ``docsets``, ``ranking``, ``matching``, the column formats of
``postings``) read and write whoosh's posting blocks, length and numeric columns through private
attributes and re-implement its BM25F.  A different whoosh release may change any of that without
notice, so at start the engine compares the installed version with ``TESTED_WHOOSH_VERSION`` (the
one pinned in pyproject.toml) and, if it differs, logs a warning and uses whoosh's public API only:
``Searcher.search(..., filter=...)``, whoosh's own writer and its own posting encoders.  The results
are the same (tests/docsearch/test_engine_equivalence.py), only slower.
"""

from __future__ import annotations

import functools
import logging

import whoosh

log = logging.getLogger(__name__)

#: The whoosh-reloaded release the fast paths are tested against: pinned exactly in pyproject.toml.
TESTED_WHOOSH_VERSION = "2.7.5"


def installed_version() -> str:
    """Return the installed whoosh version as ``major.minor.patch``."""
    return ".".join(str(part) for part in whoosh.__version__)


def check() -> bool:
    """Return True when the installed whoosh is the tested one; otherwise log a warning, return False."""
    found = installed_version()
    if found == TESTED_WHOOSH_VERSION:
        return True
    log.warning(
        "whoosh %s is installed but the search fast paths are tested against %s: "
        "using whoosh's public API only (slower searches and rebuilds)",
        found,
        TESTED_WHOOSH_VERSION,
    )
    return False


@functools.cache
def fast_path() -> bool:
    """Return (once per process) whether the fast paths may run: ``check()`` at first use."""
    return check()
