"""workspace.filestore.Store: stage, place, remove and referenced, on a real folder of a real app."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest

from approvals import attachment_store
from chat import files as chat_files
from docsearch import files as doc_files
from workspace import filestore

DATA = "議事録\n".encode()
SHA = hashlib.sha256(DATA).hexdigest()


class Rows:
    """Stands in for a domain's table: the digests its rows refer to."""

    def __init__(self) -> None:
        self.digests: set[str] = set()

    def referenced(self, digests: set[str]) -> set[str]:
        return digests & self.digests


@pytest.fixture
def rows() -> Rows:
    return Rows()


@pytest.fixture
def store(app: Any, rows: Rows) -> filestore.Store:
    return filestore.Store("test", ("test", "files"), rows.referenced)


def _leftovers(store: filestore.Store) -> list[Path]:
    """Temporary files anywhere in the store (staged uploads, half-copied placements)."""
    found = store.root().rglob("*")
    return [p for p in found if p.is_file() and (p.parent.name == "tmp" or p.name.startswith(".incoming"))]


def test_stage_hashes_into_the_stores_tmp_and_place_moves_it_to_its_address(store: filestore.Store) -> None:
    """Is an upload hashed while staged under root/tmp, then found at ab/cd/<sha256> with nothing left?"""
    staged = store.stage(io.BytesIO(DATA), 1024, too_large=RuntimeError, empty=RuntimeError)
    assert (staged.sha256, staged.size) == (SHA, len(DATA))
    assert staged.path.parent == store.root() / "tmp" and staged.path.read_bytes() == DATA
    assert store.place(staged) is True
    target = store.root() / SHA[:2] / SHA[2:4] / SHA
    assert store.path_for(SHA) == target and target.read_bytes() == DATA
    assert not staged.path.exists() and _leftovers(store) == []
    assert store.stored_digests() == {SHA}


def test_same_content_twice_is_one_file(store: filestore.Store) -> None:
    """Do two uploads of the same bytes share one stored file (the second place says it was there)?"""
    first = store.stage(io.BytesIO(DATA), 1024, too_large=RuntimeError, empty=RuntimeError)
    second = store.stage(io.BytesIO(DATA), 1024, too_large=RuntimeError, empty=RuntimeError)
    assert first.path != second.path
    assert store.place(first) is True
    assert store.place(second) is False
    assert store.stored_digests() == {SHA} and _leftovers(store) == []


def test_place_never_replaces_a_stored_file(store: filestore.Store) -> None:
    """Is a file already at its address left alone (same inode, same bytes) when its digest comes again?"""
    staged = store.stage(io.BytesIO(DATA), 1024, too_large=RuntimeError, empty=RuntimeError)
    store.place(staged, keep=True)
    inode = store.path_for(SHA).stat().st_ino
    assert store.place(staged, keep=True) is False
    assert store.path_for(SHA).stat().st_ino == inode and store.path_for(SHA).read_bytes() == DATA
    assert staged.path.exists()  # kept, as asked: the caller may place it again after its transaction
    store.discard(staged)
    assert not staged.path.exists()


def test_place_without_hard_links_copies_beside_the_target_and_renames(
    store: filestore.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a filesystem that refuses hard links, is the file still placed whole, with no half copy left?"""

    def no_links(src: Any, dst: Any) -> None:
        raise PermissionError("hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    staged = store.stage(io.BytesIO(DATA), 1024, too_large=RuntimeError, empty=RuntimeError)
    assert store.place(staged) is True
    assert store.path_for(SHA).read_bytes() == DATA
    assert not staged.path.exists() and _leftovers(store) == []


def test_refused_stage_leaves_nothing(store: filestore.Store) -> None:
    """Are an upload over the limit and an empty one refused with the caller's errors, leaving no file?"""

    class TooLarge(Exception):
        pass

    class Empty(Exception):
        pass

    with pytest.raises(TooLarge):
        store.stage(io.BytesIO(b"x" * 2048), 1024, too_large=TooLarge, empty=Empty)
    with pytest.raises(Empty):
        store.stage(io.BytesIO(b""), 1024, too_large=TooLarge, empty=Empty)
    assert list((store.root() / "tmp").iterdir()) == []


def test_remove_and_referenced(store: filestore.Store, rows: Rows) -> None:
    """Does referenced ask the domain, and does remove delete the file once (True, then False)?"""
    store.place(store.stage_bytes(DATA))
    assert store.referenced({SHA}) == set() and not store.is_referenced(SHA)
    rows.digests.add(SHA)
    assert store.referenced({SHA, "0" * 64}) == {SHA} and store.is_referenced(SHA)
    assert store.remove(SHA) is True
    assert store.remove(SHA) is False
    assert not store.path_for(SHA).exists()


def test_an_address_is_only_ever_a_digest(store: filestore.Store) -> None:
    """Is anything but a lowercase sha256 refused before it becomes a path ('../' from a request)?"""
    for bad in ("../../etc/passwd", SHA.upper(), SHA[:-1], SHA + "0", ""):
        with pytest.raises(ValueError):
            store.path_for(bad)


def test_the_domain_stores_keep_their_folders(app: Any) -> None:
    """Do chat, approvals and the registry keep the folders (and store names) existing data lives in?"""
    data_dir = Path(app.config["DATA_DIR"])
    assert chat_files.STORE.root() == data_dir / "chat" / "files"
    assert attachment_store.STORE.root() == data_dir / "approvals" / "files"
    assert doc_files.STORE.root() == data_dir / "files"
    assert chat_files.path_for(SHA) == data_dir / "chat" / "files" / SHA[:2] / SHA[2:4] / SHA
    assert sorted(s.name for s in filestore.stores()) == ["approvals", "chat", "documents"]
