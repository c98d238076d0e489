"""Run a gold set through the public API and score it: the run record behind `rag eval`.

For every question it calls `Assistant.retrieve` (what the answerer reads) and `Assistant.ask`,
scores retrieval against the gold articles and quotes, the answer against the gold answer and
key facts, the citations with a local support check, and abstention; then it aggregates overall
and per question type. With `baseline=True` the same questions also go through the plain
LlamaIndex pipeline (rag.baseline), answered by the same offline answerer
(`Assistant.answer_hits`), so every run shows what our pipeline adds.
It never touches Chroma or LlamaIndex itself and prints nothing; rendering is report.py's job.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from evals import metrics as m
from evals.gold import GoldQuestion

RETRIEVAL_K = 3          # article-level cut-off for hit/recall/nDCG (the corpus is small)
PER_QUESTION = ("correct", "key_fact_recall", "token_f1", "semantic", f"hit@{RETRIEVAL_K}",
                f"recall@{RETRIEVAL_K}", "mrr", f"ndcg@{RETRIEVAL_K}", "evidence_recall",
                "read_recall", "citation_recall", "citation_precision", "citations_in_gold")
JUDGED = ("llm_correct", "llm_faithful")   # only when an LLM is configured (evals/judge.py)
# where a wrong answer to an answerable question went wrong: no retrieved passage held a gold
# quote; the LLM was shown none (its evidence left them out); or a quote was there to read
WRONG_AT = ("retrieval", "prompt", "reading")
Progress = Callable[[int, int], None]


def run_eval(assistant, questions: Sequence[GoldQuestion], *, mode: str = "extractive",
             baseline: bool = True, set_path: str = "", split: str = "all",
             progress: Progress | None = None, gold_evidence: bool = False) -> dict:
    """In llm mode the same questions are also answered extractively, side by side.
    `gold_evidence` (llm mode): the sentences holding each question's gold quotes go first in
    the model's evidence, so the run measures the reading step alone (a ceiling, not a score)."""
    started = time.perf_counter()
    support = m.SupportCheck(assistant.embedder.embed)
    judge = None
    if assistant.settings.llm_configured:   # optional, added beside the local metrics
        from evals.judge import LLMJudge

        judge = LLMJudge.from_settings(assistant.settings)
    results = []
    for i, q in enumerate(questions):
        assistant.rank_evidence = gold_first(q) if gold_evidence and mode == "llm" else None
        try:
            results.append(_run_one(assistant, q, mode, support, judge))
        finally:
            assistant.rank_evidence = None
        if progress:
            progress(i + 1, len(questions) * (2 if baseline else 1))
    record = {
        "run": {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "git_commit": git_commit(), "set": set_path, "split": split, "mode": mode,
                "questions": len(questions), "gold_evidence": gold_evidence and mode == "llm"},
        "settings": _settings(assistant.settings),
        "metrics": aggregate(results),
        "questions": results,
    }
    if mode == "llm":
        from evals.perf_common import machine

        record["run"]["llm"] = _llm_name(assistant)
        record["run"]["machine"] = machine()
        drafts = [_run_one(assistant, q, "extractive", support) for q in questions]
        record["extractive"] = {"metrics": aggregate(drafts)}
        for row, d in zip(results, drafts):
            row["extractive"] = {"answer": d["answer"], "abstained": d["abstained"], "metrics": d["metrics"]}
    if baseline:
        base = _run_baseline(assistant, questions, support, progress, offset=len(questions))
        record["baseline"] = {"name": "LlamaIndex VectorStoreIndex (dense, default retriever, "
                                      "no cleaning) + the same extractive answerer",
                              "metrics": aggregate(base)}
        for row, b in zip(results, base):
            row["baseline"] = {"answer": b["answer"], "abstained": b["abstained"],
                               "retrieved": b["retrieved"], "metrics": b["metrics"]}
    record["run"]["seconds"] = round(time.perf_counter() - started, 2)
    return record


