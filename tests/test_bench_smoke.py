"""Smoke runs of `rag bench ingest|query|coldstart|scale` on tiny inputs: each runs both sides,
writes JSON, and the numbers are sane. Nothing here asserts a time limit."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from rag.cli import main


def _bench(*args: str) -> dict:
    result = CliRunner().invoke(main, ["bench", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = args[args.index("--out") + 1]
    with open(out, encoding="utf-8") as f:
        return json.load(f)


def _positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


TOPICS = ("vitamin", "sleep", "coffee", "exercise", "microbiome", "insulin", "statin", "aspirin",
          "smoking", "ozone", "malaria", "measles", "zinc", "iron", "folate", "caffeine", "melatonin",
          "gluten", "sodium", "lithium")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """A SciFact-shaped (BEIR) dataset of 80 made-up abstracts and 20 claims, so the smoke runs
    need nothing outside the repository."""
    root = tmp_path_factory.mktemp("scifact-like")
    (root / "qrels").mkdir()
    docs = [{"_id": str(i), "title": f"{TOPICS[i % 20].title()} study {i}",
             "text": f"In cohort {i}, {TOPICS[i % 20]} intake changed outcome {i % 7} in {20 + i} adults. "
                     f"The effect of {TOPICS[i % 20]} was measured over {1 + i % 5} years."}
            for i in range(80)]
    (root / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (root / "queries.jsonl").write_text("\n".join(
        json.dumps({"_id": f"q{i}", "text": f"{TOPICS[i].title()} intake changes outcomes in adults."})
        for i in range(20)))
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"q{i}\t{i}\t1\n" for i in range(20)))
    return root


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-work")


@pytest.fixture(scope="module")
def ingest_report(work, dataset):
    return _bench("ingest", "--dataset", str(dataset), "--work", str(work), "--limit", "8", "--runs", "2",
                  "--reingest-docs", "20", "--steps", "ingest,reingest", "--out", str(work / "ingest.json"))


def test_bench_ingest_runs_both_pipelines_and_reports_a_ratio(ingest_report):
    runs = ingest_report["ingest"]["runs"]
    assert ingest_report["ingest"]["docs"] == 8
    assert _positive(runs["llamaindex"]["seconds"]) and _positive(runs["ours-int8"]["seconds"])
    assert runs["ours-int8"]["docs"] == 8 and runs["ours-int8"]["embedded"] >= 8
    assert _positive(runs["ours-int8"]["speedup_vs_baseline"])
    for run in runs.values():     # two interleaved runs each, reported by their median
        assert len(run["runs_s"]) == 2 and min(run["runs_s"]) <= round(run["seconds"], 1) <= max(run["runs_s"])
    assert ingest_report["machine"]["cores"] >= 1


def test_bench_reingest_embeds_nothing_and_loads_no_model(ingest_report):
    r = ingest_report["reingest"]
    assert r["unchanged"] == 20 and r["changed"] == 0
    assert r["embedded"] == 0 and r["model_loaded"] is False
    assert _positive(r["median_s"])


def test_bench_query_reports_percentiles_for_ours_and_the_baseline(work, dataset, ingest_report):
    report = _bench("query", "--dataset", str(dataset), "--work", str(work), "--limit", "8", "--questions", "6",
                    "--corpus", "bundled", "--corpus", "scifact", "--out", str(work / "query.json"))
    for corpus in ("bundled", "scifact"):
        row = report[corpus]
        for key in ("ours_ask", "ours_retrieve", "llamaindex_retrieve"):
            assert row[key]["n"] == 6
            assert 0 < row[key]["p50_ms"] <= row[key]["p95_ms"] <= row[key]["max_ms"]
        assert row["ours_retrieve"]["p50_ms"] <= row["ours_ask"]["p50_ms"]


def test_bench_quality_compares_int8_with_fp32(work, dataset):
    q = _bench("ingest", "--dataset", str(dataset), "--work", str(work), "--limit", "60", "--steps", "quality",
               "--out", str(work / "quality.json"))["quality"]
    assert q["queries"] >= 1
    assert all(0.0 <= v <= 1.0 for v in q["ndcg@10"].values()) and len(q["ndcg@10"]) == 8
    assert q["sentences"] > q["chunks"] >= q["docs"]
    assert abs(q["ndcg_drop_int8_index"]) <= 1.0 and abs(q["ndcg_drop_int8_whole"]) <= 1.0
    assert q["cosine_onnx_fp32_vs_torch"]["min"] > 0.9999
    assert 0.95 < q["cosine_int8_vs_fp32"]["mean"] <= 1.0


def test_bench_coldstart_times_a_real_rag_ask_process(work):
    report = _bench("coldstart", "--work", str(work), "--runs", "1", "--out", str(work / "cold.json"))
    assert report["answer_first_line"].strip()
    assert _positive(report["ours_median_s"]) and _positive(report["llamaindex_median_s"])
    assert 0 < report["ours_median_cpu_s"]
    assert report["heaviest_imports_s"]


def test_bench_scale_measures_embedded_and_server_and_draws_the_plot(work):
    plot = work / "scale.png"
    report = _bench("scale", "--work", str(work), "--sizes", "300", "--modes", "embedded,server",
                    "--queries", "10", "--plot", str(plot), "--out", str(work / "scale.json"))
    modes = {p["mode"]: p for p in report["points"]}
    assert set(modes) == {"embedded", "server"}
    assert all(p["count"] == 300 and p["dense"]["n"] == 10 for p in modes.values())
    assert modes["embedded"]["bm25"]["n"] == 10
    assert _positive(modes["server"]["server_peak_rss_mib"])
    assert plot.stat().st_size > 10_000


def test_benchmark_tables_are_rendered_from_the_json_the_benchmarks_wrote(work, ingest_report, tmp_path, capsys):
    from evals.perf_tables import main as render

    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "bench-ingest.json").write_text(json.dumps(ingest_report))
    _bench("scale", "--work", str(work), "--sizes", "200", "--modes", "embedded", "--queries", "5",
           "--out", str(folder / "bench-scale.json"))
    capsys.readouterr()
    render(str(folder))
    text = capsys.readouterr().out
    ours = ingest_report["ingest"]["runs"]["ours-int8"]
    assert f"| ours, int8 (chunks and sentences each embedded) | {ours['seconds']:.1f} |" in text
    assert f"{ours['speedup_vs_baseline']}x |" in text
    assert "| embedded | 200 |" in text
    assert "bench-query.json" not in text          # no JSON, no table


def test_the_checked_in_benchmarks_page_shows_exactly_what_the_checked_in_json_says(monkeypatch):
    from pathlib import Path

    from evals.perf_tables import main as render

    monkeypatch.chdir(Path(__file__).resolve().parent.parent)
    assert "<!-- from docs/bench/bench-ingest.json -->" in Path("BENCHMARKS.md").read_text()
    assert render("docs/bench", "--check", "BENCHMARKS.md") == 0


def test_split_benchmark_times_ours_beside_the_plain_rule_and_a_whole_ingest(tmp_path):
    report = _bench("split", "--sizes", "3000", "--cap", "60", "--ingest-up-to", "3000",
                    "--out", str(tmp_path / "split.json"))
    row = report["sizes"]["3000"]
    assert row["prose"]["split"]["sentences"] == row["prose"]["split_plain"]["sentences"] > 10
    assert row["stops"]["split"]["sentences"] == 1
    assert all(_positive(row[k]["split_plain"]["seconds"]) for k in ("prose", "stops"))
    assert _positive(row["text_stages"]["seconds"]) and row["text_stages"]["chunks"] >= 1
    assert row["ingest"]["chunks_embedded"] == row["text_stages"]["chunks"]


@pytest.mark.parametrize("first_token_s, met", [(3.9, "yes"), (4.2, "**no**")])
def test_the_summary_judges_the_local_llm_against_its_targets(tmp_path, first_token_s, met):
    from evals.perf_tables import summary_table

    def summary(first, accuracy):
        return {"summary": {"n": 3, "first_token_p50_s": first, "answer_p50_s": first + 1.0,
                            "accuracy": accuracy}}
    (tmp_path / "bench-llm.json").write_text(json.dumps({"split": "test", "machine": {"cpu": "CPU A"}, "prompts": {
        "evidence": summary(first_token_s, 0.5), "chunks": summary(20.0, 0.6)}}))
    (tmp_path / "bench-llm-avx2.json").write_text(json.dumps({"split": "test", "machine": {"cpu": "CPU B"},
                                                              "prompts": {"evidence": summary(9.0, 0.7)}}))
    rows = [r for r in summary_table(tmp_path) if "local LLM" in r]
    assert rows[0].endswith(f"| {met} |") and f"{first_token_s:.2f} s" in rows[0] and "(CPU A)" in rows[0]
    assert rows[1] == "| local LLM: no loss of accuracy against the chunk-packed prompt (CPU A) | 0.500 vs 0.600 | **no** |"
    assert len(rows) == 3 and "(CPU B) | 9.00 s, 10.00 s" in rows[2] and rows[2].endswith("| **no** |")
