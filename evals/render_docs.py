"""Fill the marked parts of README.md, BENCHMARKS.md and docs/*.md from the JSON that commands
wrote, so no number or sample output in them is typed by hand.

    python -m evals.render_docs            # rewrite every marked part
    python -m evals.render_docs --check    # exit 1, naming the files whose marked parts differ

A marked part runs from `<!-- rendered: SPEC -->` to `<!-- /rendered -->`. SPEC is either
- a block name from BLOCKS (a table, a sample session, a JSON reply), rendered between blank lines;
- or one value, `SOURCE PATH [FORMAT]`, rendered inline: `PATH` is a dotted path into the
  source's JSON (`metrics.overall.mrr`), `FORMAT` a Python format spec (`.2f`, `,`, `.0f`).

The sources (SOURCES) and the commands that write them:
- `eval`, `eval-in_chunk`: docs/eval/run.json (`rag eval --report docs/eval`) and
  docs/eval/run-in_chunk.json (the same with RAG_SENTENCE_VECTORS=in_chunk and `--out`);
  `eval-llm`: docs/eval/llm/run.json (`rag eval --mode llm --report docs/eval/llm`: the test split,
  llm and extractive side by side); `eval-docs`: docs/eval/docs/run.json (`make eval-docs`: the
  documents set, evals/docs); `gold` counts evals/gold.jsonl: `questions`,
  `not_answerable`, `types.TYPE`;
- `bench-NAME`: docs/bench/bench-NAME.json (`rag bench NAME ...`, commands in BENCHMARKS.md),
  `before/bench-NAME`: docs/bench/before/bench-NAME.json (an earlier version, kept to compare);
- `scifact`, `scifact-in_chunk`: docs/scifact-test.json and docs/scifact-test-in_chunk.json
  (`rag bench retrieval ... --out`);
- `samples`: docs/samples.json (`python -m evals.samples`), what the tour's commands print;
  `prepare_s` is the model preparation's seconds, read from the first ingest's stderr.
BENCHMARKS.md's tables (`<!-- from docs/bench/... -->` blocks) are rendered by evals.perf_tables.
This module only reads JSON and Markdown; it runs nothing.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Callable

from evals import perf_tables
from evals.metrics import wilson
from evals.report import paired_note, wrong_note

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "BENCHMARKS.md", "docs/evals.md", "docs/performance.md", "docs/ui.md", "docs/llm.md")
MARKED = re.compile(r"<!-- rendered: (.+?) -->(.*?)<!-- /rendered -->", re.S)


# -- sources ------------------------------------------------------------------------------
def sources(root: Path = ROOT) -> dict[str, dict]:
    """Every JSON a marked part may read, by name (missing files are left out)."""
    def load(path: str) -> dict | None:
        p = root / path
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None

    found = {"eval": load("docs/eval/run.json"), "eval-in_chunk": load("docs/eval/run-in_chunk.json"),
             "eval-llm": load("docs/eval/llm/run.json"), "eval-fresh": load("docs/eval/fresh-q87-q107.json"),
             "eval-docs": load("docs/eval/docs/run.json"),
             "eval-fresh2": load("docs/eval/fresh-q108-q130.json"),
             "ceiling-test": load("docs/eval/ceiling/test.json"), "ceiling-dev": load("docs/eval/ceiling/dev.json"),
             "llm-dev": load("docs/eval/ceiling/dev-shipped.json"),
             "scifact": load("docs/scifact-test.json"), "scifact-in_chunk": load("docs/scifact-test-in_chunk.json"),
             "samples": load("docs/samples.json"),
             "typos": load("docs/eval/typos/test.json"), "typos-off": load("docs/eval/typos/test-off.json"),
             "typos-all": load("docs/eval/typos/all.json"),
             "typos-all-off": load("docs/eval/typos/all-off.json")}
    for path in sorted((root / "docs" / "bench").glob("bench-*.json")):
        found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    for path in sorted((root / "docs" / "bench" / "before").glob("bench-*.json")):
        found[f"before/{path.stem}"] = json.loads(path.read_text(encoding="utf-8"))
    from evals.gold import DEFAULT_SET, load_gold

    gold = load_gold(DEFAULT_SET)
    if gold:
        questions = [{"type": q.type, "answerable": q.answerable} for q in gold]
        types = [q["type"] for q in questions]
        found["gold"] = {"questions": len(questions), "not_answerable": sum(not q["answerable"] for q in questions),
                         "types": {t: types.count(t) for t in sorted(set(types))}}
    if found["samples"]:
        ready = re.search(r"model ready in ([\d.]+) s", found["samples"]["samples"]["ingest"]["stderr"])
        found["samples"]["prepare_s"] = float(ready.group(1)) if ready else None
    return {k: v for k, v in found.items() if v is not None}


def value(spec: str, data: dict[str, dict]) -> str:
    """`SOURCE PATH [FORMAT]` -> the formatted value."""
    name, path, *fmt = spec.split()
    if name not in data:
        raise KeyError(f"no source {name!r} (known: {', '.join(sorted(data))})")
    v = data[name]
    for key in path.split("."):
        v = v[int(key)] if isinstance(v, list) else v[key]
    return format(v, fmt[0] if fmt else "")


# -- blocks -------------------------------------------------------------------------------
def _command(argv: list[str]) -> str:
    return " ".join(f'"{a}"' if re.search(r"[\s?*'!$]", a) else a for a in argv)


def tour(data: dict, root: Path) -> str:
    """The tour's commands and what they print (stderr, then stdout), as an indented code block."""
    lines = []
    for sample in data["samples"]["samples"].values():
        if "argv" not in sample:
            continue
        lines.append("$ " + _command(sample["argv"]))
        lines += (sample["stderr"] + sample["stdout"]).rstrip("\n").splitlines()
    return "\n".join(("    " + line).rstrip() for line in lines)


