"""The catalog: what is indexed, kept in one SQLite file (WAL mode) in the home directory.

It holds, per document, its cleaned text, hash, title and date; per chunk, its text and offsets;
per sentence, its offsets and embedding (so answering never re-embeds passages); per source file,
its size and mtime when last ingested (so an unchanged file is not even read again); the paths
the index was built from (`sources`, so recovery advice can name them); and in `meta` the
settings that built the index, its id (also stamped on the vector store's collection), and:

- `generation`: counts published changes; the lexical index built for it is named in `lexical`.
- `epoch`: counts writes to the vector store, so a reader in another process knows to reopen it.

Writers stage a document's rows first (`stage_documents`, one transaction per group) and make
them visible all at once with `publish`, so a reader sees the old index or the new one, never
part of an ingest; a crashed ingest's staged rows are reused by the next run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from index.records import Chunk, Document, Span
from rag.errors import IndexCorrupted, IndexMismatch

SCHEMA_VERSION = 4   # 4: staged publishing; vector ids carry the document's content hash
_DOCS = "(doc_id TEXT PRIMARY KEY, title TEXT, source TEXT, date TEXT, content_hash TEXT, text TEXT, " \
        "n_chunks INTEGER, ingested_at TEXT)"
_CHUNKS = '(chunk_id TEXT PRIMARY KEY, doc_id TEXT, n INTEGER, start INTEGER, "end" INTEGER, text TEXT)'
_SENTENCES = '(doc_id TEXT, start INTEGER, "end" INTEGER, vec BLOB, PRIMARY KEY (doc_id, start))'
_TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs {_DOCS};
CREATE TABLE IF NOT EXISTS chunks {_CHUNKS};
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id);
CREATE TABLE IF NOT EXISTS sentences {_SENTENCES};
CREATE TABLE IF NOT EXISTS stamps (source TEXT PRIMARY KEY, stamp TEXT, doc_id TEXT,
    content_hash TEXT);
CREATE TABLE IF NOT EXISTS sources (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS stage_docs {_DOCS};
CREATE TABLE IF NOT EXISTS stage_chunks {_CHUNKS};
CREATE TABLE IF NOT EXISTS stage_sentences {_SENTENCES};
"""
SOURCES_FILE = "sources.json"   # a copy of `sources` beside the catalog, for when it is unreadable


