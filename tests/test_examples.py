"""Every example question the README and the UI show is answered correctly, in both modes: the
key facts each answer must state are written here, by hand, not taken from the answering code.
A new example fails the first test until its key facts are added."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evals.metrics import key_fact_recall

ROOT = Path(__file__).resolve().parent.parent

# question -> the facts its answer must state (each a list of accepted wordings); None: abstain
KEY_FACTS: dict[str, list[list[str]] | None] = {
    "What does US law require?": [["S-400", "S 400"], ["possess", "relinquish", "give up", "operat"]],
    "Why was Turkey removed from the F-35 programme?": [["S-400", "S 400", "Russian system"],
                                                        ["acquir", "purchas", "bought", "buy"]],
    "What did Hakan Fidan say?": [["sanction"], ["soon"]],
    "Who won the 2024 Champions League final?": None,
    "What did he tell Reuters?": [["sanction"], ["soon", "technical work"]],
    # a summary quotes every article: the dispute, the jet programme and the sanctions
    "Summarize the articles": [["S-400", "S 400"], ["F-35", "F 35"], ["sanction"], ["talks"]],
}
HISTORY = {"What did he tell Reuters?": [("Who is Hakan Fidan?", "Turkey's foreign minister.")]}


def examples() -> list[str]:
    """The questions of `rag ask "..."`, `.ask("...")` and `.stream("...")` in the README, and the
    UI's examples."""
    from ui.app import EXAMPLES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r'(?:rag ask|\.ask\(|\.stream\() ?"([^"]+\?)"', readme)
    return sorted(set(found) | set(EXAMPLES))


def check(answer, question: str) -> None:
    facts = KEY_FACTS[question]
    if facts is None:
        assert answer.abstained, f"{question!r} should abstain: {answer.text}"
        return
    assert not answer.abstained and key_fact_recall(answer.text, facts) == 1.0, \
        f"{question!r} ({answer.mode}): {answer.text}"


def test_every_example_question_has_its_key_facts_here():
    shown = examples()
    assert len(shown) >= 4 and set(shown) <= set(KEY_FACTS), set(shown) - set(KEY_FACTS)


@pytest.mark.parametrize("question", sorted(KEY_FACTS))
def test_each_example_is_answered_correctly_without_an_llm(corpus_assistant, question):
    check(corpus_assistant.ask(question, history=HISTORY.get(question, ()), mode="extractive"), question)


@pytest.mark.slow
def test_each_example_is_answered_correctly_by_the_bundled_local_model(corpus_assistant, embedder):
    from rag import Assistant

    assistant = Assistant(home=corpus_assistant.settings.home, embedder=embedder, llm_gguf="", mode="llm")
    modes = []
    for question in sorted(KEY_FACTS):
        answer = assistant.ask(question, history=HISTORY.get(question, ()))
        check(answer, question)       # what the user reads, the model's or the fallback's
        modes.append(answer.mode)
    assert modes.count("llm") >= len(modes) // 2, modes   # the model wrote most of them
