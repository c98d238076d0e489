"""Ingestion: files -> cleaned documents -> sentences and chunks -> a vector per chunk and per
sentence -> Chroma (chunk vectors) + catalog (documents, chunks, sentences with their vectors) + BM25.

Retrieval scores a chunk by its own vector and its best sentence's; the extractive answerer
reads the sentence vectors. Sentences are embedded on their own (`sentences="alone"`), or
pooled from the pass over the first chunk that holds them (`"in_chunk"`: one pass, faster).

Incremental and idempotent: a file whose size and mtime are what they were when it was stored
is not even read; a document whose cleaned text hashes the same as before costs no embedding
work (and the model is never loaded when nothing needs embedding); a changed one replaces its
chunks; a file gone from an ingested folder is removed.

Atomic for readers and crash-safe by ordering. Per group of documents: the chunk vectors go to
the store under ids that carry the document's content hash (`catalog.vector_id`), so a changed
document's new vectors sit beside the old ones; then its catalog rows are staged (one
transaction). Nothing of it is visible yet. At the end, `publish` makes every staged document,
every removal, the file stamps and a lexical index built for the result visible in one catalog
transaction, and only then deletes the vectors nothing refers to any more. A reader sees the old
index or the new one. After a crash, the next run's check deletes stray vectors, re-uses staged
documents whose vectors are stored (no re-embedding), and redoes the rest; ids are
deterministic, so it converges on what a clean run builds. The caller holds the writer lock
(index/lock.py) and has run the consistency check (index/check.py).

A file found in a folder that cannot be used is skipped, with the reason in the report; a file
named on its own that cannot be used stops the run with BadDocument before anything is stored.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from index import faults
from index.catalog import Catalog
from index.chunk import chunk_document, holders, sentence_pieces
from index.embed import Embedder, embed_in_context
from index.lexical import LexicalIndex
from index.lock import HomeLock
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
    repaired: list[str] = field(default_factory=list)   # re-embedded from the catalog (see `rag check`)
    embedded: int = 0            # chunks embedded (and their sentences)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
                f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped; "
                f"{self.embedded} chunks embedded in {self.seconds:.1f}s"
                + (f"; repaired {len(self.repaired)}" if self.repaired else ""))


@dataclass(frozen=True)
class Index:
    """The three stores that make up an index, opened together, and the home's locks."""
    catalog: Catalog
    store: ChromaStore
    lexical_dir: Path
    lock: HomeLock


def ingest(paths: Sequence[Path], index: Index, embedder: Embedder, *, chunk_size: int,
           chunk_overlap: int, sentences: str = "alone", progress: Progress | None = None,
           redo: Sequence[str] = ()) -> IngestReport:
    """Ingest `paths` (and remember them as sources; a file in the uploads folder stands for
    that folder); also re-embed the published documents `redo` from their catalog text (what
    the check found damaged)."""
    from index.load import find_files, load  # here, so answering never imports the cleaners

    started = time.perf_counter()
    report = IngestReport()
    known = index.catalog.hashes()
    stamps = index.catalog.stamps()
    fresh: list[tuple[str, str, str, str]] = []   # stamps to record once the documents are stored
    docs: list[Document] = []
    seen: set[str] = set()
    named = {p for p in paths if not p.is_dir()}    # a file named on its own must be ingested
    for path in find_files(paths):
        source, stamp = _stamp(path)
        old = stamps.get(source)
        if old and stamp and old[0] == stamp and old[1] not in seen and known.get(old[1], ("",))[0] == old[2]:
            seen.add(old[1])                # same size and mtime as when it was stored: not read
            report.unchanged.append(old[1])
            continue
        try:
            doc = load(path)
            if doc.doc_id in seen:
                raise BadDocument(f"{path.name}: another file already has id {doc.doc_id}; rename it")
        except BadDocument as exc:
            if path in named:   # nothing is stored yet: the whole run stops here
                raise
            report.skipped.append((path.name, str(exc)))
            continue
        seen.add(doc.doc_id)
        fresh.append((source, stamp, doc.doc_id, doc.content_hash))
        if known.get(doc.doc_id, ("",))[0] == doc.content_hash:
            report.unchanged.append(doc.doc_id)
        else:
            docs.append(doc)
    removed = _gone(known, seen, [p for p in paths if p.is_dir()])
    changing = {d.doc_id for d in docs} | set(removed)
    repairs = [d for d in map(index.catalog.document, redo) if d is not None and d.doc_id not in changing]
    report.repaired = [d.doc_id for d in repairs]

    staged = index.catalog.staged()
    todo = [d for d in docs + repairs if staged.get(d.doc_id, ("",))[0] != d.content_hash]
    total = len(todo)
    for i in range(0, total, _GROUP):
        group = todo[i:i + _GROUP]
        report.embedded += _stage_group(group, index, embedder, chunk_size, chunk_overlap, sentences)
        if progress:
            progress(min(i + _GROUP, total), total)
    for doc in docs:
        (report.updated if doc.doc_id in known else report.added).append(doc.doc_id)
    report.removed = removed

    sources = _sources(paths, index.lexical_dir.parent)
    orphan_rows = [d for d in redo if d not in known]      # catalog rows of no document
    if docs or repairs or removed or orphan_rows or not _lexical_current(index):
        publish(index, [d.doc_id for d in docs + repairs], removed + orphan_rows, fresh, sources)
    else:
        index.catalog.record(fresh, sources)
    report.seconds = time.perf_counter() - started
    return report


