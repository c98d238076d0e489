"""`rag bench llm`: the LLM's speed on the gold questions, with the evidence prompt and, side by
side, the same model answering from the chunk-packed prompt, and on the other local runtime.

For each prompt it runs the same questions through `Assistant.stream` (retrieval, the prompt, the
model, verification: what a user waits for) and records time to the first token, the whole
answer's time, generation speed, prompt and cached tokens, and whether the answer was right (every
key fact, or an abstention where the gold set has no answer). Prompts run one after the other, so
each keeps its own fixed system prompt cached, as it would in use. Medians and p95 go to JSON.
"""

from __future__ import annotations

import gc
import statistics
import time
from pathlib import Path

import click

from evals import metrics as m
from evals.perf_common import machine, write_report
from rag.llm.local import unload_all


def _one(assistant, q) -> dict:
    from rag.records import Answer

    started = time.perf_counter()
    first = None
    answer = None
    for item in assistant.stream(q.question, history=q.history, mode="llm"):
        if isinstance(item, str) and item and first is None:
            first = time.perf_counter() - started
        elif isinstance(item, Answer) and not item.draft:
            answer = item
    whole = time.perf_counter() - started
    completion = int(answer.usage.get("completion_tokens", 0))
    if q.answerable:
        right = not answer.abstained and m.key_fact_recall(answer.text, q.key_facts) == 1.0
    else:
        right = answer.abstained
    llm_s = answer.timings_ms.get("llm", 0) / 1e3
    first_token_s = answer.timings_ms.get("first_token", llm_s * 1e3) / 1e3
    return {"id": q.id, "first_token_s": round(first or whole, 3), "answer_s": round(whole, 3),
            "tokens_per_s": round(completion / (llm_s - first_token_s), 2) if llm_s > first_token_s else None,
            "prompt_tokens": int(answer.usage.get("prompt_tokens", 0)),
            "cached_tokens": int(answer.usage.get("cached_tokens", 0)),
            "completion_tokens": completion, "mode": answer.mode, "abstained": answer.abstained,
            "correct": right, "answer": answer.text}


def _summary(rows: list[dict]) -> dict:
    def med(key):
        values = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(values), 3) if values else None

    def p95(key):
        values = sorted(r[key] for r in rows if r[key] is not None)
        return round(values[min(len(values) - 1, round(0.95 * (len(values) - 1)))], 3) if values else None

    return {"n": len(rows), "first_token_p50_s": med("first_token_s"), "first_token_p95_s": p95("first_token_s"),
            "answer_p50_s": med("answer_s"), "answer_p95_s": p95("answer_s"),
            "tokens_per_s_p50": med("tokens_per_s"), "prompt_tokens_p50": med("prompt_tokens"),
            "accuracy": round(sum(r["correct"] for r in rows) / len(rows), 4),
            "fell_back": sum(r["mode"] != "llm" for r in rows)}


@click.command("llm")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="test", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N questions.")
@click.option("--prompts", default="evidence,chunks,evidence+llama.cpp", show_default=True,
              help="Prompts to compare, in order, each against the first (evidence: the best sentences; "
                   "chunks: whole chunks; +llama.cpp, +openvino: on that local runtime; +repack: on "
                   "llama.cpp with its repacked weights, llm_repack=on).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("docs/bench/bench-llm.json"),
              show_default=True)
@click.pass_context
def llm(ctx: click.Context, split: str, limit: int | None, prompts: str, out: Path) -> None:
    """Time to first token, tokens/s and answer time of the LLM, per prompt, on the gold set.

    \b
    Uses the configured LLM (the local model by default). Indexes the bundled corpus first if
    the home has no index. Example:
      rag bench llm --split test
    """
    from evals.gold import load_gold
    from rag.cli import assistant_from

    questions = load_gold(split=split)[:limit]
    report: dict = {"benchmark": "llm", "split": split, "machine": machine(), "prompts": {}}
    for spec in [p.strip() for p in prompts.split(",") if p.strip()]:
        style, _, variant = spec.partition("+")
        if variant not in ("", "repack", "llama.cpp", "openvino"):
            raise click.BadParameter(f"{spec!r}: the variants are +llama.cpp, +openvino and +repack",
                                     param_hint="--prompts")
        runtime = "llama.cpp" if variant == "repack" else variant or None
        assistant = assistant_from(ctx, llm_prompt=style, llm_repack="on" if variant == "repack" else None,
                                   llm_runtime=runtime)
        if not assistant.docs():
            assistant.ingest()
        llm = assistant.llm()
        label = f"{llm.model} ({getattr(llm, 'threads', '?')} threads, {llm.where})"
        report.setdefault("llm", label)
        rows = []
        for q in questions:
            rows.append(_one(assistant, q))
            click.echo(f"{spec} {q.id}: first token {rows[-1]['first_token_s']:.1f}s, answer "
                       f"{rows[-1]['answer_s']:.1f}s, {'right' if rows[-1]['correct'] else 'wrong'}", err=True)
        report["prompts"][spec] = {"llm": label, "summary": _summary(rows), "questions": rows}
        del assistant, llm                # one model in the process at a time: see unload_all
        unload_all()
        gc.collect()
    first, *others = list(report["prompts"])
    a = report["prompts"][first]["summary"]
    report["ratios"] = {}
    for other in others:
        b = report["prompts"][other]["summary"]
        report["ratios"].update({f"{k}_{other}_over_{first}": round(b[k] / a[k], 2)
                                 for k in ("first_token_p50_s", "answer_p50_s", "prompt_tokens_p50") if a[k] and b[k]})
    write_report(out, report)
    for style, block in report["prompts"].items():
        click.echo(f"{style}: {block['summary']}")
    click.echo(f"wrote {out}")
