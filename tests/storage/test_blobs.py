"""The attachment store: content-addressed, written whole or not at all."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sdconsole.storage.blobs import BlobStore


def files(root: Path) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def test_put_many_stores_each_content_once_under_its_digest(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path)
    known = blobs.put(b"already here")
    items = [b"first", b"second", b"first", b"already here", b""]
    digests = blobs.put_many(items)
    assert digests == [hashlib.sha256(item).hexdigest() for item in items]
    assert digests[3] == known
    assert [blobs.get(d) for d in digests] == items
    assert files(tmp_path) == sorted(set(digests))  # no temporary file left behind
    assert blobs.put_many(items) == digests  # idempotent


def test_put_many_that_fails_leaves_no_blob_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = BlobStore(tmp_path)

    def no_space() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.sync", no_space)
    with pytest.raises(OSError, match="No space"):
        blobs.put_many([b"one", b"two"])
    assert files(tmp_path) == []


def test_put_many_without_a_file_system_sync_syncs_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr("os.sync")
    blobs = BlobStore(tmp_path)
    digests = blobs.put_many([b"one", b"two"])
    assert [blobs.get(d) for d in digests] == [b"one", b"two"]
