"""`rag eval` end to end over the bundled corpus: the gold set in extractive mode with the CI
thresholds, the run file, the report folder, and the comparison with an earlier run."""

import json

import pytest
from click.testing import CliRunner

from rag.cli import main

# Floors a little below what the project measured (docs/evals.md); a drop below them fails CI.
FLOORS = {"accuracy": 0.62, "key_fact_recall": 0.62, "hit@3": 0.94, "mrr": 0.78,
          "evidence_recall": 0.88, "citation_recall": 0.9, "citation_precision": 0.95,
          "abstain_recall": 0.68, "abstain_precision": 0.68}


@pytest.fixture(scope="module")
def eval_run(corpus_assistant, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    args = ["--home", str(corpus_assistant.settings.home), "eval", "--split", "all", "--report",
            str(out / "report"), "--json"] + [a for k, v in FLOORS.items() for a in ("--fail-under", f"{k}={v}")]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result, out


def test_gold_set_eval_meets_the_ci_thresholds_in_extractive_mode(eval_run):
    result, _ = eval_run
    assert result.exit_code == 0, result.output[-2000:]
    record = json.loads(result.stdout)
    overall = record["metrics"]["overall"]
    assert overall["n"] == len(record["questions"]) >= 40
    assert record["run"]["mode"] == "extractive"
    assert {"baseline"} <= set(record)         # the plain LlamaIndex row, computed in the same run
    assert record["baseline"]["metrics"]["overall"]["n"] == overall["n"]


def test_report_folder_has_pages_plots_and_the_run_file(eval_run):
    _, out = eval_run
    folder = out / "report"
    for name in ("index.md", "index.html", "run.json", "accuracy_by_type.png", "latency.png"):
        assert (folder / name).stat().st_size > 200, name
    page = (folder / "index.md").read_text()
    assert "By question type" in page and "plain LlamaIndex" in page


def test_comparison_flags_questions_that_regressed(eval_run, tmp_path):
    from evals.report import compare, write_report

    _, out = eval_run
    before = json.loads((out / "report" / "run.json").read_text())
    after = json.loads(json.dumps(before))
    victim = next(q for q in after["questions"] if q["metrics"]["correct"] and q["answerable"])
    victim["metrics"].update(correct=False, key_fact_recall=0.0)
    after["metrics"]["overall"]["accuracy"] -= 1 / len(after["questions"])
    after["comparison"] = compare(before, after)
    assert [r["id"] for r in after["comparison"]["regressions"]] == [victim["id"]]
    write_report(after, tmp_path)
    assert f"REGRESSION {victim['id']}" in (tmp_path / "index.html").read_text()
    assert (tmp_path / "comparison.png").exists()


def test_fail_under_exits_non_zero_with_a_one_line_reason(corpus_assistant, tmp_path):
    from evals.gold import DEFAULT_SET

    small = tmp_path / "two.jsonl"
    small.write_text("\n".join(DEFAULT_SET.read_text().splitlines()[:2]) + "\n")
    result = CliRunner().invoke(main, ["--home", str(corpus_assistant.settings.home), "eval",
                                       "--set", str(small), "--no-llamaindex",
                                       "--fail-under", "accuracy=1.01"])
    assert result.exit_code == 1
    assert "below --fail-under: accuracy" in result.output


def test_unknown_fail_under_metric_is_rejected(corpus_assistant):
    result = CliRunner().invoke(main, ["--home", str(corpus_assistant.settings.home), "eval",
                                       "--fail-under", "acuracy=0.5"])
    assert result.exit_code == 2
    assert "unknown metric 'acuracy'" in result.output


def test_typos_asks_each_question_with_one_typo_and_the_run_says_so(corpus_assistant, tmp_path):
    from evals.gold import DEFAULT_SET, load_gold

    small = tmp_path / "two.jsonl"
    small.write_text("\n".join(DEFAULT_SET.read_text().splitlines()[:2]) + "\n")
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, ["--home", str(corpus_assistant.settings.home), "eval", "--set",
                                       str(small), "--split", "all", "--no-llamaindex", "--typos",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    run = json.loads(out.read_text())
    assert run["run"]["typos"] is True
    asked = [q["question"] for q in run["questions"]]
    typed = [q.question for q in load_gold(small, "all")]
    assert all(a != t and len(a) == len(t) for a, t in zip(asked, typed)), asked


def test_gold_evidence_puts_the_gold_quotes_first_in_what_the_llm_reads(corpus_assistant, embedder):
    """`rag eval --gold-evidence` measures the reading step alone: a gold quote the ranking would
    leave out of the model's evidence is read when the flag is on, and only then."""
    from conftest import smollm2
    from evals.gold import GoldQuestion
    from evals.harness import run_eval
    from rag import Assistant

    question = "Who is the US ambassador to Turkey?"
    assistant = Assistant(home=corpus_assistant.settings.home, embedder=embedder,
                          llm_gguf=str(smollm2()), llm_threads=2)
    last = assistant.retrieve(question)[-1]           # the weakest passage retrieved
    quote = last.text.strip().splitlines()[-1].strip()
    gold = GoldQuestion(id="g1", type="single_fact", question=question, history=(), answerable=True,
                        gold_answer="Tom Barrack", key_facts=(("Barrack",),), articles=(last.doc_id,),
                        quotes={last.doc_id: quote})
    plain = run_eval(assistant, [gold], mode="llm", baseline=False)
    first = run_eval(assistant, [gold], mode="llm", baseline=False, gold_evidence=True)
    assert plain["questions"][0]["metrics"]["read_recall"] == 0.0, quote
    assert first["questions"][0]["metrics"]["read_recall"] == 1.0, quote
    assert first["run"]["gold_evidence"] is True and plain["run"]["gold_evidence"] is False
    assert assistant.rank_evidence is None                # the hook is cleared after the run


def test_gold_evidence_needs_llm_mode(corpus_assistant):
    result = CliRunner().invoke(main, ["--home", str(corpus_assistant.settings.home), "eval",
                                       "--gold-evidence"])
    assert result.exit_code == 2 and "add --mode llm" in result.output
