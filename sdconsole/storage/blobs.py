"""Provides `BlobStore`: attachment bytes kept once per content (sha256), written atomically."""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

_WRITTEN = itertools.count()
"""Numbers this process's temporary files (one count for every store: ``next`` is atomic)."""


class BlobStore:
    """Content-addressed files under a folder: ``ab/abcd…`` by sha256, as git keeps its objects.

    A store made before kept them a folder deeper, ``ab/cd/abcd…``: those are read where they
    are. One level of 256 folders holds millions of files well; with two, nearly every blob of
    a young store made a folder as well as a file, and a new file-system entry is most of what
    writing a small blob costs.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: set[str] = set()
        """The ``ab`` folders known to exist (blobs are never removed, nor their folders)."""

    def path_for(self, sha256: str) -> Path:
        """Where the blob with this digest is written."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def _earlier_path(self, sha256: str) -> Path:
        """Where a store made before wrote it."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str) -> bool:
        """Whether the blob is stored (where it is written, or where a store made before
        wrote it)."""
        return self.path_for(sha256).exists() or self._earlier_path(sha256).exists()

    def put(self, data: bytes) -> str:
        """Store `data` (idempotent) and return its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if self.has(digest):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_many(self, items: Sequence[bytes]) -> list[str]:
        """Store many blobs (idempotent) and return their sha256s, in order.

        As durable as `put` when it returns, with one sync of the file system for the batch
        instead of one ``fsync`` a file (a batch of health reports attaches thousands): each new
        blob is written to a temporary file, all of them are synced at once, then each is
        renamed into place, so a crash never leaves a short file under a digest.
        """
        digests = [hashlib.sha256(data).hexdigest() for data in items]
        sync = getattr(os, "sync", None)
        if sync is None:  # no whole-file-system sync here: one fsync a file
            return [self.put(data) for data in items]
        pending: dict[str, tuple[str, str]] = {}
        root, pid = os.fspath(self.root), os.getpid()
        try:
            for digest, data in zip(digests, items, strict=True):
                folder = os.path.join(root, digest[:2])
                target = os.path.join(folder, digest)
                if (
                    digest in pending
                    or os.path.exists(target)
                    or os.path.exists(os.path.join(folder, digest[2:4], digest))
                ):
                    continue
                fd, tmp = self._temporary(folder, pid)
                pending[digest] = (tmp, target)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            if pending:
                sync()
            for tmp, target in pending.values():
                os.replace(tmp, target)
        except BaseException:
            for tmp, _target in pending.values():
                Path(tmp).unlink(missing_ok=True)
            raise
        return digests

    def _temporary(self, folder: str, pid: int) -> tuple[int, str]:
        """A new temporary file in `folder` (made if need be), opened for writing: named by
        this process and a count (cheaper than `tempfile.mkstemp`'s random names), created
        exclusively."""
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            self._folders.add(folder)
        tmp = os.path.join(folder, f".tmp-{pid}-{next(_WRITTEN)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:  # left by a process that had this pid and died
            return tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except FileNotFoundError:  # the folder went away under us
            self._folders.discard(folder)
            os.makedirs(folder, exist_ok=True)
            return tempfile.mkstemp(dir=folder, prefix=".tmp-")

    def get(self, sha256: str) -> bytes:
        """Read a blob back.

        Raises:
            FileNotFoundError: no blob has this digest.
        """
        try:
            return self.path_for(sha256).read_bytes()
        except FileNotFoundError:
            return self._earlier_path(sha256).read_bytes()