def _run_one(assistant, q: GoldQuestion, mode: str, support: m.SupportCheck, judge=None) -> dict:
    k = assistant.settings.top_k
    t0 = time.perf_counter()
    hits = assistant.retrieve(q.question, k=k, history=q.history)
    retrieve_ms = (time.perf_counter() - t0) * 1e3
    answer = assistant.ask(q.question, history=q.history, k=k, mode=mode)
    timings = {"retrieval_call": retrieve_ms, **answer.timings_ms}
    row = _score(q, hits, answer, support, timings)
    if judge is not None:
        row["metrics"].update(judge.grade(q.question, q.gold_answer, answer))
    return row


def _llm_name(assistant) -> str:
    s = assistant.settings
    if s.llm_configured:
        return f"server: {s.llm_model}"
    llm = assistant.llm()
    return f"local: {llm.model} ({llm.threads} threads, {llm.where})"


def _run_baseline(assistant, questions, support, progress, offset: int) -> list[dict]:
    from evals.embed_cache import CachingEmbedder
    from rag.assistant import Assistant
    from rag.baseline import LlamaIndexBaseline

    sources = sorted({Path(d.source) for d in assistant.docs()})
    # the baseline's passages are re-split and embedded per question: remember sentence vectors
    answerer = Assistant(assistant.settings, embedder=CachingEmbedder(assistant.embedder))
    with tempfile.TemporaryDirectory(prefix="rag-eval-baseline-") as home:
        pipeline = LlamaIndexBaseline(Path(home))
        pipeline.ingest(sources)
        out = []
        k = assistant.settings.top_k
        for i, q in enumerate(questions):
            t0 = time.perf_counter()
            hits = pipeline.retrieve(q.question, k)   # plain pipeline: no follow-up resolution
            retrieve_ms = (time.perf_counter() - t0) * 1e3
            answer = answerer.answer_hits(q.question, hits)
            timings = {"retrieve": retrieve_ms, "answer": answer.timings_ms.get("answer", 0.0),
                       "total": retrieve_ms + answer.timings_ms.get("answer", 0.0)}
            out.append(_score(q, hits, answer, support, timings))
            if progress:
                progress(offset + i + 1, 2 * len(questions))
        pipeline = None
    return out


def _score(q: GoldQuestion, hits, answer, support: m.SupportCheck, timings: dict) -> dict:
    ranked = m.dedupe(h.doc_id for h in hits)
    scores: dict[str, float | bool | None] = dict.fromkeys(PER_QUESTION)
    passages = {c.n: c.snippet for c in answer.citations}
    cited_docs = [c.doc_id for c in answer.citations]
    texts = [c.snippet for c in answer.citations] + [s for s, _ in m.answer_sentences(answer.text)]
    if q.answerable and not answer.abstained:
        texts += [_strip_marks(answer.text), q.gold_answer]
    if texts:
        support.vectors(texts)   # one batch for every embedding this question's scoring needs
    if q.answerable:
        k = RETRIEVAL_K
        scores.update({f"hit@{k}": m.hit_at_k(ranked, q.articles, k),
                       f"recall@{k}": m.recall_at_k(ranked, q.articles, k),
                       "mrr": m.mrr(ranked, q.articles),
                       f"ndcg@{k}": m.ndcg_at_k(ranked, q.articles, k),
                       "evidence_recall": _quote_recall(q, [(h.doc_id, h.text) for h in hits])})
        if answer.read:
            scores["read_recall"] = _quote_recall(q, [(c.doc_id, c.snippet) for c in answer.read])
        text = "" if answer.abstained else answer.text
        scores["key_fact_recall"] = m.key_fact_recall(text, q.key_facts)
        scores["token_f1"] = m.token_f1(_strip_marks(text), q.gold_answer)
        scores["semantic"] = (m.semantic_similarity(_strip_marks(text), q.gold_answer, support.vectors)
                              if text else 0.0)
        scores["correct"] = (not answer.abstained) and scores["key_fact_recall"] == 1.0
        scores["citations_in_gold"] = m.share_in(cited_docs, q.articles)
    else:
        scores["correct"] = bool(answer.abstained)
    if not answer.abstained:
        recall, precision = m.citation_scores(answer.text, passages, support, answer.query or q.question)
        scores["citation_recall"], scores["citation_precision"] = recall, precision
    wrong_at = None
    if q.answerable and not scores["correct"]:
        wrong_at = ("retrieval" if not scores["evidence_recall"] else
                    "prompt" if answer.read and not scores["read_recall"] else "reading")
    return {"id": q.id, "type": q.type, "question": q.question, "answerable": q.answerable,
            "wrong_at": wrong_at,
            "query": answer.query or q.question, "answer": answer.text, "abstained": answer.abstained,
            "mode": answer.mode, "notice": answer.notice,
            "citations": [{"n": c.n, "doc_id": c.doc_id, "snippet": c.snippet} for c in answer.citations],
            "retrieved": ranked, "gold_articles": list(q.articles),
            "metrics": {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in scores.items()},
            "timings_ms": {k: round(v, 2) for k, v in timings.items()}}


