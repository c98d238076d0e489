"""The lexical index: BM25 (bm25s) over chunk terms, persisted beside the vectors.

Built from the catalog's rows as they will be published, and written to a fresh folder whose
name the catalog records in the same transaction that publishes them (`Catalog.commit`), so a
reader loads the folder of the catalog state it reads, and a crash never leaves a half-written
or mismatched index in use. It records the catalog generation it was built for. It also keeps
the document frequency of every term, which the answerer uses to weigh question terms.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from index.records import doc_of
from rag.errors import IndexCorrupted


class LexicalIndex:
    def __init__(self, bm25, ids: list[str], df: dict[str, int], generation: int,
                 vocab: dict[str, int] | None = None) -> None:
        self._bm25, self.ids, self.df, self.generation = bm25, ids, df, generation
        self.vocab = vocab or {}       # the words of five letters or more, and how often each occurs
        self._doc_of = np.array([doc_of(cid) for cid in ids], dtype=object)
        self.n_chunks = len(ids)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str]], generation: int,
              k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        import logging

        import bm25s

        from index.terms import terms, words   # here: checking the generation must not import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)   # it sets itself to DEBUG

        ids, corpus, vocab = [], [], Counter()
        for chunk_id, text in chunks:
            ids.append(chunk_id)
            corpus.append(terms(text))
            vocab.update(w for w in words(text) if len(w) >= 5 and w.isalpha())
        df = Counter(t for doc in corpus for t in set(doc))
        bm25 = bm25s.BM25(k1=k1, b=b)
        if corpus:
            bm25.index([doc or ["\x00"] for doc in corpus], show_progress=False)
        return cls(bm25 if corpus else None, ids, dict(df), generation, dict(vocab))

    def save(self, root: Path) -> str:
        """Write to a new folder under `root`; return its name (for `Catalog.commit`)."""
        import uuid

        folder = root / f"g{self.generation:09d}-{uuid.uuid4().hex[:8]}"
        folder.mkdir(parents=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), show_progress=False)
        (folder / "chunks.json").write_text(json.dumps(
            {"generation": self.generation, "ids": self.ids, "df": self.df, "vocab": self.vocab}))
        return folder.name

    @staticmethod
    def prune(root: Path, keep: str) -> None:
        """Delete every folder but `keep` (earlier indexes, and any a crash left unpublished)."""
        for old in root.glob("g*"):
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, root: Path, name: str) -> "LexicalIndex":
        """The index saved in `root/name` (IndexCorrupted if it is missing or damaged)."""
        import bm25s

        folder = root / name
        try:
            if not name:
                raise FileNotFoundError(folder)
            meta = json.loads((folder / "chunks.json").read_text())
            bm25 = bm25s.BM25.load(str(folder)) if meta["ids"] else None
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorrupted(f"the lexical index {folder} is missing or damaged "
                                 f"({type(exc).__name__})") from None
        return cls(bm25, meta["ids"], meta["df"], meta["generation"], meta.get("vocab"))

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
                                           weight_mask=mask, n_threads=0)   # 0: no thread pool
        return [(self.ids[i], float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]