def vector_id(chunk_id: str, content_hash: str) -> str:
    """The id of a chunk's vector in the store: its chunk id and its document's content hash, so
    a changed document's new vectors sit beside the old ones until the catalog switches."""
    return f"{chunk_id}@{content_hash}"


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
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        with self._guard():
            if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._db.execute("PRAGMA journal_mode=WAL")   # readers never wait on a writer
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_TABLES)

    # -- identity -------------------------------------------------------------------------
    def check_identity(self, identity: dict, fix: str = "`rag ingest --rebuild`") -> None:
        """Record what builds the index (and give it an id), or refuse if it was built with
        something else. `fix` is the command that rebuilds it from its own sources."""
        stored = self._meta("identity")
        if stored is None:
            with self._guard(), self._transaction():
                if self._meta("identity") is None:
                    self._set_meta("identity", json.dumps(identity, sort_keys=True))
                    self._set_meta("index_id", uuid.uuid4().hex)
            return
        try:
            old = json.loads(stored)
        except json.JSONDecodeError:
            raise IndexCorrupted(f"{self.path} has an unreadable identity record: "
                                 f"rebuild with {fix}") from None
        diffs = [f"{k}={old.get(k)!r} (now {v!r})" for k, v in identity.items() if old.get(k) != v]
        if diffs:
            raise IndexMismatch(f"the index in {self.path.parent} was built with {', '.join(diffs)}: "
                                f"rebuild it with {fix}, or use the settings it was built with")

    @property
    def index_id(self) -> str:
        """This index's id, stamped on its vector store's collection ("" before the first ingest)."""
        return self._meta("index_id") or ""

    @property
    def generation(self) -> int:
        return int(self._meta("generation") or 0)

    def state(self) -> tuple[str, int, int, str]:
        """(index id, generation, epoch, lexical index folder), read together."""
        with self._guard():
            rows = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN "
                                         "('index_id', 'generation', 'epoch', 'lexical')").fetchall())
        return (rows.get("index_id", ""), int(rows.get("generation", 0)), int(rows.get("epoch", 0)),
                rows.get("lexical", ""))

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

    def vector_ids(self, doc_ids: Iterable[str] | None = None, *, staged: bool = True) -> set[str]:
        """The vector ids the store should hold for these documents (all when None): those of
        their published chunks, and with `staged`, of their staged ones."""
        tables = [("docs", "chunks")] + ([("stage_docs", "stage_chunks")] if staged else [])
        out: set[str] = set()
        with self._guard():
            for docs, chunks in tables:
                sql = f"SELECT c.chunk_id, d.content_hash FROM {chunks} c JOIN {docs} d USING (doc_id)"
                if doc_ids is None:
                    rows = self._db.execute(sql).fetchall()
                else:
                    rows = [r for d in doc_ids
                            for r in self._db.execute(sql + " WHERE c.doc_id = ?", (d,)).fetchall()]
                out.update(vector_id(cid, h) for cid, h in rows)
        return out

    def vector_count(self) -> tuple[int, int]:
        """(published chunks, staged chunks): what the store should hold, counted cheaply."""
        with self._guard():
            return (self._db.execute("SELECT count(*) FROM chunks").fetchone()[0],
                    self._db.execute("SELECT count(*) FROM stage_chunks").fetchone()[0])

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

    def versions(self) -> dict[str, str]:
        """doc_id -> content hash of every published document (the version its vectors carry)."""
        with self._guard():
            return dict(self._db.execute("SELECT doc_id, content_hash FROM docs").fetchall())

    def staged(self) -> dict[str, tuple[str, int]]:
        """doc_id -> (content hash, chunks) of documents staged but not yet published."""
        with self._guard():
            rows = self._db.execute("SELECT doc_id, content_hash, n_chunks FROM stage_docs").fetchall()
        return {doc_id: (h, n) for doc_id, h, n in rows}

    def layout(self) -> dict[str, tuple[str, int, list[int], int]]:
        """Per published document: (content hash, n_chunks recorded, chunk numbers stored,
        sentences stored), for the consistency check."""
        with self._guard():
            docs = self._db.execute("SELECT doc_id, content_hash, n_chunks FROM docs").fetchall()
            chunks = self._db.execute("SELECT doc_id, n FROM chunks ORDER BY doc_id, n").fetchall()
            sentences = dict(self._db.execute("SELECT doc_id, count(*) FROM sentences GROUP BY doc_id"))
        ns: dict[str, list[int]] = {}
        for doc_id, n in chunks:
            ns.setdefault(doc_id, []).append(n)
        out = {doc_id: (h, n, ns.pop(doc_id, []), sentences.pop(doc_id, 0)) for doc_id, h, n in docs}
        for doc_id in set(ns) | set(sentences):     # rows of no document
            out[doc_id] = ("", -1, ns.get(doc_id, []), sentences.get(doc_id, 0))
        return out

    def sources(self) -> list[str]:
        """The paths (files and folders) the index was built from."""
        with self._guard():
            return [p for (p,) in self._db.execute("SELECT path FROM sources ORDER BY path")]

    # -- writes ---------------------------------------------------------------------------
    def stage_documents(self, items: Sequence[tuple[Document, Sequence[Chunk],
                                                   Sequence[tuple[int, int]], np.ndarray]]) -> None:
        """Stage several documents in one transaction (all of them, or none); readers see
        nothing of them until `publish`. Counts as a write to the vector store (`epoch`): the
        caller stored their vectors just before."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._guard(), self._transaction():
            for doc, chunks, sentences, sentence_vectors in items:
                vectors = np.asarray(sentence_vectors, dtype=np.float16)
                self._delete_rows(doc.doc_id, "stage_")
                self._db.execute("INSERT INTO stage_docs VALUES (?,?,?,?,?,?,?,?)",
                                 (doc.doc_id, doc.title, doc.source, doc.date, doc.content_hash,
                                  doc.text, len(chunks), now))
                self._db.executemany("INSERT INTO stage_chunks VALUES (?,?,?,?,?,?)",
                                     [(c.chunk_id, c.doc_id, c.n, c.start, c.end, c.text) for c in chunks])
                self._db.executemany("INSERT INTO stage_sentences VALUES (?,?,?,?)",
                                     [(doc.doc_id, s, e, vectors[i].tobytes())
                                      for i, (s, e) in enumerate(sentences)])
            self._bump("epoch")

    def unstage(self, doc_ids: Iterable[str]) -> None:
        with self._guard(), self._transaction():
            for doc_id in doc_ids:
                self._delete_rows(doc_id, "stage_")

    def record(self, stamps: Sequence[tuple[str, str, str, str]], sources: Sequence[str]) -> None:
        """Record file stamps and source paths when nothing else changed (no new generation)."""
        with self._guard(), self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO stamps VALUES (?,?,?,?)", stamps)
            self._db.executemany("INSERT OR IGNORE INTO sources VALUES (?)", [(p,) for p in sources])
        self.write_sources_file()

    def begin(self) -> None:
        """Open the transaction that `publish` fills and `commit` ends (nobody sees it before)."""
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")

    def publish(self, doc_ids: Sequence[str], removed: Sequence[str] = (),
                stamps: Sequence[tuple[str, str, str, str]] = (), sources: Sequence[str] = ()) -> None:
        """Inside `begin`: make these staged documents the published ones, remove `removed`
        (and any source recorded as exactly a removed document's file), record file stamps
        `(source, stamp, doc_id, content_hash)` and source paths; drop what else is staged."""
        with self._guard():
            for doc_id in doc_ids:
                self._delete_rows(doc_id, "", stamps=False)
                for table in ("docs", "chunks", "sentences"):
                    self._db.execute(f"INSERT INTO {table} SELECT * FROM stage_{table} WHERE doc_id = ?",
                                     (doc_id,))
            for doc_id in removed:
                row = self._db.execute("SELECT source FROM docs WHERE doc_id = ?", (doc_id,)).fetchone()
                if row:
                    self._db.execute("DELETE FROM sources WHERE path = ?", row)
                self._delete_rows(doc_id, "")
            for table in ("stage_docs", "stage_chunks", "stage_sentences"):
                self._db.execute(f"DELETE FROM {table}")
            self._db.executemany("INSERT OR REPLACE INTO stamps VALUES (?,?,?,?)", stamps)
            self._db.executemany("INSERT OR IGNORE INTO sources VALUES (?)", [(p,) for p in sources])

    def commit(self, lexical: str) -> None:
        """End the `publish` transaction: the new generation, its lexical index folder, and a
        write to the vector store to come (`epoch`), all visible at once."""
        with self._guard():
            self._set_meta("lexical", lexical)
            self._bump("generation")
            self._bump("epoch")
            self._db.execute("COMMIT")
        self.write_sources_file()

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    @property
    def seal(self) -> str:
        """The embedded store's file fingerprint as the last complete write left it ("" when a
        write to the store began since, or it was never sealed): see index/check.py."""
        return self._meta("store_seal") or ""

    def set_seal(self, fingerprint: str) -> None:
        with self._guard(), self._transaction():
            self._set_meta("store_seal", fingerprint)

    def unseal(self) -> None:
        """Say that the store is about to be written (committed before the first write)."""
        if self.seal:
            with self._guard(), self._transaction():
                self._db.execute("DELETE FROM meta WHERE key = 'store_seal'")

    def bump_epoch(self) -> None:
        with self._guard(), self._transaction():
            self._bump("epoch")

    def write_sources_file(self) -> None:
        """Copy `sources` beside the catalog (atomically), so advice can name them even when the
        catalog cannot be read."""
        target = self.path.parent / SOURCES_FILE
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.sources()))
        os.replace(tmp, target)

    def close(self) -> None:
        self._db.close()

    # -- internals ------------------------------------------------------------------------
    def _delete_rows(self, doc_id: str, prefix: str, stamps: bool = True) -> None:
        for table in ("docs", "chunks", "sentences"):
            self._db.execute(f"DELETE FROM {prefix}{table} WHERE doc_id = ?", (doc_id,))
        if stamps and not prefix:
            self._db.execute("DELETE FROM stamps WHERE doc_id = ?", (doc_id,))

    def _bump(self, key: str) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(int(row[0] if row else 0) + 1)))

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
            from index.advice import fix_command

            raise IndexCorrupted(f"the catalog {self.path} is damaged ({exc}); rebuild it with "
                                 f"{fix_command(self.path.parent, rebuild=True)} (your source files "
                                 "are untouched)") from None
