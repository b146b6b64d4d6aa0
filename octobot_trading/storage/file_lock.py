"""One engine per state file: an exclusive OS lock on a sidecar file next to the SQLite file.

The lock is ``fcntl.flock(LOCK_EX | LOCK_NB)`` on ``<file>.lock`` (created when missing, never
deleted: deleting it would let two engines lock two different files of the same name). Why this
lock:

* the kernel releases it when the descriptor is closed, including when the process dies
  (``kill -9``, a crash, an out-of-memory kill): a restart never finds a stale lock to clean up;
* ``flock`` locks belong to the open file description, so a second engine in the SAME process
  (its own descriptor) is refused too, unlike POSIX ``fcntl`` record locks, which a process
  shares with itself (and which SQLite itself uses on the database file);
* it works the same on Linux and macOS; it is not reliable on network filesystems (NFS, SMB):
  keep state files on a local disk.

The sidecar keeps the database file's own locking untouched, so SQLite's WAL mode keeps working.
The lock is taken on the file's real path (symbolic links resolved when the lock is taken), so
two engines opening the same file through different paths (a symbolic link to it, a linked
folder, ``..``) take the same lock. A hard link is a second name the lock cannot see: do not
hard-link state files.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from octobot_trading.errors import StorageError

__all__ = ["StateFileLock"]


class StateFileLock:
    """The exclusive lock of one state file (``<path>.lock``); see the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: the sidecar of the real file (set when the lock is taken: symbolic links resolved)
        self.lock_path = path.with_name(path.name + ".lock")
        #: the file the lock is for, symbolic links resolved (set when the lock is taken)
        self.real_path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise ``StorageError`` naming the file (another engine holds it)."""
        if self._fd is not None:
            return
        real = self.real_path = self.path.resolve()
        self.lock_path = real.with_name(real.name + ".lock")
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise StorageError(f"storage file {self.path}: cannot create its lock file ({exc.strerror})") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            raise StorageError(
                f"storage file {self.path}: locked by another engine (one engine per state file)"
            ) from exc
        self._fd = fd

    def release(self) -> None:
        """Release the lock (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