def preparation(data: dict, root: Path) -> str:
    """What the first `rag ingest` printed on stderr while it prepared the model."""
    return "\n".join("    " + line for line in data["samples"]["samples"]["ingest"]["stderr"].rstrip("\n").splitlines())


def api_reply(data: dict, root: Path) -> str:
    """The chat completion `rag serve` returned for the sample question, as a JSON code block."""
    reply = data["samples"]["samples"]["api"]["reply"]
    return "```json\n" + json.dumps(reply, ensure_ascii=False, indent=2) + "\n```"


_EVAL_ROWS = ("accuracy", "key_fact_recall", "hit@3", "mrr", "ndcg@3", "evidence_recall", "read_recall",
              "citation_recall", "citation_precision", "citations_in_gold", "abstain_precision",
              "abstain_recall", "false_abstentions")


def eval_table(data: dict, root: Path, source: str = "eval") -> str:
    """Ours (the llm mode and, beside it, the extractive answers of the same questions, when the
    run has both) against the plain LlamaIndex pipeline, from the checked-in eval run."""
    run = data[source]
    columns = [(f"ours, {run['run']['mode']}", run["metrics"]["overall"])]
    if "extractive" in run:
        columns.append(("ours, extractive", run["extractive"]["metrics"]["overall"]))
    columns.append(("plain LlamaIndex", run["baseline"]["metrics"]["overall"]))
    lines = [f"_{run['run']['questions']} questions ({run['run'].get('split', 'all')} split), mode "
             f"{run['run']['mode']}{', ' + run['run']['llm'] if 'llm' in run['run'] else ''}, commit "
             f"`{run['run']['git_commit'][:12]}`, {run['run']['started'][:10]}_", "",
             "| metric | " + " | ".join(n for n, _ in columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for k in _EVAL_ROWS:
        lines.append(f"| {k} | " + " | ".join(f"{c[k]:.3f}" if c.get(k) is not None else "-"
                                              for _, c in columns) + " |")
        if k == "accuracy":
            lines.append("| accuracy, 95% interval (Wilson) | " + " | ".join(
                "{:.2f}-{:.2f}".format(*wilson(c["accuracy"], c["n"])) for _, c in columns) + " |")
    notes = " ".join(n for n in (paired_note(run), wrong_note(run)) if n)
    return "\n".join(lines + ([""] + [notes] if notes else []))


def llm_table(data: dict, root: Path, source: str = "bench-llm") -> str:
    """The local LLM's speed per prompt, from `rag bench llm` (bench-llm-avx2: on a CPU without
    bf16, where llama.cpp is the default runtime)."""
    return "\n".join(perf_tables.llm_tables(data[source])).strip()


def scifact_table(data: dict, root: Path) -> str:
    """The retrieval benchmark's table, as `rag bench retrieval` prints it."""
    from evals.bench_retrieval import table

    return "\n".join(table(data["scifact"]["results"], data["scifact"]["split"]).splitlines()[1:])


def sentence_vectors_table(data: dict, root: Path) -> str:
    """The two ways of making sentence vectors: ingest speed, retrieval, answers."""
    one, every = data["bench-ingest"]["ingest"], data["bench-ingest-all"]["ingest"]
    lines = [f"| `sentence_vectors` | how | ingest vs LlamaIndex ({one['docs']:,} SciFact abstracts; "
             f"all {every['docs']:,}) | SciFact hybrid nDCG@10 (test) | gold accuracy (extractive) |",
             "| --- | --- | --- | --- | --- |"]
    for name, how, run, scifact, gold in (
            ("alone", "each sentence embedded on its own, after the chunks", "ours-int8", "scifact", "eval"),
            ("in_chunk", "pooled from the chunk's own pass: the mean of the sentence's token states, read "
             "with the whole chunk as context (\"late chunking\")", "ours-int8-in_chunk", "scifact-in_chunk",
             "eval-in_chunk")):
        a, b = one["runs"][run], every["runs"][run]
        lines.append(f"| `\"{name}\"`{' (default)' if name == 'alone' else ''} | {how} | "
                     f"{a['speedup_vs_baseline']}x ({a['seconds']:.1f} s vs {one['runs']['llamaindex']['seconds']:.1f} s); "
                     f"{b['speedup_vs_baseline']}x | {data[scifact]['results']['hybrid']['ndcg@10']:.3f} | "
                     f"{data[gold]['metrics']['overall']['accuracy']:.3f} |")
    return "\n".join(lines)


def bench_summary(data: dict, root: Path) -> str:
    """The performance targets against the checked-in bench reports (BENCHMARKS.md's summary)."""
    return "\n".join(perf_tables.summary_table(root / "docs" / "bench")).rstrip()


BLOCKS: dict[str, Callable[[dict, Path], str]] = {
    "tour": tour, "preparation": preparation, "api-reply": api_reply, "eval-table": eval_table, "scifact-table": scifact_table,
    "sentence-vectors-table": sentence_vectors_table, "bench-summary": bench_summary,
    "llm-table": llm_table, "llm-avx2-table": lambda data, root: llm_table(data, root, "bench-llm-avx2"),
    "eval-llm-table": lambda data, root: eval_table(data, root, "eval-llm"),
}


# -- rendering ----------------------------------------------------------------------------
def render(text: str, data: dict[str, dict], root: Path = ROOT) -> str:
    """`text` with every marked part rendered; a block takes the indentation of its marker's line."""
    def fill(m: re.Match) -> str:
        spec = m.group(1).strip()
        if spec in BLOCKS:
            indent = text[text.rfind("\n", 0, m.start()) + 1:m.start()]
            indent = indent if not indent.strip() else ""
            lines = BLOCKS[spec](data, root).strip("\n").splitlines()
            body = "\n\n" + "".join((indent + line).rstrip() + "\n" for line in lines) + "\n" + indent
        elif " " in spec:
            body = value(spec, data)
        else:
            raise KeyError(f"unknown block {spec!r} (known: {', '.join(BLOCKS)})")
        return f"<!-- rendered: {spec} -->{body}<!-- /rendered -->"

    return MARKED.sub(fill, text)


def updated(path: Path, data: dict[str, dict], root: Path = ROOT) -> tuple[str, str]:
    """(the file's text, the text with its marked parts rendered)."""
    text = path.read_text(encoding="utf-8")
    new = render(text, data, root)
    if path.name == "BENCHMARKS.md":
        new = perf_tables.updated(new, Path("docs/bench"), root)
    return text, new


def main(argv: list[str]) -> int:
    check = "--check" in argv
    data = sources(ROOT)
    stale = []
    for name in DOCS:
        path = ROOT / name
        try:
            text, new = updated(path, data)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            print(f"{name}: cannot render a marked part: {exc}", file=sys.stderr)
            return 1
        if new != text:
            stale.append(name)
            if not check:
                path.write_text(new, encoding="utf-8")
    if check and stale:
        print(f"{', '.join(stale)}: not what the JSON in docs/ says: run `python -m evals.render_docs` "
              "(after the command that wrote the JSON)", file=sys.stderr)
        return 1
    if stale:
        print(f"rendered: {', '.join(stale)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
