"""An embedding cache for benchmarks: wraps any Embedder and remembers vectors by text hash.

Vectors live in one SQLite file keyed by (model id, sha1 of the text), so rebuilding a benchmark
index (another chunk size, a wiped home) only embeds texts it has never seen. It is a plain
Embedder (`model_id`, `dim`, `embed`), handed to `Assistant(embedder=...)`; it knows nothing
of indexes or questions. Not meant for the product's own ingest path, which is incremental
already.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Sequence

import numpy as np


class CachingEmbedder:
    def __init__(self, inner, path: Path | None = None) -> None:
        """`path=None` keeps the cache in memory (for one process, e.g. one eval run)."""
        self.inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else path, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")
        self.hits = self.misses = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall()
            found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
        missing = sorted({i for i, k in enumerate(keys) if k not in found}, key=lambda i: keys[i])
        todo, seen = [], set()
        for i in missing:
            if keys[i] not in seen:
                seen.add(keys[i])
                todo.append(i)
        if todo:
            vectors = np.asarray(self.inner.embed([texts[i] for i in todo]), dtype=np.float32)
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                 [(keys[i], v.tobytes()) for i, v in zip(todo, vectors)])
            self._db.execute("COMMIT")
            found.update((keys[i], v) for i, v in zip(todo, vectors))
        self.hits += len(texts) - len(todo)
        self.misses += len(todo)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.model_id}\x00{text}".encode("utf-8")).hexdigest()

    def close(self) -> None:
        self._db.close()
