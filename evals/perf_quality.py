"""What int8 costs in retrieval quality: dense-only nDCG@10 on SciFact (test split) at fp32 and
int8, and the cosine between the two precisions' vectors.

Documents are embedded whole (`title + " " + text`, truncated at 256 word pieces, as MTEB does),
so the number compares directly with the published 0.645 of all-MiniLM-L6-v2. The mixed rows
(documents at one precision, questions at the other) are what an index built at one precision
and queried at another gets. Document vectors are cached in the work folder (a rerun only embeds the questions), and
questions are embedded one at a time, as `ask` does. The fp32 row uses the ONNX fp32 export; its agreement with
sentence-transformers (torch) is measured on a sample and reported too.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from evals.perf_common import scifact_docs, scifact_queries


def ndcg_at_10(scores: np.ndarray, doc_ids: list[str], qids: list[str],
               qrels: dict[str, dict[str, int]]) -> float:
    total = 0.0
    top = np.argsort(-scores, axis=1)[:, :10]
    for row, qid in enumerate(qids):
        rel = qrels[qid]
        dcg = sum(rel.get(doc_ids[j], 0) / math.log2(rank + 2) for rank, j in enumerate(top[row]))
        ideal = sum(r / math.log2(rank + 2) for rank, r in enumerate(sorted(rel.values(), reverse=True)[:10]))
        total += dcg / ideal if ideal else 0.0
    return total / len(qids)


def dense_quality(dataset: Path, work: Path, cache: Path, limit: int | None = None) -> dict:
    from index.embed_local import LocalEmbedder
    from index.embed_onnx import OnnxEmbedder

    docs = scifact_docs(dataset, limit)
    doc_ids = [d["_id"] for d in docs]
    texts = [f"{d['title']} {d['text']}" for d in docs]
    queries, qrels = scifact_queries(dataset)
    if limit:   # a smoke run: keep the queries whose relevant documents are in the subset
        have = set(doc_ids)
        queries = {q: t for q, t in queries.items() if set(qrels[q]) & have}
    qids = list(queries)
    vectors, seconds = {}, {}
    for precision in ("fp32", "int8"):
        embedder = OnnxEmbedder(precision=precision, cache=cache)
        saved = work / f"scifact-doc-vectors-{precision}-{len(docs)}.npy"
        started = time.perf_counter()
        if saved.exists():
            doc_vectors = np.load(saved)
        else:
            doc_vectors = embedder.embed(texts)
            work.mkdir(parents=True, exist_ok=True)
            np.save(saved, doc_vectors)
        seconds[precision] = round(time.perf_counter() - started, 1)
        # one question at a time, as `ask` embeds it (int8 vectors depend a little on the batch)
        query_vectors = np.stack([embedder.embed([queries[q]])[0] for q in qids])
        vectors[precision] = (doc_vectors, query_vectors)
    result = {"docs": len(docs), "queries": len(qids), "embed_seconds": seconds, "ndcg@10": {}}
    for d_prec in ("fp32", "int8"):
        for q_prec in ("fp32", "int8"):
            scores = vectors[q_prec][1] @ vectors[d_prec][0].T
            result["ndcg@10"][f"docs {d_prec} / questions {q_prec}"] = round(
                ndcg_at_10(scores, doc_ids, qids, qrels), 4)
    cos = np.sum(vectors["fp32"][0] * vectors["int8"][0], axis=1)
    result["cosine_int8_vs_fp32"] = {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4),
                                     "p01": round(float(np.quantile(cos, 0.01)), 4)}
    sample = texts[:100]
    torch_vecs = LocalEmbedder().embed(sample)
    cos_t = np.sum(torch_vecs * vectors["fp32"][0][:len(sample)], axis=1)
    result["cosine_onnx_fp32_vs_torch"] = {"mean": round(float(cos_t.mean()), 6), "min": round(float(cos_t.min()), 6)}
    ndcg = result["ndcg@10"]
    result["ndcg_drop_int8"] = round(ndcg["docs fp32 / questions fp32"] - ndcg["docs int8 / questions int8"], 4)
    return result
