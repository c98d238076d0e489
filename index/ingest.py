"""Ingestion: files -> cleaned documents -> sentences and chunks -> a vector per chunk and per
sentence -> Chroma (chunk vectors) + catalog (documents, chunks, sentences with their vectors) + BM25.

Retrieval scores a chunk by its own vector and its best sentence's; the extractive answerer
reads the sentence vectors. Sentences are embedded on their own (`sentences="alone"`), or
pooled from the pass over the first chunk that holds them (`"in_chunk"`: one pass, faster).

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

import numpy as np

from index.catalog import Catalog
from index.chunk import chunk_document, holders, sentence_pieces
from index.embed import Embedder, embed_in_context
from index.lexical import LexicalIndex
from index.records import Chunk, Document
from index.store import ChromaStore
from rag.errors import BadDocument

Progress = Callable[[int, int], None]
_GROUP = 128  # documents embedded together (their chunks batched by length)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    embedded: int = 0            # chunks embedded (and their sentences)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
                f"{self.embedded} chunks embedded in {self.seconds:.1f}s")


@dataclass(frozen=True)
class Index:
    """The three stores that make up an index, opened together."""
    catalog: Catalog
    store: ChromaStore
    lexical_dir: Path


def ingest(paths: Sequence[Path], index: Index, embedder: Embedder, *, chunk_size: int,
           chunk_overlap: int, sentences: str = "alone", progress: Progress | None = None) -> IngestReport:
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
        report.embedded += _index_group(group, index, embedder, chunk_size, chunk_overlap, sentences)
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


@dataclass(frozen=True)
class Embedded:
    """A document cut and embedded: what gets stored for it."""
    doc: Document
    chunks: list[Chunk]
    spans: list[tuple[int, int]]        # its sentences (pieces), in order
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray        # one per span


def embed_documents(docs: Sequence[Document], embedder: Embedder, chunk_size: int,
                    chunk_overlap: int, sentences: str = "alone") -> list[Embedded]:
    """Cut each document and embed its chunks and sentences in one call (batched by length);
    with "in_chunk", a sentence is read in the first chunk that holds it."""
    spans = [sentence_pieces(doc.text, chunk_size) for doc in docs]
    chunks = [chunk_document(doc, chunk_size, chunk_overlap, ps) for doc, ps in zip(docs, spans)]
    held: list[list[int]] = []          # per chunk, over all documents: the sentences read in it
    for ps, cs in zip(spans, chunks):
        mine: list[list[int]] = [[] for _ in cs]
        for k, n in enumerate(holders(ps, cs)):
            mine[n].append(k)
        held.extend(mine)
    flat = [(c, ps) for ps, cs in zip(spans, chunks) for c in cs]
    vectors, inside = embed_in_context(
        embedder, [c.text for c, _ in flat],
        [[(ps[k][0] - c.start, ps[k][1] - c.start) for k in ks] for (c, ps), ks in zip(flat, held)],
        alone=sentences == "alone")
    out, at = [], 0
    for doc, cs, ps in zip(docs, chunks, spans):
        sentence_vectors = np.empty((len(ps), vectors.shape[1]), dtype=np.float32)
        for ks, vs in zip(held[at:at + len(cs)], inside[at:at + len(cs)]):
            sentence_vectors[ks] = vs
        out.append(Embedded(doc, cs, ps, vectors[at:at + len(cs)], sentence_vectors))
        at += len(cs)
    return out


def _index_group(docs: list[Document], index: Index, embedder: Embedder,
                 chunk_size: int, chunk_overlap: int, sentences: str) -> int:
    """Embed a group, then store it: all chunk vectors first, then the catalog rows (with the
    sentence vectors) in one transaction (the crash-safety order)."""
    group = embed_documents(docs, embedder, chunk_size, chunk_overlap, sentences)
    index.store.upsert([c for e in group for c in e.chunks], np.concatenate([e.chunk_vectors for e in group]))
    # a changed document (or one half-written by a crashed run) may have had more chunks
    index.store.delete_beyond({e.doc.doc_id: len(e.chunks) for e in group})
    index.catalog.replace_documents([(e.doc, e.chunks, e.spans, e.sentence_vectors) for e in group])
    return sum(len(e.chunks) for e in group)


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
