"""The scaling curve: query latency and memory of the store and lexical layers at N chunks.

Synthetic but shaped like the real thing: 384-dim unit vectors drawn around 256 topic centres
(so nearest-neighbour search has structure to find), and 40-word texts drawn from a Zipf
vocabulary of 30,000 words. They go through our own seams (`ChromaStore.upsert/query`,
`LexicalIndex.build/search`), the same calls ingestion and retrieval make, with embedded Chroma
or a Chroma server. Queries are perturbed stored vectors and 3-word term queries.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from evals.perf_common import stats_ms, timed

_VOCAB = 30_000
_WORDS = 40
_CENTRES = 256


def synthetic_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    centres = np.random.default_rng(12345).normal(size=(_CENTRES, dim)).astype(np.float32)
    v = centres[rng.integers(0, _CENTRES, n)] + 0.6 * rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic_texts(rng: np.random.Generator, n: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.2, size=(n, _WORDS)), _VOCAB)
    return [" ".join(f"w{r}" for r in row) for row in ranks]


def measure_point(*, n: int, mode: str, work: Path, url: str = "", queries: int = 200, k: int = 10,
                  dim: int = 384, seed: int = 0, batch: int = 5000) -> dict:
    from index.records import Chunk
    from index.store import ChromaStore

    rng = np.random.default_rng(seed)
    store = ChromaStore(path=work / f"scale-{mode}-{n}", url=url, collection=f"scale{n}")
    started = time.perf_counter()
    texts_for_bm25: list[str] = []
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        vectors = synthetic_vectors(rng, hi - lo, dim)
        texts = synthetic_texts(rng, hi - lo)
        chunks = [Chunk(f"d{i // 4}:{i % 4}", f"d{i // 4}", i % 4, t, 0, len(t))
                  for i, t in zip(range(lo, hi), texts)]
        store.upsert(chunks, vectors)
        if mode == "embedded":
            texts_for_bm25.extend(texts)
    insert_s = time.perf_counter() - started
    count = store.count()

    q_rng = np.random.default_rng(seed + 1)
    probes = synthetic_vectors(q_rng, queries, dim)
    dense = timed(lambda v: store.query(v, k), probes)
    result = {"n": n, "mode": mode, "count": count, "insert_s": round(insert_s, 1),
              "insert_per_s": round(n / insert_s), "dense": stats_ms(dense)}

    if mode == "embedded":   # the lexical layer lives in-process whatever the store mode
        from index.lexical import LexicalIndex
        from index.terms import terms

        t0 = time.perf_counter()
        lexical = LexicalIndex.build(((f"c{i}", t) for i, t in enumerate(texts_for_bm25)), 1)
        result["bm25_build_s"] = round(time.perf_counter() - t0, 1)
        del texts_for_bm25
        term_queries = [terms(" ".join(w.split()[:3])) for w in synthetic_texts(q_rng, queries)]
        result["bm25"] = stats_ms(timed(lambda q: lexical.search(q, k), term_queries))
    return result
