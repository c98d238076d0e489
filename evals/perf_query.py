"""`rag bench query`: warm query latency in the offline mode, ours vs the LlamaIndex retriever.

Ours is timed per `Assistant.ask` (embed the question, hybrid retrieve, extractive answer with
citations); its retrieve-only share (embed + retrieve) is reported too. The baseline is the
plain LlamaIndex retriever (embed + dense top-k; it has no answering step). Both warm up on five
questions first. On the bundled corpus the questions are the eval set's (evals/gold.jsonl),
cycled to the requested count; on SciFact they are the test claims.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from evals.perf_common import (in_fresh_process, machine, ratio, scifact_folder, scifact_queries,
                               stats_ms)
from rag.settings import BUNDLED_CORPUS, Settings

GOLD = Path(__file__).resolve().parent / "gold.jsonl"


def eval_questions() -> list[str]:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(r["question"] for r in rows))


def bundled_questions(n: int) -> list[str]:
    unique = eval_questions()
    return [unique[i % len(unique)] for i in range(n)]


_BUILT: set[Path] = set()


def ensure_bundled(work: Path, precision: str, cache: str) -> tuple[Path, Path]:
    """Our index and the baseline's over the bundled corpus in `work`; ours is built anew once per
    run (a few seconds), so an index left by an older version is never measured."""
    ours, base = work / f"bundled-ours-{precision}", work / "bundled-baseline"
    if ours not in _BUILT:
        shutil.rmtree(ours, ignore_errors=True)
        in_fresh_process("ingest_ours", home=ours, files=BUNDLED_CORPUS, precision=precision, cache=cache)
        _BUILT.add(ours)
    if not (base / "chroma").exists():
        in_fresh_process("ingest_baseline", home=base, files=BUNDLED_CORPUS)
    return ours, base


def _scores(rows: list[dict], answers: list[dict]) -> dict:
    """Proxy answer quality from the eval set's own fields: key facts present in the answer text
    (answerable questions), correct abstention, and a gold article among the citations."""
    facts = cited = abstain = answerable = 0
    for row, a in zip(rows, answers):
        abstain += a["abstained"] == (not row["answerable"])
        if row["answerable"]:
            answerable += 1
            text = a["text"].lower()
            facts += all(any(alt.lower() in text for alt in group) for group in row["key_facts"])
            cited += bool(set(a["docs"]) & set(row["articles"]))
    return {"key_facts_found": facts, "gold_article_cited": cited, "answerable": answerable,
            "abstention_correct": abstain, "questions": len(rows)}


def answer_agreement(work: Path, precision: str, cache: str) -> dict:
    """The bundled corpus's eval questions (those without a conversation history) answered at
    `precision` and with the torch fp32 reference, each from its own index: how many answers are
    identical, and the proxy quality scores of both."""
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if not r.get("history")]
    questions = [r["question"] for r in rows]
    ours, _ = ensure_bundled(work, precision, cache)
    ref, _ = ensure_bundled(work, "torch", cache)
    a = in_fresh_process("answers_ours", home=ours, questions=questions, precision=precision, cache=cache)
    b = in_fresh_process("answers_ours", home=ref, questions=questions, precision="torch", cache=cache)
    pairs = list(zip(a["answers"], b["answers"]))
    return {"questions": len(pairs), "reference": "torch",
            "same_text": sum(x["text"] == y["text"] for x, y in pairs),
            "same_cited_articles": sum(x["docs"] == y["docs"] for x, y in pairs),
            "same_abstention": sum(x["abstained"] == y["abstained"] for x, y in pairs),
            "scores": {precision: _scores(rows, a["answers"]), "torch": _scores(rows, b["answers"])}}


def run_query(*, dataset: Path, work: Path, limit: int | None, n_questions: int, precision: str,
              corpora: list[str]) -> tuple[dict, list[str]]:
    work = work.resolve()
    cache = str(Settings.load().models_dir)
    report: dict = {"machine": machine(), "questions": n_questions, "precision": precision}
    lines = [f"Warm query latency, {n_questions} questions (load {report['machine']['load_avg']})",
             f"  {'corpus':<10}{'pipeline':<34}{'p50 ms':>9}{'p95 ms':>9}"]
    for corpus in corpora:
        if corpus == "bundled":
            ours_home, base_home = ensure_bundled(work, precision, cache)
            questions = bundled_questions(n_questions)
        elif corpus == "scifact":
            tag = limit or "all"
            ours_home, base_home = work / f"ours-{precision}-{tag}", work / f"baseline-{tag}"
            if not (ours_home / "catalog.sqlite").exists() or not (base_home / "chroma").exists():
                raise SystemExit(f"no SciFact indexes in {work} for limit {tag}: run "
                                 f"`rag bench ingest --work {work} --limit {limit or 0}` first")
            scifact_folder(work, dataset, limit)
            texts, _ = scifact_queries(dataset)
            questions = list(texts.values())[:n_questions]
        else:
            raise SystemExit(f"unknown corpus {corpus!r}: use bundled or scifact")
        ours = in_fresh_process("query_ours", home=ours_home, questions=questions,
                                precision=precision, cache=cache)
        base = in_fresh_process("query_baseline", home=base_home, questions=questions)
        row = {"ours_ask": stats_ms(ours["ask_s"]), "ours_retrieve": stats_ms(ours["retrieve_s"]),
               "llamaindex_retrieve": stats_ms(base["retrieve_s"]),
               "abstained": ours["abstained"], "ours_peak_rss_mib": ours["peak_rss_mib"],
               "llamaindex_peak_rss_mib": base["peak_rss_mib"]}
        row["p50_ratio_llamaindex_retrieve_over_ours_ask"] = ratio(row["llamaindex_retrieve"]["p50_ms"],
                                                                   row["ours_ask"]["p50_ms"])
        report[corpus] = row
        if corpus == "bundled" and precision != "torch":
            row["answers_vs_torch"] = agree = answer_agreement(work, precision, cache)
            lines.append(f"  bundled answers at {precision} vs torch fp32 ({agree['questions']} questions): "
                         f"same text {agree['same_text']}, same cited articles "
                         f"{agree['same_cited_articles']}, same abstention {agree['same_abstention']}")
            for name, sc in agree["scores"].items():
                lines.append(f"    {name}: key facts {sc['key_facts_found']}/{sc['answerable']}, gold article "
                             f"cited {sc['gold_article_cited']}/{sc['answerable']}, abstention correct "
                             f"{sc['abstention_correct']}/{sc['questions']}")
        for name, key in (("ours: retrieve + answer", "ours_ask"), ("ours: embed + retrieve", "ours_retrieve"),
                          ("llamaindex: embed + retrieve", "llamaindex_retrieve")):
            lines.append(f"  {corpus:<10}{name:<34}{row[key]['p50_ms']:9.1f}{row[key]['p95_ms']:9.1f}")
    return report, lines
