"""What int8 costs in retrieval quality: dense-only nDCG@10 on SciFact (test split) at fp32 and
int8, and the cosine between the two precisions' vectors.

Two document representations: "sentences" is what ingest stores (every sentence embedded, a
document scored by its best sentence), the one the product's quality depends on; "whole" embeds
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
from index.chunk import sentence_pieces
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
    chunk_size = Settings.load().chunk_size   # what ingest would use
    sentences, starts = [], []
    for d in docs:
        text = f"{d['title']}\n\n{d['text']}"
        starts.append(len(sentences))
        sentences += [text[a:b] for a, b in sentence_pieces(text, chunk_size)]   # as ingest cuts them
    vectors, seconds = {}, {}
    for precision in ("fp32", "int8"):
        embedder = OnnxEmbedder(precision=precision, cache=cache)
        started = time.perf_counter()
        doc_vectors = _cached(work / f"scifact-doc-vectors-{precision}-{len(docs)}.npy", embedder, texts)
        seconds[precision] = round(time.perf_counter() - started, 1)
        sentence_vectors = _cached(work / f"scifact-sentence-vectors-{precision}-{len(docs)}.npy",
                                   embedder, sentences)
        # one question at a time, as `ask` embeds it (int8 vectors depend a little on the batch)
        query_vectors = np.stack([embedder.embed([queries[q]])[0] for q in qids])
        vectors[precision] = (doc_vectors, query_vectors, sentence_vectors)
    result = {"docs": len(docs), "sentences": len(sentences), "queries": len(qids),
              "embed_seconds": seconds, "ndcg@10": {}}
    for kind in ("sentences", "whole"):
        for d_prec in ("fp32", "int8"):
            for q_prec in ("fp32", "int8"):
                if kind == "whole":
                    scores = vectors[q_prec][1] @ vectors[d_prec][0].T
                else:   # a document scores its best sentence
                    scores = np.maximum.reduceat(vectors[q_prec][1] @ vectors[d_prec][2].T, starts, axis=1)
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
    for kind in ("sentences", "whole"):
        result[f"ndcg_drop_int8_{kind}"] = round(ndcg[f"{kind}: docs fp32 / questions fp32"]
                                                 - ndcg[f"{kind}: docs int8 / questions int8"], 4)
    return result


def _cached(path: Path, embedder, texts: list[str]) -> np.ndarray:
    if path.exists():
        return np.load(path)
    vectors = embedder.embed(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
