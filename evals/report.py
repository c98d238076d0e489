"""Render an eval run: terminal table, JSON run file, and a report folder (Markdown, HTML, plots).

The report folder holds index.md and index.html (the same content), accuracy_by_type.png (ours vs
the plain-LlamaIndex baseline), latency.png (per-stage distribution) and, with a previous run,
comparison.png plus a question-by-question list of regressions. It only reads run records;
it never runs the assistant.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from evals.metrics import discordant, wilson

HEADLINE = ("accuracy", "key_fact_recall", "token_f1", "semantic", "hit@3", "mrr", "ndcg@3",
            "evidence_recall", "read_recall", "citation_recall", "citation_precision", "citations_in_gold",
            "abstain_precision", "abstain_recall", "false_abstentions")
TYPE_COLUMNS = ("n", "accuracy", "key_fact_recall", "token_f1", "hit@3", "citation_recall")
HIGHER_IS_BETTER = set(HEADLINE) - {"false_abstentions"}


# -- run files ----------------------------------------------------------------------------
def write_run(record: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def load_run(path: Path) -> dict:
    from rag.errors import RagError

    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
        record["metrics"]["overall"]
        record["questions"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RagError(f"{path} is not an eval run file ({type(exc).__name__}): "
                       "pass a run.json written by `rag eval --out` or `--report`") from None
    return record


# -- comparison -----------------------------------------------------------------------------
def compare(before: dict, after: dict, tolerance: float = 0.1) -> dict:
    """Metric deltas and the questions that got worse (correct -> wrong, or a per-question metric
    down by more than `tolerance`)."""
    b, a = before["metrics"]["overall"], after["metrics"]["overall"]
    deltas = {k: {"before": b.get(k), "after": a.get(k),
                  "delta": None if b.get(k) is None or a.get(k) is None else round(a[k] - b[k], 4)}
              for k in HEADLINE}
    old = {q["id"]: q for q in before["questions"]}
    regressions, improvements = [], []
    for q in after["questions"]:
        p = old.get(q["id"])
        if not p:
            continue
        worse = [k for k in ("key_fact_recall", "citation_recall", "evidence_recall")
                 if _num(p["metrics"].get(k)) - _num(q["metrics"].get(k)) > tolerance]
        if p["metrics"]["correct"] and not q["metrics"]["correct"]:
            worse.insert(0, "correct")
        better = (not p["metrics"]["correct"]) and q["metrics"]["correct"]
        if worse:
            regressions.append({"id": q["id"], "type": q["type"], "question": q["question"],
                                "worse": worse, "before": p["answer"], "after": q["answer"]})
        elif better:
            improvements.append({"id": q["id"], "type": q["type"], "question": q["question"]})
    return {"before_commit": before.get("run", {}).get("git_commit", "?"),
            "metrics": deltas, "regressions": regressions, "improvements": improvements}


def _num(v) -> float:
    return float(v) if v is not None else 0.0


# -- terminal -------------------------------------------------------------------------------
def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    return f"{v:.3f}"


def paired_note(run: dict) -> str:
    """For an llm-mode run: on how many of the same questions only one mode was right."""
    rows = [q for q in run["questions"] if "extractive" in q]
    if not rows:
        return ""
    llm_only, extractive_only = discordant([q["metrics"]["correct"] for q in rows],
                                           [q["extractive"]["metrics"]["correct"] for q in rows])
    return (f"Of the same {len(rows)} questions, right only in llm mode: {llm_only}; right only "
            f"extractively: {extractive_only}.")


def wrong_note(run: dict) -> str:
    """Where the wrong answers to answerable questions went wrong (harness.WRONG_AT)."""
    counts = run["metrics"]["overall"].get("wrong_at") or {}
    if not counts:
        return ""
    said = {"retrieval": "no retrieved passage held a gold quote",
            "prompt": "the LLM was shown no gold quote",
            "reading": "a gold quote was in what the answerer read"}
    parts = "; ".join(f"{said[k]}: {n}" for k, n in counts.items())
    return f"Of the {sum(counts.values())} wrong answers to answerable questions, {parts}."


def _others(record: dict) -> list[tuple[str, dict]]:
    """The runs beside ours, as (column name, metrics): the extractive answers of the same
    questions (in an llm-mode run), and the plain LlamaIndex baseline."""
    return [(name, record[key]["metrics"]) for key, name in (("extractive", "extractive"),
                                                             ("baseline", "plain LlamaIndex"))
            if key in record]


def _rows_overall(record: dict) -> list[list[str]]:
    ours = record["metrics"]["overall"]
    return [[k, _fmt(ours.get(k))] + [_fmt(other["overall"].get(k)) for _, other in _others(record)]
            for k in HEADLINE]


def _rows_types(record: dict) -> list[list[str]]:
    return [[t] + [_fmt(vals.get(c)) for c in TYPE_COLUMNS]
            + [_fmt(other["by_type"].get(t, {}).get("accuracy")) for _, other in _others(record)]
            for t, vals in record["metrics"]["by_type"].items()]


def _latency_rows(record: dict) -> list[list[str]]:
    return [[stage, f"{v['p50']:.1f}", f"{v['p95']:.1f}"]
            for stage, v in record["metrics"]["latency_ms"].items()]


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                               for i, (x, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _mode(run: dict) -> str:
    return run["mode"] + (" with the gold quotes first in its evidence (a ceiling, not a score)"
                          if run.get("gold_evidence") else "")


def terminal_table(record: dict) -> str:
    run = record["run"]
    names = [name for name, _ in _others(record)]
    parts = [f"gold set: {run['questions']} questions ({run.get('split', 'all')} split), mode {_mode(run)}, "
             f"commit {run['git_commit'][:12]}, {run.get('seconds', 0):.1f}s",
             "",
             _text_table(["metric", run["mode"]] + names, _rows_overall(record)),
             "",
             _text_table(["type", *TYPE_COLUMNS] + [f"{n} acc" for n in names], _rows_types(record)),
             "",
             _text_table(["latency ms", "p50", "p95"], _latency_rows(record))]
    cmp = record.get("comparison")
    if cmp:
        parts += ["", f"vs {cmp['before_commit'][:12]}: {len(cmp['regressions'])} regressions, "
                      f"{len(cmp['improvements'])} improvements"]
        parts += [f"  REGRESSION {r['id']} ({r['type']}): {', '.join(r['worse'])}" for r in cmp["regressions"]]
    return "\n".join(parts)


# -- report folder --------------------------------------------------------------------------
def write_report(record: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    plots = _plots(record, folder)
    sections = _sections(record, plots)
    (folder / "index.md").write_text(_markdown(sections), encoding="utf-8")
    (folder / "index.html").write_text(_html(sections), encoding="utf-8")
    return folder / "index.html"


def _sections(record: dict, plots: list[str]) -> list[tuple[str, object]]:
    """(kind, payload) blocks rendered identically to Markdown and HTML."""
    run = record["run"]
    ours = record["metrics"]["overall"]
    others = _others(record)
    beside = ", ".join(f"{name}: {_fmt(m['overall'].get('accuracy'))}" for name, m in others)
    low, high = wilson(ours.get("accuracy") or 0.0, ours.get("n") or run["questions"])
    summary = (f"{run['questions']} questions ({run.get('split', 'all')} split), mode **{_mode(run)}**, "
               f"commit `{run['git_commit'][:12]}`, {run.get('seconds', 0):.1f} s. Accuracy "
               f"**{_fmt(ours.get('accuracy'))}** (95% interval {low:.2f}-{high:.2f})"
               + (f"; {beside}" if beside else "") + ". " + paired_note(record) + " "
               + wrong_note(record)).strip()
    out: list[tuple[str, object]] = [("h1", "Gold-set eval"), ("p", summary)]
    cmp = record.get("comparison")
    if cmp:
        verdict = (f"{len(cmp['regressions'])} regression(s), {len(cmp['improvements'])} improvement(s) "
                   f"since `{cmp['before_commit'][:12]}`.")
        out += [("h2", "Compared with the previous run"), ("p", verdict)]
        if cmp["regressions"]:
            out.append(("table", (["question", "type", "worse", "before", "after"],
                                  [[f"REGRESSION {r['id']}: {r['question']}", r["type"], ", ".join(r["worse"]),
                                    _short(r["before"]), _short(r["after"])] for r in cmp["regressions"]])))
        out.append(("table", (["metric", "before", "after", "delta"],
                              [[k, _fmt(v["before"]), _fmt(v["after"]), _delta(k, v["delta"])]
                               for k, v in cmp["metrics"].items()])))
    out += [("h2", "Overall"),
            ("table", (["metric", run["mode"]] + [n for n, _ in others], _rows_overall(record))),
            ("h2", "By question type"),
            ("table", (["type", *TYPE_COLUMNS] + [f"{n} accuracy" for n, _ in others],
                       _rows_types(record))),
            ("h2", "Latency (ms)"),
            ("table", (["stage", "p50", "p95"], _latency_rows(record)))]
    out += [("img", p) for p in plots]
    wrong = [q for q in record["questions"] if not q["metrics"]["correct"]]
    out += [("h2", f"Questions not answered correctly ({len(wrong)})"),
            ("table", (["id", "type", "question", "answer", "key facts"],
                       [[q["id"], q["type"], q["question"], _short(q["answer"]),
                         _fmt(q["metrics"]["key_fact_recall"])] for q in wrong]))]
    out += [("h2", "Metrics"), ("p", _GLOSSARY)]
    return out


_GLOSSARY = ("accuracy: answerable question with every key fact and no abstention, or unanswerable "
             "question abstained. hit@3/mrr/ndcg@3: gold articles among the retrieved passages' "
             "articles. evidence_recall: gold quotes inside the passages the answerer reads. "
             "read_recall: gold quotes inside the passages the LLM was shown (llm mode). "
             "citation recall/precision: ALCE-style, with a local support check (embedding similarity "
             "plus content-word and number overlap). citations_in_gold: share of citations into gold "
             "articles. false_abstentions: share of answerable questions refused.")


def _delta(name: str, d) -> str:
    if d is None:
        return "-"
    worse = (d < 0) if name in HIGHER_IS_BETTER else (d > 0)
    return f"{d:+.3f}" + (" ▼" if worse and abs(d) > 1e-9 else "")


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n - 1] + "…"


def _markdown(sections) -> str:
    lines = []
    for kind, payload in sections:
        if kind == "h1":
            lines += [f"# {payload}", ""]
        elif kind == "h2":
            lines += [f"## {payload}", ""]
        elif kind == "p":
            lines += [str(payload), ""]
        elif kind == "img":
            lines += [f"![{payload}]({payload})", ""]
        elif kind == "table":
            header, rows = payload
            esc = lambda s: str(s).replace("|", "\\|")
            lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
            lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
            lines.append("")
    return "\n".join(lines)


def _html(sections) -> str:
    import re

    def inline(s: str) -> str:
        s = html.escape(s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
        return re.sub(r"`(.+?)`", r"<code>\1</code>", s)

    body = []
    for kind, payload in sections:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{inline(payload)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{inline(payload)}</p>")
        elif kind == "img":
            body.append(f'<img src="{html.escape(payload)}" alt="{html.escape(payload)}">')
        elif kind == "table":
            header, rows = payload
            cells = lambda r, tag: "".join(
                f'<{tag} class="{"bad" if "▼" in str(c) or str(c).startswith("REGRESSION") else ""}">'
                f"{inline(str(c))}</{tag}>" for c in r)
            body.append("<table><tr>" + cells(header, "th") + "</tr>"
                        + "".join(f"<tr>{cells(r, 'td')}</tr>" for r in rows) + "</table>")
    style = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
             "font-size:14px;vertical-align:top}th{background:#f3f3f3}td.bad{background:#fde2e2}"
             "img{max-width:100%;display:block;margin:1em 0}code{background:#f3f3f3;padding:0 3px}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Gold-set eval</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n")


# -- plots ----------------------------------------------------------------------------------
def _plots(record: dict, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = []
    by_type = record["metrics"]["by_type"]
    types = list(by_type)
    bars = [(record["run"]["mode"], by_type, "#2b7bba")] + [
        (name, m["by_type"], color) for (name, m), color in zip(_others(record), ("#f0a030", "#bbbbbb"))]
    fig, ax = plt.subplots(figsize=(9, 4))
    xs = range(len(types))
    width = 0.8 / len(bars)
    for i, (label, values, color) in enumerate(bars):
        ax.bar([x + (i - (len(bars) - 1) / 2) * width for x in xs],
               [values.get(t, {}).get("accuracy") or 0 for t in types], width, label=label, color=color)
    ax.set_xticks(list(xs), types, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.set_title("Accuracy by question type")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "accuracy_by_type.png", dpi=110)
    plt.close(fig)
    names.append("accuracy_by_type.png")

    stages = [s for s in ("embed", "retrieve", "answer", "first_token", "llm", "total")
              if any(s in q["timings_ms"] for q in record["questions"])]
    if stages:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.boxplot([[q["timings_ms"][s] for q in record["questions"] if s in q["timings_ms"]] for s in stages],
                   tick_labels=stages, showfliers=True)
        ax.set_ylabel("ms per question")
        ax.set_title("Latency per stage (ours)")
        fig.tight_layout()
        fig.savefig(folder / "latency.png", dpi=110)
        plt.close(fig)
        names.append("latency.png")

    cmp = record.get("comparison")
    if cmp:
        keys = [k for k, v in cmp["metrics"].items() if v["before"] is not None and v["after"] is not None]
        fig, ax = plt.subplots(figsize=(9, 4))
        xs = range(len(keys))
        ax.bar([x - 0.2 for x in xs], [cmp["metrics"][k]["before"] for k in keys], 0.4,
               label=f"before ({cmp['before_commit'][:8]})", color="#bbbbbb")
        ax.bar([x + 0.2 for x in xs], [cmp["metrics"][k]["after"] for k in keys], 0.4,
               label="now", color="#2b7bba")
        ax.set_xticks(list(xs), keys, rotation=35, ha="right")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Now vs previous run: {len(cmp['regressions'])} question(s) regressed")
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / "comparison.png", dpi=110)
        plt.close(fig)
        names.append("comparison.png")
    return names
