"""`rag bench retrieval`: retrieval quality on a BEIR-format dataset (SciFact), ours three ways.

It writes each abstract as a text file (title line, blank line, abstract) into a work folder,
ingests them with our own pipeline (cleaning, chunking, MiniLM, Chroma, BM25) into a home under
that folder, and ranks documents for every query of one qrels split with BM25 only, dense only
and hybrid, through `Assistant.retrieve(per_doc=True)`. A rerun reuses the home (ingest is
incremental) and an embedding cache keyed by text, so a rebuild never re-embeds a known text.
It prints nDCG@10, recall@10 and recall@100 beside the published numbers, and can write JSON.
It does not tune anything: settings come from the config or from `--set NAME=VALUE`.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import click

from evals.metrics import ndcg_at_k, recall_at_k

PUBLISHED = {  # nDCG@10 on SciFact test: BEIR paper (BM25), MTEB (all-MiniLM-L6-v2)
    "lexical": ("BM25 (BEIR paper)", 0.665),
    "dense": ("all-MiniLM-L6-v2 (MTEB)", 0.645),
    "hybrid": ("0.7 BM25 + 0.3 dense, max-normalised (naive, this machine)", 0.729),
}
METHODS = ("lexical", "dense", "hybrid")


def load_beir(dataset: Path, split: str):
    """(corpus {id: (title, text)}, queries {id: text}, qrels {qid: {doc_id: grade}})."""
    if not (dataset / "corpus.jsonl").is_file():
        raise click.UsageError(f"{dataset} has no corpus.jsonl: point --dataset at a BEIR folder")
    qrels_path = dataset / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise click.UsageError(f"{qrels_path} does not exist: use --split with one of "
                               f"{', '.join(p.stem for p in sorted((dataset / 'qrels').glob('*.tsv')))}")
    corpus = {}
    with open(dataset / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            corpus[str(row["_id"])] = (row.get("title", "") or "", row.get("text", "") or "")
    queries = {}
    with open(dataset / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, float]] = {}
    with open(qrels_path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].strip().lstrip("-").isdigit():
                continue  # header
            qid, did, grade = parts[0], parts[1], float(parts[2])
            if grade > 0:
                qrels.setdefault(qid, {})[did] = grade
    return corpus, queries, qrels


def write_documents(corpus: dict[str, tuple[str, str]], folder: Path) -> int:
    """One .txt per abstract (only files whose content changed are rewritten)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for doc_id, (title, text) in corpus.items():
        path = folder / f"{_safe(doc_id)}.txt"
        content = f"{title.strip()}\n\n{text.strip()}\n" if title.strip() else f"{text.strip()}\n"
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            written += 1
    return written


def _safe(doc_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in doc_id)


def evaluate(assistant, queries: dict[str, str], qrels: dict[str, dict[str, float]],
             methods=METHODS, progress: bool = True) -> dict[str, dict[str, float]]:
    from tqdm import tqdm

    results: dict[str, dict[str, float]] = {}
    qids = [q for q in sorted(qrels) if q in queries]
    for method in methods:
        ndcg = r10 = r100 = 0.0
        started = time.perf_counter()
        for qid in tqdm(qids, desc=f"{method:>7}", unit="q", file=sys.stderr, disable=not progress,
                        leave=False):
            hits = assistant.retrieve(queries[qid], k=100, method=method, per_doc=True)
            ranked = [h.doc_id for h in hits]
            rel = {_safe(d): g for d, g in qrels[qid].items()}
            ndcg += ndcg_at_k(ranked, rel, 10)
            r10 += recall_at_k(ranked, rel, 10)
            r100 += recall_at_k(ranked, rel, 100)
        n = len(qids) or 1
        results[method] = {"ndcg@10": round(ndcg / n, 4), "recall@10": round(r10 / n, 4),
                           "recall@100": round(r100 / n, 4), "queries": len(qids),
                           "ms_per_query": round((time.perf_counter() - started) * 1e3 / n, 2)}
    return results


