"""Hybrid retrieval: dense (Chroma) + lexical (BM25) candidates, fused, materialised as Hits.

`method` picks "hybrid" (default), "dense" or "lexical", so each part can be measured alone.
Fusion is reciprocal rank (RRF) or a weighted sum of max-normalised scores. Filters arrive as a
set of allowed document ids and are applied inside both searches, not after them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.catalog import Catalog
from index.lexical import LexicalIndex
from index.store import ChromaStore
from index.terms import terms
from rag.records import Hit

METHODS = ("hybrid", "dense", "lexical")


class HybridRetriever:
    def __init__(self, store: ChromaStore, lexical: LexicalIndex, catalog: Catalog, *,
                 fusion: str = "rrf", rrf_k: int = 60, candidates: int = 30,
                 lexical_weight: float = 0.5) -> None:
        self.store, self.lexical, self.catalog = store, lexical, catalog
        self.fusion, self.rrf_k, self.candidates = fusion, rrf_k, candidates
        self.lexical_weight = lexical_weight

    def retrieve(self, query: str, vector: np.ndarray | None, k: int, *,
                 doc_ids: Sequence[str] | None = None, method: str = "hybrid") -> list[Hit]:
        n = max(self.candidates, k)
        dense = self.store.query(vector, n, doc_ids) if method != "lexical" else []
        lexical = self.lexical.search(terms(query), n, doc_ids) if method != "dense" else []
        fused = fuse(dense, lexical, how=self.fusion, rrf_k=self.rrf_k,
                     lexical_weight=self.lexical_weight)[:k]
        rows = self.catalog.chunks([cid for cid, _ in fused])
        d, lx = dict(dense), dict(lexical)
        return [Hit(chunk_id=cid, doc_id=chunk.doc_id, title=title, date=date, text=chunk.text,
                    start=chunk.start, end=chunk.end, score=score, dense=d.get(cid, 0.0),
                    lexical=lx.get(cid, 0.0))
                for cid, score in fused if cid in rows
                for chunk, title, date in [rows[cid]]]


def fuse(dense: list[tuple[str, float]], lexical: list[tuple[str, float]], *, how: str = "rrf",
         rrf_k: int = 60, lexical_weight: float = 0.5) -> list[tuple[str, float]]:
    """Merge two ranked (id, score) lists into one, best first."""
    scores: dict[str, float] = {}
    if how == "rrf":
        for ranked in (dense, lexical):
            for rank, (cid, _) in enumerate(ranked):
                scores[cid] = scores.get(cid, 0.0) + 1.0 / (rrf_k + rank + 1)
    else:
        for ranked, weight in ((dense, 1.0 - lexical_weight), (lexical, lexical_weight)):
            top = max((s for _, s in ranked), default=0.0)
            for cid, s in ranked:
                scores[cid] = scores.get(cid, 0.0) + weight * (s / top if top > 0 else 0.0)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))