def gold_first(q: GoldQuestion):
    """A reordering of an LLM's evidence sentences: those holding one of `q`'s gold quotes (or
    part of one, or lying inside one) first, the rest in their own order."""
    quotes = [(doc, _squash(quote).lower()) for doc, quote in q.quotes.items()]

    def holds(span) -> bool:
        text = _squash(span.text).lower()
        return len(text) > 15 and any(
            span.doc_id == doc and (quote in text or text in quote or quote[:40] in text
                                    or quote[-40:] in text) for doc, quote in quotes)

    def rank(ranked: list) -> list:
        return [sp for sp in ranked if holds(sp)] + [sp for sp in ranked if not holds(sp)]

    return rank


def _quote_recall(q: GoldQuestion, passages: Sequence[tuple[str, str]]) -> float:
    """Share of the gold quotes that lie inside one of `passages` ((doc_id, text) pairs): the
    retrieved ones (evidence_recall) or those an LLM was shown (read_recall)."""
    found = sum(any(doc_id == doc and _squash(quote) in _squash(text) for doc_id, text in passages)
                for doc, quote in q.quotes.items())
    return found / len(q.quotes) if q.quotes else 0.0


def _squash(text: str) -> str:
    return " ".join(text.split())


def _strip_marks(text: str) -> str:
    import re

    return re.sub(r"\s*\[\d+\]", "", text)


def aggregate(results: Sequence[dict]) -> dict:
    """Overall and per-type means of the per-question metrics, abstention and latency."""
    def block(rows: Sequence[dict]) -> dict:
        judged = [n for n in JUDGED if any(n in r["metrics"] for r in rows)]
        out = {name: _round(m.mean(r["metrics"].get(name) for r in rows))
               for name in PER_QUESTION + tuple(judged)}
        out["accuracy"] = out.pop("correct")
        out.update({k: round(v, 4) for k, v in m.abstention([r["answerable"] for r in rows],
                                                           [r["abstained"] for r in rows]).items()})
        out["n"] = len(rows)
        wrong = [r["wrong_at"] for r in rows if r.get("wrong_at")]
        out["wrong_at"] = {stage: wrong.count(stage) for stage in WRONG_AT if stage in wrong}
        return out

    types = sorted({r["type"] for r in results})
    return {"overall": block(results),
            "by_type": {t: block([r for r in results if r["type"] == t]) for t in types},
            "latency_ms": m.latency([r["timings_ms"] for r in results])}


def _round(value):
    return round(value, 4) if isinstance(value, float) else value


def _settings(settings) -> dict:
    out = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if "key" in f.name and "env" not in f.name:
            continue  # never a secret (settings hold env names, not keys, but be sure)
        out[f.name] = str(value) if isinstance(value, Path) else value
    return out


def git_commit() -> str:
    try:
        root = Path(__file__).resolve().parent.parent
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                               text=True, timeout=5).stdout.strip()
        return f"{sha}{'-dirty' if dirty else ''}" if sha else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"