def open_assistant(work: Path, overrides: dict, progress: bool = True):
    """An Assistant whose home and embedding cache live under `work` (built on first use)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    from evals.embed_cache import CachingEmbedder

    settings = Settings.load(**overrides)
    home = work / f"home-c{settings.chunk_size}-o{settings.chunk_overlap}"
    settings = settings.replace(home=home, chroma_url="", collection="chunks")
    base = Assistant(settings)
    embedder = CachingEmbedder(base.embedder, work / "embed-cache.sqlite")
    return Assistant(settings, embedder=embedder)


def ingest(assistant, docs: Path, progress: bool = True):
    from tqdm import tqdm

    bar = None

    def tick(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="doc", desc="indexing", file=sys.stderr, disable=not progress)
        bar.update(done - bar.n)

    report = assistant.ingest([docs], progress=tick)
    if bar is not None:
        bar.close()
    return report


def table(results: dict[str, dict[str, float]], split: str, name: str = "SciFact") -> str:
    names = {"lexical": "BM25 only", "dense": "dense only", "hybrid": "hybrid"}
    lines = [f"{name} ({split} split), documents ranked by our pipeline",
             "| method | nDCG@10 | recall@10 | recall@100 | reference nDCG@10 |",
             "| --- | --- | --- | --- | --- |"]
    for m, r in results.items():
        ref = f"{PUBLISHED[m][1]:.3f} {PUBLISHED[m][0]}" if m in PUBLISHED else ""
        lines.append(f"| {names.get(m, m)} | {r['ndcg@10']:.3f} | {r['recall@10']:.3f} | "
                     f"{r['recall@100']:.3f} | {ref} |")
    return "\n".join(lines)


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise click.BadParameter(f"{v!r}: use NAME=VALUE, e.g. fusion=weighted", param_hint="--set")
        name, value = v.split("=", 1)
        out[name.strip()] = value.strip()
    return out


@click.command()
@click.option("--dataset", type=click.Path(path_type=Path, exists=True, file_okay=False), required=True,
              help="A BEIR-format folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.")
@click.option("--split", default="test", show_default=True, help="The qrels split to score.")
@click.option("--work", type=click.Path(path_type=Path), default=None,
              help="Work folder (documents, index, embedding cache). Default: ./.rag-bench/<dataset name>.")
@click.option("--method", "methods", multiple=True, type=click.Choice(METHODS),
              help="Only these methods (repeatable). Default: all three.")
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
              help="Override a retrieval setting, e.g. --set lexical_weight=0.6 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Also write the JSON here.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
def retrieval(dataset: Path, split: str, work: Path | None, methods: tuple[str, ...],
              sets: tuple[str, ...], as_json: bool, out: Path | None, quiet: bool) -> None:
    """Retrieval quality (nDCG@10, recall@10/100) of BM25, dense and hybrid on a BEIR dataset.

    \b
    The first run indexes the corpus (SciFact: ~5,200 abstracts, several minutes on 2 cores);
    reruns reuse the index and the embedding cache. Tune on --split train, report test.
    Examples:
      rag bench retrieval --dataset ../shared/bench/scifact
      rag bench retrieval --dataset ../shared/bench/scifact --split train --set lexical_weight=0.6
    """
    started = time.perf_counter()
    corpus, queries, qrels = load_beir(dataset, split)
    work = work or Path(".rag-bench") / dataset.resolve().name
    overrides = _parse_sets(sets)
    progress = not quiet
    written = write_documents(corpus, work / "docs")
    assistant = open_assistant(work, overrides, progress)
    report = ingest(assistant, work / "docs", progress)
    index_s = time.perf_counter() - started
    results = evaluate(assistant, queries, qrels, methods or METHODS, progress)
    s = assistant.settings
    record = {
        "dataset": str(dataset), "split": split, "documents": len(corpus), "queries": len(qrels),
        "settings": {"chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap,
                     "fusion": s.fusion, "rrf_k": s.rrf_k, "candidates": s.candidates,
                     **{k: getattr(s, k) for k in ("lexical_weight", "sentence_weight", "title_weight", "bm25_k1", "bm25_b")
                        if hasattr(s, k)}},
        "overrides": overrides,
        "results": results,
        "published_ndcg@10": {m: v for m, (_, v) in PUBLISHED.items()},
        "index": {"files_written": written, "embedded_chunks": report.embedded,
                  "cache_hits": assistant.embedder.hits, "cache_misses": assistant.embedder.misses,
                  "seconds": round(index_s, 1)},
        "machine": {"python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    text = json.dumps(record, indent=2)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    if as_json:
        click.echo(text)
    else:
        click.echo(table(results, split, dataset.resolve().name))
        click.echo(f"({len(corpus):,} documents, {len(qrels):,} queries; index {index_s:.0f}s, "
                   f"total {record['seconds']:.0f}s)")


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
