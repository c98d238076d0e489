"""The optional LLM judge, against a real local OpenAI-protocol server: added beside the local
metrics when an LLM is configured, and never a guess when the judge misbehaves."""

from evals.gold import load_gold
from evals.harness import run_eval
from openai_stub import Reply, openai_stub  # noqa: F401  (fixture)
from rag import Assistant


def test_llm_judge_scores_are_added_when_an_llm_is_configured(corpus_assistant, embedder, openai_stub):
    questions = [q for q in load_gold() if q.answerable][:3]
    openai_stub.script('{"correct": 1, "faithful": 1}', 'Sure! {"correct": 0, "faithful": 1}',
                       Reply(text="I cannot grade this."))
    assistant = Assistant(home=corpus_assistant.settings.home, embedder=embedder,
                          llm_base_url=openai_stub.url, llm_model="judge-model", llm_timeout_s=5)
    record = run_eval(assistant, questions, mode="extractive", baseline=False)
    rows = [r["metrics"] for r in record["questions"]]
    assert [r["llm_correct"] for r in rows] == [1.0, 0.0, None]
    assert [r["llm_faithful"] for r in rows] == [1.0, 1.0, None]
    overall = record["metrics"]["overall"]
    assert overall["llm_correct"] == 0.5 and overall["llm_faithful"] == 1.0
    assert "accuracy" in overall and "citation_recall" in overall      # the local metrics stay
    first = openai_stub.requests[0]
    assert questions[0].gold_answer in first.prompt and questions[0].question in first.prompt
    assert all(r.body["model"] == "judge-model" for r in openai_stub.requests)


def test_no_llm_means_no_judge_scores(corpus_assistant):
    questions = [q for q in load_gold() if q.answerable][:2]
    record = run_eval(corpus_assistant, questions, mode="extractive", baseline=False)
    assert "llm_correct" not in record["metrics"]["overall"]
