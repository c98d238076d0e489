"""What int8 costs in retrieval quality: dense-only nDCG@10 on SciFact (test split) at fp32 and
int8, and the cosine between the two precisions' vectors.

Two document representations: "index" is what ingest stores and retrieval scores (chunk vectors
and sentence vectors pooled from the same pass; a chunk scores a mix of its own similarity and
its best sentence's, a document its best chunk), the one the product's quality depends on; "whole" embeds
each document whole (`title + " " + text`, truncated at 256 word pieces, as MTEB does),
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
from index.ingest import embed_documents
from index.records import Document
from rag.settings import Settings


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
    settings = Settings.load()    # what ingest and retrieval would use
    records = [Document(d["_id"], d["title"], f"{d['title']}\n\n{d['text']}", "") for d in docs]
    vectors, seconds = {}, {}
    for precision in ("fp32", "int8"):
        embedder = OnnxEmbedder(precision=precision, cache=cache)
        started = time.perf_counter()
        doc_vectors = _cached(work / f"scifact-doc-vectors-{precision}-{len(docs)}.npz",
                              lambda: {"docs": embedder.embed(texts)})["docs"]
        seconds[precision] = round(time.perf_counter() - started, 1)
        index = _cached(work / f"scifact-index-vectors-{precision}-{len(docs)}.npz",
                        lambda: _index_vectors(records, embedder, settings))
        # one question at a time, as `ask` embeds it (int8 vectors depend a little on the batch)
        query_vectors = np.stack([embedder.embed([queries[q]])[0] for q in qids])
        vectors[precision] = (doc_vectors, query_vectors, index)
    result = {"docs": len(docs), "chunks": len(vectors["int8"][2]["chunks"]),
              "sentences": len(vectors["int8"][2]["sentences"]), "queries": len(qids),
              "embed_seconds": seconds, "ndcg@10": {}}
    for kind in ("index", "whole"):
        for d_prec in ("fp32", "int8"):
            for q_prec in ("fp32", "int8"):
                q = vectors[q_prec][1]
                if kind == "whole":
                    scores = q @ vectors[d_prec][0].T
                else:
                    scores = _index_scores(q, vectors[d_prec][2], settings.sentence_weight)
                result["ndcg@10"][f"{kind}: docs {d_prec} / questions {q_prec}"] = round(
                    ndcg_at_10(scores, doc_ids, qids, qrels), 4)
    cos = np.sum(vectors["fp32"][0] * vectors["int8"][0], axis=1)
    result["cosine_int8_vs_fp32"] = {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4),
                                     "p01": round(float(np.quantile(cos, 0.01)), 4)}
    sample = texts[:100]
    torch_vecs = LocalEmbedder().embed(sample)
    cos_t = np.sum(torch_vecs * vectors["fp32"][0][:len(sample)], axis=1)
    result["cosine_onnx_fp32_vs_torch"] = {"mean": round(float(cos_t.mean()), 6), "min": round(float(cos_t.min()), 6)}
    ndcg = result["ndcg@10"]
    for kind in ("index", "whole"):
        result[f"ndcg_drop_int8_{kind}"] = round(ndcg[f"{kind}: docs fp32 / questions fp32"]
                                                 - ndcg[f"{kind}: docs int8 / questions int8"], 4)
    return result


def _index_vectors(records: list[Document], embedder, settings: Settings) -> dict[str, np.ndarray]:
    """Chunk and sentence vectors as ingest makes them, with where each document's chunks start
    and, for each chunk, the sentences inside it (a flat list and where each chunk's part starts)."""
    group = embed_documents(records, embedder, settings.chunk_size, settings.chunk_overlap)
    inside, inside_starts, n_sent = [], [], 0
    doc_starts = np.cumsum([0] + [len(e.chunks) for e in group])[:-1]
    for e in group:
        for c in e.chunks:
            inside_starts.append(len(inside))
            inside += [n_sent + k for k, (a, b) in enumerate(e.spans) if c.start <= a and b <= c.end]
        n_sent += len(e.spans)
    return {"chunks": np.concatenate([e.chunk_vectors for e in group]),
            "sentences": np.concatenate([e.sentence_vectors for e in group]),
            "doc_starts": doc_starts, "inside": np.array(inside), "inside_starts": np.array(inside_starts)}


def _index_scores(q: np.ndarray, index: dict[str, np.ndarray], sentence_weight: float) -> np.ndarray:
    """Queries x documents: a chunk scores (1 - w) x its similarity + w x its best sentence's,
    a document its best chunk."""
    best = np.maximum.reduceat((q @ index["sentences"].T)[:, index["inside"]], index["inside_starts"], axis=1)
    chunk = (1 - sentence_weight) * (q @ index["chunks"].T) + sentence_weight * best
    return np.maximum.reduceat(chunk, index["doc_starts"], axis=1)


def _cached(path: Path, make) -> dict[str, np.ndarray]:
    if path.exists():
        with np.load(path) as saved:
            return dict(saved)
    arrays = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return arrays
