"""Markdown tables from the benchmark JSON reports, so BENCHMARKS.md never hand-copies a number.

    python -m evals.perf_tables docs/bench                        # print the tables
    python -m evals.perf_tables docs/bench --update BENCHMARKS.md  # rewrite its table blocks
    python -m evals.perf_tables docs/bench --check BENCHMARKS.md   # exit 1 if they differ

In BENCHMARKS.md each block runs from `<!-- from docs/bench/bench-NAME.json -->` to `<!-- end -->`.
`python -m evals.render_docs` renders these blocks together with every other rendered number in
BENCHMARKS.md, README.md and docs/.
"""

from __future__ import annotations

import json
import re
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
        out += [f"SciFact, {n:,} abstracts, one file each; median of {r['ingest']['runs_each']} runs per pipeline, "
                f"interleaved. {_machine(r['machine'])}", "",
                "| pipeline | median s | runs s | docs/s | chunks embedded | peak RSS MiB | speed-up |",
                "| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
        for name, run in r["ingest"]["runs"].items():
            label = "LlamaIndex baseline (HuggingFaceEmbedding fp32, batch 10)" if name == "llamaindex" \
                else f"ours, {name.split('-', 1)[1]}" + (
                    " (sentences read in the chunk's pass)" if name.endswith("in_chunk")
                    else " (chunks and sentences each embedded)")
            out.append(f"| {label} | {run['seconds']:.1f} | {run['runs_s']} | {n / run['seconds']:.1f} | "
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
        out += [f"Dense-only retrieval on SciFact test, {q['docs']:,} abstracts ({q['chunks']:,} chunks, {q['sentences']:,} sentences), "
                f"{q['queries']} claims. {_machine(r['machine'])}", "",
                "| documents / questions | nDCG@10 |", "| --- | ---: |"]
        out += [f"| {k} | {v:.4f} |" for k, v in q["ndcg@10"].items()]
        c, t = q["cosine_int8_vs_fp32"], q["cosine_onnx_fp32_vs_torch"]
        out += ["", f"int8 vs fp32 document vectors: cosine mean {c['mean']}, 1st percentile {c['p01']}, "
                f"min {c['min']}. ONNX fp32 vs sentence-transformers (100 abstracts): min {t['min']}. "
                f"int8 nDCG@10 change vs fp32: {-q['ndcg_drop_int8_index']:+.4f} with the index's vectors "
                f"(chunks and sentences, as ingest stores them), {-q['ndcg_drop_int8_whole']:+.4f} with whole documents.", ""]
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
           "| client peak RSS MiB | server peak RSS MiB | load at start |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in sorted(r["points"], key=lambda p: (p["mode"], p["n"])):
        b = p.get("bm25", {})
        out.append(f"| {p['mode']} | {p['n']:,} | {p['insert_per_s']:,} | {p['dense']['p50_ms']:.2f} | "
                   f"{p['dense']['p95_ms']:.2f} | {b.get('p50_ms', '–')} | {b.get('p95_ms', '–')} | "
                   f"{p['peak_rss_mib']:,.0f} | {_or_dash(p['server_peak_rss_mib'])} | "
                   f"{p['load_avg_at_start'][0]:.2f} |")
    return out + [""]


def llm_tables(r: dict) -> list[str]:
    prompts = r["prompts"]
    first = next(iter(prompts.values()))["summary"]["n"]
    out = [f"Gold set, {r['split']} split, {first} questions, {r['llm']}, one question at a time through "
           f"`Assistant.stream` (retrieval, prompt, model, verification). {_machine(r['machine'])}", "",
           "| prompt | first token p50 s | p95 s | whole answer p50 s | p95 s | generation tokens/s p50 "
           "| prompt tokens p50 | accuracy | fell back |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    names = {"evidence": "evidence (best sentences, neighbours)", "chunks": "chunk-packed (8 chunks)",
             "evidence+repack": "evidence, llama.cpp's repacked weights (`llm_repack = on`)",
             "evidence+llama.cpp": "evidence, on llama.cpp (`llm_runtime = llama.cpp`)",
             "evidence+openvino": "evidence, on OpenVINO (`llm_runtime = openvino`)"}
    for name, block in prompts.items():
        x = block["summary"]
        out.append(f"| {names.get(name, name)} | {x['first_token_p50_s']} | {x['first_token_p95_s']} | "
                   f"{x['answer_p50_s']} | {x['answer_p95_s']} | {x['tokens_per_s_p50']} | "
                   f"{x['prompt_tokens_p50']:.0f} | {x['accuracy']:.3f} | {x['fell_back']} |")
    for key, value in r.get("ratios", {}).items():
        out.append(f"\n{key.replace('_', ' ')}: **{value}x**")
    return out


def _or_dash(mib: float | None) -> str:
    return "–" if mib is None else f"{mib:,.0f}"


def serve_tables(r: dict) -> list[str]:
    m = r["machine"]
    mode = r.get("mode", "extractive")
    out = [f"{r['clients']} concurrent clients x {r['questions_per_client']} questions, `{r['endpoint']}`, "
           f"{'extractive' if mode == 'server default' else mode} mode, warm-up {'on' if r['warmup'] else 'off'}. "
           f"_{m['cpus']} cores, Python {m['python']}, load average before/after "
           f"{m['load_average_before_after']}_", "",
           "| how | requests | errors | p50 ms | p95 ms | max ms | req/s |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    rows = [(f"HTTP, {r['clients']} concurrent clients", r["http"])]
    if "in_process_sequential" in r:
        rows.append(("in-process `ask`, one at a time", r["in_process_sequential"]))
    for label, x in rows:
        out.append(f"| {label} | {x['requests']} | {x['errors']} | {x['p50_ms']} | {x['p95_ms']} | "
                   f"{x['max_ms']} | {x['throughput_rps']} |")
    http = r["http"]
    if "answered_by" in http:
        by = ", ".join(f"{n} {k}" for k, n in sorted(http["answered_by"].items()))
        h = http["healthz_during_load"]
        out += ["", f"Answered by: {by} (busy: waited `RAG_LLM_BUSY_WAIT_S`, then answered extractively). "
                    f"`GET /healthz` during the load, twice a second: p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms, "
                    f"max {h['max_ms']} ms ({h['n']} probes)."]
    return out + [""]


def split_tables(r: dict) -> list[str]:
    out = [f"One line of the bundled corpus's prose (each copy's sentences numbered), and a run of "
           f"full stops as long; the plain rule is given up after {r['cap_s']:g} s. Text stages: read, "
           f"clean, sentence pieces, chunks (all an ingest does before it embeds). {_machine(r['machine'])}",
           "", "| characters | text | split s | plain rule (before) s | speed-up | text stages s | chunks "
           "| whole ingest s |", "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for size, row in r["sizes"].items():
        for kind in ("prose", "stops"):
            x, plain = row[kind], row[kind]["split_plain"]
            before = f"{plain['seconds']:.3f}" if plain["seconds"] is not None else f"> {plain['over_s']:g}"
            speedup = "–" if x["speedup"] is None else \
                f"{'≥ ' if plain['seconds'] is None else ''}{x['speedup']:,.0f}x"
            stages = row["text_stages"] if kind == "prose" else None
            tail = (f"{stages['seconds']:.2f} | {stages['chunks']:,} | "
                    f"{row['ingest']['seconds'] if 'ingest' in row else '–'} |") if stages else "| | |"
            out.append(f"| {int(size):,} | {kind} | {x['split']['seconds']:.3f} | {before} | {speedup} | {tail}")
    return out + [""]


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def summary_table(root: Path) -> list[str]:
    """The issue's targets against whatever reports `root` holds."""
    rows = []
    r = _load(root, "ingest") or {}
    for ingest in (r.get("ingest"), (_load(root, "ingest-all") or {}).get("ingest")):  # 1,000; all
        for name, label in (("ours-int8", "default"), ("ours-int8-in_chunk", "`sentence_vectors = \"in_chunk\"`")):
            ours = (ingest or {}).get("runs", {}).get(name)
            if ours:
                x = ours["speedup_vs_baseline"]
                rows.append((f"ingest throughput >= 2x LlamaIndex, SciFact, same model ({label})",
                             f"{x}x ({ingest['docs']:,} abstracts: {ours['seconds']:.1f} s vs "
                             f"{ingest['runs']['llamaindex']['seconds']:.1f} s)", _met(x >= 2)))
    if "reingest" in r:
        x = r["reingest"]
        rows.append((f"re-ingest of {x['docs']:,} unchanged articles < 1 s, zero embeddings",
                     f"{x['median_s']:.2f} s in-process, {x['cli_s']:.2f} s as a `rag ingest` process; "
                     f"{x['embedded']} embeddings, model loaded: {x['model_loaded']}",
                     _met(x["median_s"] < 1 and x["embedded"] == 0)))
    q = (_load(root, "quality") or {}).get("quality")
    if q:
        n = q["ndcg@10"]
        drop = q["ndcg_drop_int8_index"]
        rows.append(("int8 quality within 0.005 nDCG@10 of fp32 (SciFact)",
                     f"{-drop:+.4f} ({n['index: docs int8 / questions int8']:.4f} vs "
                     f"{n['index: docs fp32 / questions fp32']:.4f}, the index's vectors as stored)",
                     _met(drop <= 0.005)))
    c = _load(root, "coldstart")
    if c:
        rows.append(("cold start `rag ask` < 2.5 s median",
                     f"{c['ours_median_s']:.2f} s (LlamaIndex open + retrieve: {c['llamaindex_median_s']:.2f} s)",
                     _met(c["ours_median_s"] < 2.5)))
    w = _load(root, "query")
    if w and "bundled" in w:
        a = w["bundled"]["ours_ask"]
        rows.append(("warm query, bundled corpus: p50 < 20 ms, p95 < 40 ms",
                     f"p50 {a['p50_ms']:.1f} ms, p95 {a['p95_ms']:.1f} ms (retrieve + answer)",
                     _met(a["p50_ms"] < 20 and a["p95_ms"] < 40)))
    if w and "scifact" in w:
        a = w["scifact"]["ours_ask"]
        rows.append(("warm query, SciFact index: p95 < 60 ms", f"p95 {a['p95_ms']:.1f} ms", _met(a["p95_ms"] < 60)))
    sc = _load(root, "scale")
    if sc:
        have = {(p["mode"], p["n"]) for p in sc["points"]}
        want = {(m, n) for m in ("embedded", "server") for n in (10_000, 100_000, 1_000_000)}
        missing = ", ".join(f"{m} {n:,}" for m, n in sorted(want - have))
        rows.append(("scaling curve 10k / 100k / 1M, embedded and server",
                     f"{len(have & want)} of 6 points" + (f"; not run: {missing}" if missing else ""),
                     _met(not missing)))
    sv = _load(root, "serve")
    if sv:
        h = sv["http"]
        rows.append((f"web server, {sv['clients']} concurrent clients, zero errors",
                     f"{h['requests']} requests, {h['errors']} errors, p50 {h['p50_ms']} ms, p95 {h['p95_ms']} ms",
                     _met(h["errors"] == 0)))
    for name in ("llm", "llm-avx2"):
        llm = _load(root, name)
        if not (llm and "evidence" in llm["prompts"]):
            continue
        x, cpu = llm["prompts"]["evidence"]["summary"], llm["machine"]["cpu"]
        rows.append((f"local LLM: first token p50 <= 4 s, whole answer p50 <= 10 s ({cpu})",
                     f"{x['first_token_p50_s']:.2f} s, {x['answer_p50_s']:.2f} s ({llm['split']} split, "
                     f"{x['n']} questions)", _met(x["first_token_p50_s"] <= 4 and x["answer_p50_s"] <= 10)))
        if "chunks" in llm["prompts"]:
            y = llm["prompts"]["chunks"]["summary"]
            rows.append((f"local LLM: no loss of accuracy against the chunk-packed prompt ({cpu})",
                         f"{x['accuracy']:.3f} vs {y['accuracy']:.3f}", _met(x["accuracy"] >= y["accuracy"])))
    return ["| target | result | met? |", "| --- | --- | --- |"] + [f"| {a} | {b} | {c} |" for a, b, c in rows] + [""]


_RENDER = {"ingest": ingest_tables, "ingest-all": ingest_tables, "quality": ingest_tables, "query": query_tables,
           "coldstart": coldstart_tables, "scale": scale_tables, "serve": serve_tables, "serve-llm": serve_tables,
           "llm": llm_tables, "llm-avx2": llm_tables, "split": split_tables}
_BLOCK = re.compile(r"<!-- from (\S+) -->\n.*?<!-- end -->", re.S)


def blocks(root: Path, base: Path = Path()) -> dict[str, str]:
    """The summary and each report found in `base/root`, rendered as marked blocks, by marker path
    (`root` as the page names it)."""
    rendered = {f"{root}/*.json": summary_table(base / root)}
    for name, render in _RENDER.items():
        report = _load(base / root, name)
        if report:
            rendered[str(root / f"bench-{name}.json")] = render(report)
    return {where: f"<!-- from {where} -->\n" + "\n".join(lines).rstrip() + "\n<!-- end -->"
            for where, lines in rendered.items()}


def updated(text: str, root: Path, base: Path = Path()) -> str:
    fresh = blocks(root, base)
    return _BLOCK.sub(lambda m: fresh.get(m.group(1), m.group(0)), text)


def main(folder: str, action: str = "", doc: str = "") -> int:
    root = Path(folder)
    if not action:
        print("\n\n".join(blocks(root).values()))
        return 0
    path = Path(doc)
    text = path.read_text(encoding="utf-8")
    new = updated(text, root)
    if action == "--update":
        path.write_text(new, encoding="utf-8")
        return 0
    if new != text:
        print(f"{path}: its tables differ from {root}: run "
              f"`python -m evals.perf_tables {root} --update {path}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*(sys.argv[1:] or ["reports"])))
