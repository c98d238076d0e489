"""Markdown tables from the benchmark JSON reports, so BENCHMARKS.md never hand-copies a number.

    python -m evals.perf_tables reports/      # prints the tables for the reports found there
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"bench-{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _machine(m: dict) -> str:
    return (f"_{m['cores']} cores ({m['cpu']}), {m['mem_mib'] // 1024} GiB, Python {m['python']}, "
            f"load average at start {m['load_avg']}, {m['when']}_")


def ingest_tables(r: dict) -> list[str]:
    out = []
    if "ingest" in r:
        n = r["ingest"]["docs"]
        out += [f"SciFact, {n:,} abstracts, one file each. {_machine(r['machine'])}", "",
                "| pipeline | seconds | docs/s | texts embedded | peak RSS MiB | speed-up |",
                "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, run in r["ingest"]["runs"].items():
            label = "LlamaIndex baseline (HuggingFaceEmbedding fp32, batch 10)" if name == "llamaindex" \
                else f"ours, {name.split('-', 1)[1]} (one vector per sentence)"
            out.append(f"| {label} | {run['seconds']:.1f} | {n / run['seconds']:.1f} | "
                       f"{run.get('embedded', '–')} | {run['peak_rss_mib']:,.0f} | "
                       f"{run.get('speedup_vs_baseline', 1.0)}x |")
        out.append("")
    if "reingest" in r:
        x = r["reingest"]
        out += ["| unchanged re-ingest | articles | median s (in-process) | runs s | `rag ingest` process s "
                "| embeddings | model loaded |", "| --- | ---: | ---: | --- | ---: | ---: | --- |",
                f"| ours | {x['docs']:,} | {x['median_s']:.3f} | {x['runs_s']} | {x['cli_s']:.2f} | "
                f"{x['embedded']} | {x['model_loaded']} |", ""]
    if "quality" in r:
        q = r["quality"]
        out += [f"Dense-only retrieval on SciFact test, {q['docs']:,} abstracts ({q['sentences']:,} sentences), "
                f"{q['queries']} claims. {_machine(r['machine'])}", "",
                "| documents / questions | nDCG@10 |", "| --- | ---: |"]
        out += [f"| {k} | {v:.4f} |" for k, v in q["ndcg@10"].items()]
        c, t = q["cosine_int8_vs_fp32"], q["cosine_onnx_fp32_vs_torch"]
        out += ["", f"int8 vs fp32 document vectors: cosine mean {c['mean']}, 1st percentile {c['p01']}, "
                f"min {c['min']}. ONNX fp32 vs sentence-transformers (100 abstracts): min {t['min']}. "
                f"int8 nDCG@10 change vs fp32: {-q['ndcg_drop_int8_sentences']:+.4f} with sentence vectors "
                f"(what ingest stores), {-q['ndcg_drop_int8_whole']:+.4f} with whole documents. "
                f"Embedding time for the abstracts: {q['embed_seconds']} s.", ""]
    return out


def query_tables(r: dict) -> list[str]:
    out = [f"{r['questions']} questions per corpus, warm (5 warm-up questions first), "
           f"precision {r['precision']}. {_machine(r['machine'])}", "",
           "| corpus | pipeline | p50 ms | p95 ms | mean ms |", "| --- | --- | ---: | ---: | ---: |"]
    for corpus in ("bundled", "scifact"):
        if corpus not in r:
            continue
        row = r[corpus]
        for label, key in (("ours: embed + hybrid retrieve + extractive answer", "ours_ask"),
                           ("ours: embed + hybrid retrieve", "ours_retrieve"),
                           ("LlamaIndex retriever: embed + dense retrieve", "llamaindex_retrieve")):
            s = row[key]
            out.append(f"| {corpus} | {label} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | {s['mean_ms']:.1f} |")
    out.append("")
    agree = r.get("bundled", {}).get("answers_vs_torch")
    if agree:
        out += [f"Answers on the bundled corpus at {r['precision']} vs torch fp32 (each its own index), "
                f"{agree['questions']} eval questions: same text {agree['same_text']}, same cited "
                f"articles {agree['same_cited_articles']}, same abstention {agree['same_abstention']}.", ""]
        if "scores" in agree:
            out += ["| precision | key facts in answer | gold article cited | abstention correct |",
                    "| --- | ---: | ---: | ---: |"]
            out += [f"| {name} | {sc['key_facts_found']}/{sc['answerable']} | {sc['gold_article_cited']}/"
                    f"{sc['answerable']} | {sc['abstention_correct']}/{sc['questions']} |"
                    for name, sc in agree["scores"].items()]
            out.append("")
    return out


def coldstart_tables(r: dict) -> list[str]:
    return [f"{r['runs']} runs each, interleaved. {_machine(r['machine'])}", "",
            "| new process | median wall s | median CPU s | runs (wall s) |", "| --- | ---: | ---: | --- |",
            f"| ours: `rag ask` to the printed answer | {r['ours_median_s']:.2f} | {r['ours_median_cpu_s']:.2f} | "
            f"{r['ours_s']} |",
            f"| LlamaIndex: open index + retrieve (no answer) | {r['llamaindex_median_s']:.2f} | "
            f"{r['llamaindex_median_cpu_s']:.2f} | {r['llamaindex_s']} |", "",
            "Heaviest imports left on our path: " + ", ".join(f"{n} {s:.2f} s" for n, s in r["heaviest_imports_s"][:6]),
            ""]


def scale_tables(r: dict) -> list[str]:
    out = [f"{r['queries']} queries per point, top-10. {_machine(r['machine'])}", "",
           "| store | vectors | insert/s | dense p50 ms | dense p95 ms | BM25 p50 ms | BM25 p95 ms "
           "| client peak RSS MiB | server peak RSS MiB |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in r["points"]:
        b = p.get("bm25", {})
        out.append(f"| {p['mode']} | {p['n']:,} | {p['insert_per_s']:,} | {p['dense']['p50_ms']:.2f} | "
                   f"{p['dense']['p95_ms']:.2f} | {b.get('p50_ms', '–')} | {b.get('p95_ms', '–')} | "
                   f"{p['peak_rss_mib']:,.0f} | {p['server_peak_rss_mib'] or '–'} |")
    return out + [""]


def serve_tables(r: dict) -> list[str]:
    m = r["machine"]
    out = [f"{r['clients']} concurrent clients x {r['questions_per_client']} questions, `{r['endpoint']}`, "
           f"extractive mode, warm-up {'on' if r['warmup'] else 'off'}. _{m['cpus']} cores, Python "
           f"{m['python']}, load average before/after {m['load_average_before_after']}_", "",
           "| how | requests | errors | p50 ms | p95 ms | max ms | req/s |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows = [(f"HTTP, {r['clients']} concurrent clients", r["http"])]
    if "in_process_sequential" in r:
        rows.append(("in-process `ask`, one at a time", r["in_process_sequential"]))
    for label, x in rows:
        out.append(f"| {label} | {x['requests']} | {x['errors']} | {x['p50_ms']} | {x['p95_ms']} | "
                   f"{x['max_ms']} | {x['throughput_rps']} |")
    return out + [""]


def main(folder: str) -> None:
    root = Path(folder)
    for name, render in (("ingest", ingest_tables), ("quality", ingest_tables), ("query", query_tables),
                         ("coldstart", coldstart_tables), ("scale", scale_tables),
                         ("serve", serve_tables)):
        report = _load(root, name)
        if report:
            print(f"<!-- from {root / f'bench-{name}.json'} -->")
            print("\n".join(render(report)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "reports")
