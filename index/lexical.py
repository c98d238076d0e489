"""The lexical index: BM25 (bm25s) over chunk terms, persisted beside the vectors.

Built from the catalog after ingestion changes anything, and written to a fresh folder that is
switched in atomically (a pointer file), so a crash never leaves a half-written index. It records
the catalog generation it was built from; `is_current` tells whether it is stale. It also keeps
the document frequency of every term, which the answerer uses to weigh question terms.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from rag.errors import IndexCorrupted

_POINTER = "CURRENT"


class LexicalIndex:
    def __init__(self, bm25, ids: list[str], df: dict[str, int], generation: int) -> None:
        self._bm25, self.ids, self.df, self.generation = bm25, ids, df, generation
        self._doc_of = np.array([cid.rsplit(":", 1)[0] for cid in ids], dtype=object)
        self.n_chunks = len(ids)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str]], generation: int,
              k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        import logging

        import bm25s

        from index.terms import terms   # here: checking the generation must not import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)   # it sets itself to DEBUG

        ids, corpus = [], []
        for chunk_id, text in chunks:
            ids.append(chunk_id)
            corpus.append(terms(text))
        df = Counter(t for doc in corpus for t in set(doc))
        bm25 = bm25s.BM25(k1=k1, b=b)
        if corpus:
            bm25.index([doc or ["\x00"] for doc in corpus], show_progress=False)
        return cls(bm25 if corpus else None, ids, dict(df), generation)

    def save(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        folder = root / f"g{self.generation:09d}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "chunks.json").write_text(json.dumps(
            {"generation": self.generation, "ids": self.ids, "df": self.df}))
        tmp = root / f"{_POINTER}.tmp"
        tmp.write_text(folder.name)
        os.replace(tmp, root / _POINTER)
        for old in root.glob("g*"):
            if old.name != folder.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, root: Path) -> "LexicalIndex | None":
        """The saved index, or None when none was saved yet."""
        import bm25s

        pointer = root / _POINTER
        if not pointer.exists():
            return None
        folder = root / pointer.read_text().strip()
        try:
            meta = json.loads((folder / "chunks.json").read_text())
            bm25 = bm25s.BM25.load(str(folder)) if meta["ids"] else None
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorrupted(f"the lexical index in {root} is damaged ({type(exc).__name__}): "
                                 "rebuild it with `rag ingest`") from None
        return cls(bm25, meta["ids"], meta["df"], meta["generation"])

    @staticmethod
    def saved_generation(root: Path) -> int | None:
        """The catalog generation the saved index was built from (None if none is saved),
        read without loading the index."""
        try:
            folder = root / (root / _POINTER).read_text().strip()
            return int(json.loads((folder / "chunks.json").read_text())["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- searching --------------------------------------------------------------------------
    def search(self, query_terms: Sequence[str], n: int,
               doc_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        if self._bm25 is None or not query_terms or n <= 0:
            return []
        mask = None
        if doc_ids is not None:
            mask = np.isin(self._doc_of, list(doc_ids)).astype(np.float32)
            if not mask.any():
                return []
        n = min(n, self.n_chunks)
        docs, scores = self._bm25.retrieve([list(query_terms)], k=n, show_progress=False,
                                           weight_mask=mask, n_threads=1)
        return [(self.ids[i], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]
