"""`rag eval`: run the gold set, print a table, write the run file and the report folder.

Parsing and printing only: the run comes from evals.harness, the rendering from evals.report.
`--fail-under METRIC=VALUE` (repeatable) exits 1 when an overall metric is below its floor.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from rag.errors import RagError


class ThresholdMissed(RagError):
    """An eval metric is below its --fail-under floor."""


def parse_floors(values: tuple[str, ...], known: list[str]) -> dict[str, float]:
    floors = {}
    for v in values:
        name, _, number = v.partition("=")
        name = name.strip()
        try:
            floors[name] = float(number)
        except ValueError:
            raise click.BadParameter(f"{v!r}: use METRIC=VALUE, e.g. accuracy=0.8",
                                     param_hint="--fail-under") from None
        if name not in known:
            raise click.BadParameter(f"unknown metric {name!r}; known: {', '.join(known)}",
                                     param_hint="--fail-under")
    return floors


def missed(overall: dict, floors: dict[str, float]) -> list[str]:
    return [f"{name} {overall.get(name) if overall.get(name) is not None else 'n/a'} < {floor}"
            for name, floor in floors.items()
            if overall.get(name) is None or overall[name] < floor]


@click.command("eval")
@click.option("--set", "set_path", type=click.Path(path_type=Path), default=None,
              help="Gold set (.jsonl). Default: the bundled evals/gold.jsonl.")
@click.option("--mode", type=click.Choice(["extractive", "llm"]), default="extractive",
              show_default=True, help="Answering mode to evaluate (llm runs extractive beside it).")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="test", show_default=True,
              help="Gold questions to run: tune on dev, report test.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Only the first N questions of the split (a quick check).")
@click.option("--json", "as_json", is_flag=True, help="Print the run file's JSON to stdout.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the run file here (default: <report>/run.json when --report is given).")
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=None,
              help="Write a report folder (index.md, index.html, plots).")
@click.option("--baseline", "previous", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default=None, help="An earlier run.json to compare with; regressions are flagged.")
@click.option("--typos", is_flag=True,
              help="Ask each question with one typo (two letters of its longest word swapped).")
@click.option("--no-llamaindex", is_flag=True,
              help="Skip the plain-LlamaIndex baseline row (faster; not recommended for reports).")
@click.option("--gold-evidence", is_flag=True,
              help="llm mode: put the sentences holding each question's gold quotes first in the "
                   "model's evidence. Measures the reading step alone (a ceiling, not a score).")
@click.option("--fail-under", "floors", multiple=True, metavar="METRIC=VALUE",
              help="Exit 1 when an overall metric is below VALUE (repeatable), e.g. accuracy=0.8.")
@click.pass_context
def eval_command(ctx: click.Context, set_path: Path | None, mode: str, split: str, limit: int | None,
                 as_json: bool, out: Path | None,
                 report_dir: Path | None, previous: Path | None, typos: bool, no_llamaindex: bool,
                 gold_evidence: bool, floors: tuple[str, ...]) -> None:
    """Evaluate answers and retrieval on the gold set's test split (or dev, or all).

    \b
    Indexes the bundled corpus first if the home has no index. Examples:
      rag eval
      rag eval --mode llm --report docs/eval      # llm and extractive side by side
      rag eval --split dev --no-llamaindex        # tune on dev
      rag eval --report reports/today --baseline runs/last.json
      rag eval --json --fail-under accuracy=0.8 --fail-under citation_recall=0.9
      rag eval --typos --no-llamaindex            # the same questions, each with a typo
      rag eval --mode llm --gold-evidence --no-llamaindex   # the model's reading alone
    """
    from tqdm import tqdm

    from evals import report
    from evals.gold import DEFAULT_SET, load_gold, with_typo
    from evals.harness import PER_QUESTION, run_eval
    from rag.cli import assistant_from
    from rag.errors import IndexNotBuilt

    if gold_evidence and mode != "llm":
        raise click.BadParameter("only an LLM reads evidence: add --mode llm", param_hint="--gold-evidence")
    known = sorted({*PER_QUESTION, "accuracy", "abstain_precision", "abstain_recall"} - {"correct"})
    wanted = parse_floors(floors, known)
    path = set_path or DEFAULT_SET
    questions = load_gold(path, split)[:limit]
    if typos:
        questions = [dataclasses.replace(q, question=with_typo(q.question)) for q in questions]
    prior = report.load_run(previous) if previous else None
    assistant = assistant_from(ctx)
    try:
        assistant.docs() and assistant.retrieve("index check", k=1)
    except IndexNotBuilt:
        click.echo(f"no index in {assistant.settings.home}: indexing the bundled corpus first", err=True)
        assistant.ingest()
    bar = tqdm(total=len(questions) * (1 if no_llamaindex else 2), unit="q", desc="eval",
               file=sys.stderr, disable=None, leave=False)

    def progress(done: int, total: int) -> None:
        bar.update(done - bar.n)

    record = run_eval(assistant, questions, mode=mode, baseline=not no_llamaindex,
                      set_path=str(path), split=split, progress=progress, gold_evidence=gold_evidence)
    record["run"]["typos"] = typos
    bar.close()
    if prior:
        record["comparison"] = report.compare(prior, record)
    if out or report_dir:
        report.write_run(record, out or report_dir / "run.json")
    if report_dir:
        report.write_report(record, report_dir)
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        click.echo(report.terminal_table(record))
        if report_dir:
            click.echo(f"report: {report_dir / 'index.html'}")
    failures = missed(record["metrics"]["overall"], wanted)
    if failures:
        raise ThresholdMissed("below --fail-under: " + "; ".join(failures))
