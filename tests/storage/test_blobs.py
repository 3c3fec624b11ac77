"""The attachment store: content-addressed, written whole or not at all."""

from __future__ import annotations

import hashlib
import itertools
import os
from pathlib import Path

import pytest

from sdconsole.storage import blobs as blobs_module
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


def test_put_many_steps_round_a_stale_temporary_file_and_a_vanished_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = BlobStore(tmp_path)
    # The next temporary name is taken: a dead process of the same pid left it.
    monkeypatch.setattr(blobs_module, "_WRITTEN", itertools.count(10**9))
    folder = blobs.path_for(hashlib.sha256(b"one").hexdigest()).parent
    folder.mkdir(parents=True)
    (folder / f".tmp-{os.getpid()}-{10**9}").write_bytes(b"stale")
    digest = blobs.put_many([b"one"])[0]
    assert blobs.get(digest) == b"one"
    assert (folder / f".tmp-{os.getpid()}-{10**9}").read_bytes() == b"stale"  # not touched
    # The folder, which the store made and remembers, removed under it: made again.
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    assert blobs.get(blobs.put_many([b"one"])[0]) == b"one"


def test_blobs_are_one_folder_deep_and_an_earlier_stores_are_read_where_they_are(
    tmp_path: Path,
) -> None:
    blobs = BlobStore(tmp_path)
    digest = blobs.put_many([b"new"])[0]
    assert (tmp_path / digest[:2] / digest).read_bytes() == b"new"
    # A store made before wrote its blobs a folder deeper: read there, never written again.
    old = hashlib.sha256(b"old").hexdigest()
    (tmp_path / old[:2] / old[2:4]).mkdir(parents=True)
    (tmp_path / old[:2] / old[2:4] / old).write_bytes(b"old")
    assert blobs.has(old) and blobs.get(old) == b"old"
    assert blobs.put(b"old") == old and blobs.put_many([b"old", b"new"]) == [old, digest]
    assert not blobs.path_for(old).exists()
    assert files(tmp_path) == sorted([digest, old])
    with pytest.raises(FileNotFoundError):
        blobs.get(hashlib.sha256(b"never stored").hexdigest())
