"""`rag bench ingest`: SciFact ingest, ours vs LlamaIndex; unchanged re-ingest; int8 quality.

Both pipelines index the same folder of files (one abstract per file) from an empty home, each
in a fresh process, timed from the call to the return: load, clean, chunk, embed, store, model
load and imports included. With `runs` > 1 the pipelines take turns (baseline, ours, ...) and
each row reports the median, so a slow spell of the machine is shared. Ours also makes a vector
for every sentence (the extractive answerer uses them): embedded on its own by default, or read
off the chunk's pass with `--sentence-vectors in_chunk`, so by default it embeds more text than
the baseline does.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from evals.perf_common import (ROOT, child_env, in_fresh_process, machine, ratio, scifact_docs,
                                scifact_folder)
from rag.settings import Settings


def run_ingest(*, dataset: Path, work: Path, limit: int | None, precisions: list[str],
               reingest_docs: int, steps: set[str], sentence_modes: Sequence[str] = ("alone",),
               runs: int = 1) -> tuple[dict, list[str]]:
    work = work.resolve()
    cache = str(Settings.load().models_dir)
    report: dict = {"machine": machine(), "dataset": str(dataset), "limit": limit}
    lines: list[str] = []
    if "ingest" in steps:
        files = scifact_folder(work, dataset, limit)
        n_docs = sum(1 for p in files.iterdir() if p.suffix == ".txt")
        ours = {f"ours-{precision}" + ("" if mode == "alone" else f"-{mode}"): (precision, mode)
                for precision in precisions for mode in sentence_modes}
        timings: dict[str, list[dict]] = {name: [] for name in ["llamaindex", *ours]}
        for _ in range(runs):     # interleaved, so a slow spell of the machine hits every pipeline
            timings["llamaindex"].append(in_fresh_process(
                "ingest_baseline", home=_fresh(work / f"baseline-{limit or 'all'}"), files=files))
            for name, (precision, mode) in ours.items():
                timings[name].append(in_fresh_process(
                    "ingest_ours", home=_fresh(work / f"{name}-{limit or 'all'}"), files=files,
                    precision=precision, cache=cache, sentence_vectors=mode))
        rows = {name: _median_run(t) for name, t in timings.items()}
        baseline = rows["llamaindex"]
        lines.append(f"SciFact ingest, {n_docs} abstracts, median of {runs} (load {report['machine']['load_avg']})")
        lines.append(f"  {'pipeline':<28}{'seconds':>9}{'docs/s':>9}{'vs baseline':>13}")
        lines.append(f"  {'llamaindex (fp32, batch 10)':<28}{baseline['seconds']:9.1f}"
                     f"{n_docs / baseline['seconds']:9.1f}{'1.00x':>13}")
        for name in ours:
            row = rows[name]
            row["speedup_vs_baseline"] = ratio(baseline["seconds"], row["seconds"])
            lines.append(f"  {name:<28}{row['seconds']:9.1f}{n_docs / row['seconds']:9.1f}"
                         f"{str(row['speedup_vs_baseline']) + 'x':>13}")
        report["ingest"] = {"docs": n_docs, "runs_each": runs, "runs": rows}
    if "reingest" in steps:
        report["reingest"] = _reingest(work, dataset, reingest_docs, precisions[0], cache)
        r = report["reingest"]
        lines.append(f"Re-ingest of {r['docs']} unchanged articles: median {r['median_s']:.3f}s in-process "
                     f"(runs {r['runs_s']}), `rag ingest` process {r['cli_s']:.2f}s; "
                     f"{r['embedded']} embeddings, model loaded: {r['model_loaded']}")
    if "quality" in steps:
        q = in_fresh_process("quality", dataset=dataset, work=work, cache=cache, limit=limit or 0)
        report["quality"] = q
        lines.append(f"Dense nDCG@10 on SciFact test ({q['docs']} docs, {q['queries']} queries): "
                     + ", ".join(f"{k} {v}" for k, v in q["ndcg@10"].items()))
        lines.append(f"  int8 vs fp32 cosine mean {q['cosine_int8_vs_fp32']['mean']} min "
                     f"{q['cosine_int8_vs_fp32']['min']}; ONNX fp32 vs torch min "
                     f"{q['cosine_onnx_fp32_vs_torch']['min']}; int8 nDCG drop: index {q['ndcg_drop_int8_index']}, "
                     f"whole documents {q['ndcg_drop_int8_whole']}")
    return report, lines


def _median_run(timings: list[dict]) -> dict:
    """One pipeline's runs as one row: the median seconds, every run's seconds, the peak RSS."""
    row = dict(timings[-1])
    row["seconds"] = statistics.median(t["seconds"] for t in timings)
    row["runs_s"] = [round(t["seconds"], 1) for t in timings]
    row["peak_rss_mib"] = max(t["peak_rss_mib"] for t in timings)
    return row


def _fresh(home: Path) -> Path:
    shutil.rmtree(home, ignore_errors=True)
    return home


def _reingest(work: Path, dataset: Path, n: int, precision: str, cache: str, runs: int = 3) -> dict:
    """Ingest `n` articles once (untimed), then time ingesting the same, unchanged folder."""
    folder = work / f"reingest-files-{n}"
    if not (folder / ".complete").exists():
        folder.mkdir(parents=True, exist_ok=True)
        docs = scifact_docs(dataset)
        for i in range(n):   # short real articles: a title and the abstract's opening
            d = docs[i % len(docs)]
            (folder / f"a{i:05d}.txt").write_text(f"{d['title']}\n\n{d['text'][:300]}\n", encoding="utf-8")
        (folder / ".complete").write_text("")
    home = _fresh(work / f"reingest-{precision}-{n}")
    first = in_fresh_process("ingest_ours", home=home, files=folder, precision=precision, cache=cache)
    timed = [in_fresh_process("reingest_ours", home=home, files=folder, precision=precision, cache=cache)
             for _ in range(runs)]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "rag.cli", "--home", str(home), "ingest", str(folder)],
                   check=True, capture_output=True, cwd=str(ROOT), env=child_env())
    cli_s = time.perf_counter() - started
    return {"docs": n, "first_ingest_s": round(first["seconds"], 1),
            "runs_s": [round(t["seconds"], 3) for t in timed],
            "median_s": statistics.median(t["seconds"] for t in timed), "cli_s": cli_s,
            "unchanged": timed[-1]["unchanged"], "changed": timed[-1]["changed"],
            "embedded": sum(t["embedded"] for t in timed),
            "model_loaded": any(t["model_loaded"] for t in timed),
            "peak_rss_mib": max(t["peak_rss_mib"] for t in timed)}
