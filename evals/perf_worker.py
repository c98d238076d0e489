"""One measured benchmark step, run in a fresh process: `python -m evals.perf_worker TASK JSON`.

Prints one JSON line with the step's timings and its peak RSS. Only the benchmark commands call
this; each task is a small function below. Ours goes through `rag.Assistant`, the baseline
through `rag.baseline.LlamaIndexBaseline`.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _assistant(home, precision, cache, chroma_url="", sentence_vectors="alone"):
    from rag import Assistant

    return Assistant(home=home, embed_precision=precision, model_cache=cache, chroma_url=chroma_url,
                     sentence_vectors=sentence_vectors)


def ingest_ours(home, files, precision, cache, chroma_url="", sentence_vectors="alone"):
    started = time.perf_counter()
    report = _assistant(home, precision, cache, chroma_url, sentence_vectors).ingest([files])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "docs": len(report.added) + len(report.updated),
            "embedded": report.embedded, "skipped": len(report.skipped)}


def ingest_baseline(home, files, chroma_url=""):
    from rag.baseline import LlamaIndexBaseline

    started = time.perf_counter()
    LlamaIndexBaseline(Path(home), chroma_url=chroma_url).ingest([Path(files)])
    return {"seconds": time.perf_counter() - started}


def reingest_ours(home, files, precision, cache):
    started = time.perf_counter()
    report = _assistant(home, precision, cache).ingest([files])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "unchanged": len(report.unchanged),
            "changed": len(report.added) + len(report.updated) + len(report.removed),
            "embedded": report.embedded,
            "model_loaded": any(m in sys.modules for m in ("onnxruntime", "openvino", "torch"))}


def query_ours(home, questions, precision, cache, k=6, warmup=5):
    assistant = _assistant(home, precision, cache)
    for q in questions[:warmup]:
        assistant.ask(q, k=k, mode="extractive")
    total, retrieve, abstained = [], [], 0
    for q in questions:
        t0 = time.perf_counter()
        answer = assistant.ask(q, k=k, mode="extractive")
        total.append(time.perf_counter() - t0)
        retrieve.append((answer.timings_ms["embed"] + answer.timings_ms["retrieve"]) / 1e3)
        abstained += answer.abstained
    return {"ask_s": total, "retrieve_s": retrieve, "abstained": abstained}


def answers_ours(home, questions, precision, cache):
    assistant = _assistant(home, precision, cache)
    out = []
    for q in questions:
        a = assistant.ask(q, mode="extractive")
        out.append({"text": a.text, "docs": sorted({c.doc_id for c in a.citations}),
                    "abstained": a.abstained})
    return {"answers": out}


def query_baseline(home, questions, k=6, warmup=5):
    from rag.baseline import LlamaIndexBaseline

    from evals.perf_common import timed

    baseline = LlamaIndexBaseline(Path(home))
    return {"retrieve_s": timed(lambda q: baseline.retrieve(q, k), questions, warmup)}


def coldstart_baseline(home, question, k=6):
    """A new process that opens the LlamaIndex index and retrieves (the caller times it)."""
    from rag.baseline import LlamaIndexBaseline

    hits = LlamaIndexBaseline(Path(home)).retrieve(question, k)
    print("\n".join(h.text[:200] for h in hits[:1]), file=sys.stderr)
    return {"hits": len(hits)}


def quality(dataset, work, cache, limit=0):
    from evals.perf_quality import dense_quality

    return dense_quality(Path(dataset), Path(work), Path(cache), limit=limit or None)


def scale_point(n, mode, work, url="", queries=200, k=10, dim=384, seed=0, batch=5000):
    from evals.perf_scale import measure_point

    return measure_point(n=n, mode=mode, work=Path(work), url=url, queries=queries, k=k,
                         dim=dim, seed=seed, batch=batch)


def main() -> None:
    task, args = sys.argv[1], json.loads(sys.argv[2])
    result = globals()[task](**args)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
