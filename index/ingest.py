"""Ingestion: files -> cleaned documents -> sentences and chunks -> one embedding per sentence
-> Chroma (sentence vectors) + catalog (documents, chunks, sentences) + BM25 (chunks).

Only sentences are embedded: a chunk's dense score is its best sentence's, and the extractive
answerer reads the same vectors, so no text is embedded twice.

Incremental and idempotent: a file whose size and mtime are what they were when it was stored
is not even read; a document whose cleaned text hashes the same as before costs no embedding
work (and the model is never loaded when nothing needs embedding); a changed one replaces its
chunks; a file gone from an ingested folder is removed. Crash-safe by ordering: a group's
vectors are written first and its catalog rows last (one transaction), and file stamps after
that, so after a crash the catalog still holds the old hashes and the next run redoes exactly
those documents; chunk ids are deterministic, so redoing it converges. The lexical
index is rebuilt whenever it is older than the catalog.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence


from index.catalog import Catalog
from index.chunk import chunk_document, locate, sentence_pieces
from index.embed import Embedder
from index.lexical import LexicalIndex
from index.records import Document
from index.store import ChromaStore
from rag.errors import BadDocument

Progress = Callable[[int, int], None]
_GROUP = 128  # documents embedded together (their sentences batched by length)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    embedded: int = 0            # sentences embedded
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
                f"{self.embedded} sentences embedded in {self.seconds:.1f}s")


@dataclass(frozen=True)
class Index:
    """The three stores that make up an index, opened together."""
    catalog: Catalog
    store: ChromaStore
    lexical_dir: Path


def ingest(paths: Sequence[Path], index: Index, embedder: Embedder, *, chunk_size: int,
           chunk_overlap: int, progress: Progress | None = None) -> IngestReport:
    from index.load import find_files, load  # here, so answering never imports the cleaners

    started = time.perf_counter()
    report = IngestReport()
    known = index.catalog.hashes()
    stamps = index.catalog.stamps()
    fresh: list[tuple[str, str, str, str]] = []   # stamps to record once the documents are stored
    docs: list[Document] = []
    seen: set[str] = set()
    for path in find_files(paths):
        source, stamp = _stamp(path)
        old = stamps.get(source)
        if old and stamp and old[0] == stamp and old[1] not in seen and known.get(old[1], ("",))[0] == old[2]:
            seen.add(old[1])                # same size and mtime as when it was stored: not read
            report.unchanged.append(old[1])
            continue
        try:
            doc = load(path)
        except BadDocument as exc:
            report.skipped.append((path.name, str(exc)))
            continue
        if doc.doc_id in seen:
            report.skipped.append((path.name, f"{path.name}: another file already has id {doc.doc_id}; rename it"))
            continue
        seen.add(doc.doc_id)
        fresh.append((source, stamp, doc.doc_id, doc.content_hash))
        if known.get(doc.doc_id, ("",))[0] == doc.content_hash:
            report.unchanged.append(doc.doc_id)
        else:
            docs.append(doc)

    total = len(docs)
    for i in range(0, total, _GROUP):
        group = docs[i:i + _GROUP]
        report.embedded += _index_group(group, index, embedder, chunk_size, chunk_overlap)
        for doc in group:
            (report.updated if doc.doc_id in known else report.added).append(doc.doc_id)
        if progress:
            progress(min(i + _GROUP, total), total)

    index.catalog.set_stamps(fresh)
    for doc_id in _gone(known, seen, [p for p in paths if p.is_dir()]):
        remove(doc_id, index)
        report.removed.append(doc_id)

    refresh_lexical(index)
    report.seconds = time.perf_counter() - started
    return report


def remove(doc_id: str, index: Index) -> None:
    index.store.delete_document(doc_id)
    index.catalog.delete_document(doc_id)


def refresh_lexical(index: Index) -> None:
    if LexicalIndex.saved_generation(index.lexical_dir) != index.catalog.generation:
        LexicalIndex.build(index.catalog.all_chunks(), index.catalog.generation).save(index.lexical_dir)


def _index_group(docs: list[Document], index: Index, embedder: Embedder,
                 chunk_size: int, chunk_overlap: int) -> int:
    """Embed a group's sentences in one call (batched by length), then store them: all vectors
    first, then the catalog rows in one transaction (the crash-safety order)."""
    spans = [sentence_pieces(doc.text, chunk_size) for doc in docs]
    chunks = [chunk_document(doc, chunk_size, chunk_overlap, ps) for doc, ps in zip(docs, spans)]
    vectors = embedder.embed([doc.text[s:e] for doc, ps in zip(docs, spans) for s, e in ps])
    index.store.upsert([s for doc, ps, cs in zip(docs, spans, chunks)
                        for s in locate(doc.doc_id, ps, cs)], vectors)
    # a changed document (or one half-written by a crashed run) may have had more sentences
    index.store.delete_beyond({doc.doc_id: len(ps) for doc, ps in zip(docs, spans)})
    rows, at = [], 0
    for doc, cs, ps in zip(docs, chunks, spans):
        rows.append((doc, cs, ps, vectors[at:at + len(ps)]))
        at += len(ps)
    index.catalog.replace_documents(rows)
    return len(vectors)


def _stamp(path: Path) -> tuple[str, str]:
    """The file's resolved path (the document's `source`) and a stamp of its size and mtime."""
    try:
        st = path.stat()
    except OSError:
        return str(path), ""
    return str(path.resolve()), f"{st.st_size}:{st.st_mtime_ns}"


def _gone(known: dict[str, tuple[str, str]], seen: set[str], folders: list[Path]) -> list[str]:
    """Documents once ingested from one of these folders whose file is no longer there."""
    roots = [str(f.resolve()) + "/" for f in folders]
    return sorted(doc_id for doc_id, (_, source) in known.items()
                  if doc_id not in seen and any(source.startswith(r) for r in roots))
