"""The catalog: what is indexed, kept in one SQLite file in the home directory.

It holds, per document, its cleaned text, hash, title and date; per chunk, its text and offsets;
per sentence, its offsets and embedding (so answering never re-embeds passages); per source file,
its size and mtime when last ingested (so an unchanged file is not even read again); and the
settings that built the index. Documents are replaced in transactions, which is what makes
ingestion crash-safe. `generation` counts committed changes, so derived indexes can tell they are stale.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from index.records import Chunk, Document, Span
from rag.errors import IndexCorrupted, IndexMismatch

SCHEMA_VERSION = 3   # 3: chunk vectors in Chroma again, sentence vectors in the catalog
_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (doc_id TEXT PRIMARY KEY, title TEXT, source TEXT, date TEXT,
    content_hash TEXT, text TEXT, n_chunks INTEGER, ingested_at TEXT);
CREATE TABLE IF NOT EXISTS chunks (chunk_id TEXT PRIMARY KEY, doc_id TEXT, n INTEGER,
    start INTEGER, "end" INTEGER, text TEXT);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS sentences (doc_id TEXT, start INTEGER, "end" INTEGER, vec BLOB,
    PRIMARY KEY (doc_id, start));
CREATE TABLE IF NOT EXISTS stamps (source TEXT PRIMARY KEY, stamp TEXT, doc_id TEXT,
    content_hash TEXT);
"""


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    title: str
    source: str
    date: str
    n_chunks: int
    ingested_at: str
    content_hash: str


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with self._guard():
            self._db.executescript(_TABLES)

    # -- identity -------------------------------------------------------------------------
    def check_identity(self, identity: dict) -> None:
        """Record what builds the index, or refuse if it was built with something else."""
        stored = self._meta("identity")
        if stored is None:
            self._set_meta("identity", json.dumps(identity, sort_keys=True))
            return
        try:
            old = json.loads(stored)
        except json.JSONDecodeError:
            raise IndexCorrupted(f"{self.path} has an unreadable identity record: "
                                 "rebuild with `rag ingest --rebuild`") from None
        diffs = [f"{k}={old.get(k)!r} (now {v!r})" for k, v in identity.items() if old.get(k) != v]
        if diffs:
            raise IndexMismatch(f"the index in {self.path.parent} was built with {', '.join(diffs)}: "
                                "rebuild it with `rag ingest --rebuild`, or use the settings it was built with")

    @property
    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    # -- reads ----------------------------------------------------------------------------
    def hashes(self) -> dict[str, tuple[str, str]]:
        with self._guard():
            rows = self._db.execute("SELECT doc_id, content_hash, source FROM docs").fetchall()
        return {doc_id: (h, src) for doc_id, h, src in rows}

    def stamps(self) -> dict[str, tuple[str, str, str]]:
        """source path -> (file stamp, doc_id, content hash) as of the file's last ingest."""
        with self._guard():
            rows = self._db.execute("SELECT source, stamp, doc_id, content_hash FROM stamps").fetchall()
        return {source: (stamp, doc_id, h) for source, stamp, doc_id, h in rows}

    def docs(self) -> list[DocInfo]:
        with self._guard():
            rows = self._db.execute("SELECT doc_id, title, source, date, n_chunks, ingested_at, "
                                    "content_hash FROM docs ORDER BY doc_id").fetchall()
        return [DocInfo(*row) for row in rows]

    def document(self, doc_id: str) -> Document | None:
        with self._guard():
            row = self._db.execute("SELECT doc_id, title, text, source, date, content_hash FROM docs "
                                   "WHERE doc_id = ?", (doc_id,)).fetchone()
        return Document(*row) if row else None

    def chunks(self, chunk_ids: Sequence[str]) -> dict[str, tuple[Chunk, str, str]]:
        """Chunks by id, each with its document's title and date."""
        marks = ",".join("?" * len(chunk_ids))
        with self._guard():
            rows = self._db.execute(
                f'SELECT c.chunk_id, c.doc_id, c.n, c.text, c.start, c."end", d.title, d.date '
                f"FROM chunks c JOIN docs d USING (doc_id) WHERE c.chunk_id IN ({marks})",
                list(chunk_ids)).fetchall()
        return {row[0]: (Chunk(*row[:6]), row[6], row[7]) for row in rows}

    def best_sentences(self, chunk_ids: Sequence[str], vector: np.ndarray) -> dict[str, float]:
        """For each chunk, the highest similarity of one of its sentences to `vector`."""
        marks = ",".join("?" * len(chunk_ids))
        with self._guard():
            rows = self._db.execute(
                f"SELECT c.chunk_id, s.vec FROM chunks c JOIN sentences s ON s.doc_id = c.doc_id "
                f'AND s.start >= c.start AND s."end" <= c."end" WHERE c.chunk_id IN ({marks})',
                list(chunk_ids)).fetchall()
        if not rows:
            return {}
        scores = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float16).reshape(len(rows), -1) \
            .astype(np.float32) @ np.asarray(vector, dtype=np.float32)
        best: dict[str, float] = {}
        for (cid, _), score in zip(rows, scores.tolist()):
            if score > best.get(cid, -2.0):
                best[cid] = score
        return best

    def all_chunks(self) -> Iterator[tuple[str, str]]:
        with self._guard():
            yield from self._db.execute("SELECT chunk_id, text FROM chunks ORDER BY doc_id, n")

    def chunk_count(self) -> int:
        with self._guard():
            return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def sentence_count(self) -> int:
        with self._guard():
            return self._db.execute("SELECT count(*) FROM sentences").fetchone()[0]

    def sentences(self, chunks: Iterable[Chunk]) -> list[tuple[Span, np.ndarray]]:
        """Sentences inside the given chunks (each once), with their stored embeddings."""
        seen: set[tuple[str, int]] = set()
        out: list[tuple[Span, np.ndarray]] = []
        texts: dict[str, str] = {}
        with self._guard():
            for chunk in chunks:
                if chunk.doc_id not in texts:
                    texts[chunk.doc_id] = self._db.execute(
                        "SELECT text FROM docs WHERE doc_id = ?", (chunk.doc_id,)).fetchone()[0]
                rows = self._db.execute('SELECT start, "end", vec FROM sentences WHERE doc_id = ? '
                                        'AND start >= ? AND "end" <= ? ORDER BY start',
                                        (chunk.doc_id, chunk.start, chunk.end)).fetchall()
                for start, end, vec in rows:
                    if (chunk.doc_id, start) in seen:
                        continue
                    seen.add((chunk.doc_id, start))
                    span = Span(chunk.doc_id, start, end, texts[chunk.doc_id][start:end])
                    out.append((span, np.frombuffer(vec, dtype=np.float16).astype(np.float32)))
        return out

    # -- writes ---------------------------------------------------------------------------
    def replace_document(self, doc: Document, chunks: Sequence[Chunk],
                         sentences: Sequence[tuple[int, int]], sentence_vectors: np.ndarray) -> None:
        self.replace_documents([(doc, chunks, sentences, sentence_vectors)])

    def replace_documents(self, items: Sequence[tuple[Document, Sequence[Chunk],
                                                     Sequence[tuple[int, int]], np.ndarray]]) -> None:
        """Replace several documents in one transaction: all of them land, or none."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._guard(), self._transaction():
            for doc, chunks, sentences, sentence_vectors in items:
                vectors = np.asarray(sentence_vectors, dtype=np.float16)
                self._delete_rows(doc.doc_id)
                self._db.execute("INSERT INTO docs VALUES (?,?,?,?,?,?,?,?)",
                                 (doc.doc_id, doc.title, doc.source, doc.date, doc.content_hash,
                                  doc.text, len(chunks), now))
                self._db.executemany('INSERT INTO chunks VALUES (?,?,?,?,?,?)',
                                     [(c.chunk_id, c.doc_id, c.n, c.start, c.end, c.text) for c in chunks])
                self._db.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                                     [(doc.doc_id, s, e, vectors[i].tobytes())
                                      for i, (s, e) in enumerate(sentences)])
            self._bump()

    def set_stamps(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """Record (source, stamp, doc_id, content_hash) for files whose document is stored."""
        if rows:
            with self._guard(), self._transaction():
                self._db.executemany("INSERT OR REPLACE INTO stamps VALUES (?,?,?,?)", rows)

    def delete_document(self, doc_id: str) -> None:
        with self._guard(), self._transaction():
            self._delete_rows(doc_id)
            self._bump()

    def close(self) -> None:
        self._db.close()

    # -- internals ------------------------------------------------------------------------
    def _delete_rows(self, doc_id: str) -> None:
        for table in ("docs", "chunks", "sentences", "stamps"):
            self._db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))

    def _bump(self) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(self.generation + 1),))

    def _meta(self, key: str) -> str | None:
        with self._guard():
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        with self._guard():
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _transaction(self):
        return _Transaction(self._db)

    def _guard(self):
        return _Guard(self.path)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, exc, tb) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


class _Guard:
    """Turn SQLite's 'file is not a database' and friends into IndexCorrupted."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None and issubclass(kind, sqlite3.DatabaseError):
            raise IndexCorrupted(f"the catalog {self.path} is damaged ({exc}); rebuild it with "
                                 "`rag ingest --rebuild` (your source files are untouched)") from None
