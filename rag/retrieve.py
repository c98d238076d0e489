"""Hybrid retrieval: dense (Chroma) + lexical (BM25) candidates, fused, materialised as Hits.

Dense candidates come from the chunk vectors; each is then scored by a mix of its own similarity
and its best sentence's (`sentence_weight`; the sentence vectors are in the catalog).

`method` picks "hybrid" (default), "dense" or "lexical", so each part can be measured alone.
Fusion is reciprocal rank (RRF), or a weighted sum of max-normalised ("weighted") or
min-max-normalised ("minmax") scores. Filters arrive as a
set of allowed document ids and are applied inside both searches, not after them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.catalog import Catalog
from index.lexical import LexicalIndex
from index.records import doc_of
from index.store import ChromaStore
from index.terms import terms
from rag.records import Hit

METHODS = ("hybrid", "dense", "lexical")
_CHUNKS_PER_DOC = 3   # candidates fetched per wanted document when ranking documents


class HybridRetriever:
    def __init__(self, store: ChromaStore, lexical: LexicalIndex, catalog: Catalog, *,
                 fusion: str = "rrf", rrf_k: int = 60, candidates: int = 30,
                 lexical_weight: float = 0.5, sentence_weight: float = 0.5,
                 versions: dict[str, str] | None = None) -> None:
        """`versions` (doc_id -> content hash, the published documents): the store's vector ids
        carry a version, and only vectors of the published version of a document are used (the
        store may also hold an ingest's not yet published vectors, or stray ones)."""
        self.store, self.lexical, self.catalog = store, lexical, catalog
        self.versions = versions
        self.fusion, self.rrf_k, self.candidates = fusion, rrf_k, candidates
        self.lexical_weight, self.sentence_weight = lexical_weight, sentence_weight

    def retrieve(self, query: str, vector: np.ndarray | None, k: int, *,
                 doc_ids: Sequence[str] | None = None, method: str = "hybrid",
                 per_doc: bool = False) -> list[Hit]:
        """The k best chunks; with `per_doc`, the k best documents, each as its best chunk
        (a document scores the max of its chunks in each list before fusion)."""
        n = max(self.candidates, k) * (_CHUNKS_PER_DOC if per_doc else 1)
        dense = self._dense(vector, n, doc_ids) if method != "lexical" else []
        if dense and self.sentence_weight:
            dense = self._with_sentences(dense, vector)
        lexical = self.lexical.search(terms(query), n, doc_ids) if method != "dense" else []
        if per_doc:
            dense, lexical = best_per_doc(dense), best_per_doc(lexical)
        fused = fuse(dense, lexical, how=self.fusion, rrf_k=self.rrf_k,
                     lexical_weight=self.lexical_weight, key=doc_of if per_doc else None)[:k]
        rows = self.catalog.chunks([cid for cid, _ in fused])
        d, lx = dict(dense), dict(lexical)
        return [Hit(chunk_id=cid, doc_id=chunk.doc_id, title=title, date=date, text=chunk.text,
                    start=chunk.start, end=chunk.end, score=score, dense=d.get(cid, 0.0),
                    lexical=lx.get(cid, 0.0))
                for cid, score in fused if cid in rows
                for chunk, title, date in [rows[cid]]]

    def _dense(self, vector: np.ndarray, n: int, doc_ids: Sequence[str] | None) -> list[tuple[str, float]]:
        found = self.store.query(vector, n, doc_ids)
        if self.versions is None:
            return found
        out = []
        for vid, score in found:
            cid, _, version = vid.partition("@")
            if self.versions.get(doc_of(cid)) == version:
                out.append((cid, score))
        return out

    def _with_sentences(self, dense: list[tuple[str, float]], vector: np.ndarray) -> list[tuple[str, float]]:
        """Rescore dense candidates: (1 - w) x the chunk's own similarity + w x its best sentence's."""
        w = self.sentence_weight
        best = self.catalog.best_sentences([cid for cid, _ in dense], vector)
        scored = [(cid, (1.0 - w) * s + w * best.get(cid, s)) for cid, s in dense]
        return sorted(scored, key=lambda item: -item[1])


def fuse(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], *, how: str = "rrf",
         rrf_k: int = 60, lexical_weight: float = 0.5, key=None) -> list[tuple[str, float]]:
    """Merge two ranked (id, score) lists into one, best first.

    With `key` (id -> group), ids of the same group are one entry; it is represented by the id
    that came first (the dense list's, when both lists have the group)."""
    scores: dict[str, float] = {}
    first: dict[str, str] = {}
    for ranked, weight in ((dense, 1.0 - lexical_weight), (lexical, lexical_weight)):
        top = max((s for _, s in ranked), default=0.0)
        low = min((s for _, s in ranked), default=0.0) if how == "minmax" else 0.0
        span = top - low
        for rank, (cid, s) in enumerate(ranked):
            group = key(cid) if key else cid
            first.setdefault(group, cid)
            if how == "rrf":
                gain = 1.0 / (rrf_k + rank + 1)
            elif how == "minmax":
                gain = weight * ((s - low) / span if span > 0 else 1.0)
            else:
                gain = weight * (s / top if top > 0 else 0.0)
            scores[group] = scores.get(group, 0.0) + gain
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return [(first[g], s) for g, s in ranked]


def best_per_doc(ranked: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Keep each document's best chunk (max aggregation), in rank order."""
    seen: set[str] = set()
    out = []
    for cid, s in ranked:
        doc = doc_of(cid)
        if doc not in seen:
            seen.add(doc)
            out.append((cid, s))
    return out

