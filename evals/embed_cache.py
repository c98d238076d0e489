"""An embedding cache for benchmarks: wraps any Embedder and remembers vectors by text hash.

Vectors live in one SQLite file keyed by (model id, sha1 of the text), so rebuilding a benchmark
index (another chunk size, a wiped home) only embeds texts it has never seen. It is a plain
Embedder (`model_id`, `dim`, `embed`, `embed_spans`), handed to `Assistant(embedder=...)`; it knows nothing
of indexes or questions. Not meant for the product's own ingest path, which is incremental
already.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from index.embed import Spans, embed_in_context


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
        rows = self._cached([self._key(t) for t in texts], [1] * len(texts),
                            lambda todo: self.inner.embed([texts[i] for i in todo]))
        return np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Cached by text and spans: one row for the text, then one per span."""
        def compute(todo: list[int]) -> list[np.ndarray]:
            whole, parts = embed_in_context(self.inner, [texts[i] for i in todo], [spans[i] for i in todo])
            return [np.vstack([w[None], p]) for w, p in zip(whole, parts)]

        rows = self._cached([self._key(f"{t}\x00{list(map(tuple, ss))}") for t, ss in zip(texts, spans)],
                            [1 + len(ss) for ss in spans], compute)
        whole = np.stack([r[0] for r in rows]) if rows else np.zeros((0, self.dim), dtype=np.float32)
        return whole, [r[1:] for r in rows]

    def _cached(self, keys: list[str], n_rows: list[int],
                compute: Callable[[list[int]], Sequence[np.ndarray]]) -> list[np.ndarray]:
        """One stored (n_rows, dim) array per key; missing ones come from `compute(positions)`."""
        shape = dict(zip(keys, n_rows))
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            rows = self._db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall()
            found.update((k, np.frombuffer(v, dtype=np.float32).reshape(shape[k], -1)) for k, v in rows)
        todo, seen = [], set()
        for i, k in enumerate(keys):
            if k not in found and k not in seen:
                seen.add(k)
                todo.append(i)
        if todo:
            made = [np.asarray(v, dtype=np.float32).reshape(shape[keys[i]], -1)
                    for i, v in zip(todo, compute(todo))]
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                 [(keys[i], v.tobytes()) for i, v in zip(todo, made)])
            self._db.execute("COMMIT")
            found.update((keys[i], v) for i, v in zip(todo, made))
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        return [found[k] for k in keys]

    def _key(self, text: str) -> str:
        return hashlib.sha1(f"{self.model_id}\x00{text}".encode("utf-8")).hexdigest()

    def close(self) -> None:
        self._db.close()