def remove(doc_id: str, index: Index) -> None:
    """Remove a document (the caller holds the writer lock): it leaves the catalog and the
    lexical index in one step, then its vectors go."""
    publish(index, [], [doc_id], (), (), what="delete")


def publish(index: Index, doc_ids: Sequence[str], removed: Sequence[str],
            stamps: Sequence[tuple[str, str, str, str]], sources: Sequence[str], *,
            what: str = "publish") -> None:
    """Make the staged `doc_ids` and the removal of `removed` visible at once, with a lexical
    index built for the result; then delete the vectors that nothing refers to any more."""
    catalog = index.catalog
    touched = set(doc_ids) | set(removed) | set(catalog.staged())
    before = catalog.vector_ids(touched)
    catalog.unseal()
    catalog.begin()
    try:
        catalog.publish(doc_ids, removed, stamps, sources)
        lexical = LexicalIndex.build(catalog.all_chunks(), catalog.generation + 1)
        name = lexical.save(index.lexical_dir)
        faults.point(f"{what}.lexical")
        after = catalog.vector_ids(touched)
        with index.lock.publishing():
            catalog.commit(name)
            faults.point(f"{what}.committed")
            index.store.delete_ids(sorted(before - after))
    except BaseException:
        catalog.rollback()
        raise
    faults.point("publish.collected")
    LexicalIndex.prune(index.lexical_dir, name)


def _lexical_current(index: Index) -> bool:
    _, generation, _, name = index.catalog.state()
    return not generation or (name.startswith(f"g{generation:09d}-") and (index.lexical_dir / name).is_dir())


def _sources(paths: Sequence[Path], home: Path) -> list[str]:
    """The paths to record as the index's sources: uploads stand for their folder."""
    uploads = (home / "uploads").resolve()
    out = []
    for p in paths:
        p = Path(p).resolve()
        out.append(str(uploads) if p.parent == uploads else str(p))
    return sorted(set(out))


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


def _stage_group(docs: list[Document], index: Index, embedder: Embedder,
                 chunk_size: int, chunk_overlap: int, sentences: str) -> int:
    """Embed a group, then store it: its chunk vectors (under versioned ids), then its catalog
    rows, staged in one transaction (the crash-safety order). Readers wait only for the storing."""
    group = embed_documents(docs, embedder, chunk_size, chunk_overlap, sentences)
    faults.point("ingest.embedded")
    index.catalog.unseal()
    with index.lock.publishing():
        index.store.upsert([c for e in group for c in e.chunks],
                           np.concatenate([e.chunk_vectors for e in group]),
                           versions={e.doc.doc_id: e.doc.content_hash for e in group})
        faults.point("ingest.upserted")
        index.catalog.stage_documents([(e.doc, e.chunks, e.spans, e.sentence_vectors) for e in group])
    faults.point("ingest.staged")
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
