"""Locks on the index, shared by every process and thread that opens the same home.

Two lock files in RAG_HOME, held with fcntl.flock (the kernel drops them when a process dies,
so a crash never leaves one behind):

- `write.lock`: held exclusively by a writer (ingest, delete, upload, rebuild) for its whole
  run, so two writers never interleave.
- `read.lock`: held shared by a reader while it retrieves (milliseconds), and exclusively by a
  writer only while it changes what readers see (a group's vectors stored, the catalog switched,
  superseded vectors deleted). The slow part of a write, embedding, holds only `write.lock`, so
  readers never wait on a writer for more than a moment.

Both are re-entrant within a thread (an upload holds `write.lock` around the ingest it runs),
and a thread that holds `read.lock` exclusively may read without taking it again. flock lets
new shared holders in while an exclusive one waits, so readers pass a turnstile (`turn.lock`,
held shared for a moment) that a writer holds while it waits: a stream of questions cannot
starve a writer.
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from pathlib import Path

_held = threading.local()    # per thread: {(lock file, mode): depth}


class HomeLock:
    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    @contextmanager
    def writer(self):
        """Exclusive among writers, for the whole of one write operation."""
        with self._flock("write.lock", fcntl.LOCK_EX):
            yield

    def publishing(self):
        """Exclusive against readers, while a writer changes what they see."""
        return self._read_lock(fcntl.LOCK_EX)

    def reading(self):
        """Shared: what a reader reads does not change under it."""
        return self._read_lock(fcntl.LOCK_SH)

    @contextmanager
    def _read_lock(self, mode: int):
        """`read.lock` in `mode`, taken through the turnstile (held in the same mode only while
        read.lock is acquired); nothing to take when this thread already publishes, as a
        writer sees its own changes. A thread that already holds it in `mode` takes it again
        without the turnstile: a writer waiting there waits for this thread's hold, so passing
        the turnstile again would wait for ever."""
        if self._depth("read.lock", fcntl.LOCK_EX):
            yield
            return
        if self._depth("read.lock", mode):
            with self._flock("read.lock", mode):
                yield
            return
        with self._flock("turn.lock", mode):
            lock = self._flock("read.lock", mode)
            lock.__enter__()
        try:
            yield
        finally:
            lock.__exit__(None, None, None)

    def _depth(self, name: str, mode: int) -> int:
        return getattr(_held, "locks", {}).get((str(self.home.resolve() / name), mode), 0)

    @contextmanager
    def _flock(self, name: str, mode: int):
        held = _held.__dict__.setdefault("locks", {})
        key = (str(self.home.resolve() / name), mode)
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(key[0], os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            held[key] = 1
            try:
                yield
            finally:
                held.pop(key, None)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
