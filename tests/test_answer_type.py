"""What a question asks for and whether a sentence gives it, on made-up sentences."""

from __future__ import annotations

import pytest

from rag.answer_type import expected_kind, says, supplies, wanted


@pytest.mark.parametrize("question, kind", [
    ("How many bridges cross the Amber river?", "number"), ("When did the mill close?", "time"),
    ("Who runs the port?", "name"), ("Why did the mill close?", ""), ("What does the law say?", "")])
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert expected_kind(question) == kind


def test_an_answer_without_the_kind_asked_for_does_not_supply_it():
    q = "How many bridges cross the Amber river?"
    assert not supplies("number", "Bridges cross the Amber river near the old town.", q)
    assert supplies("number", "Seven bridges cross the Amber river.", q)
    assert not supplies("name", "The port is run by a local board.", "Who runs the port?")
    assert supplies("name", "The port is run by Mara Lind.", "Who runs the port?")


def test_a_why_question_wants_a_cause_not_already_in_the_question():
    q = "Why did the mill close after the flood?"
    cause = wanted(q)
    assert cause is not None and wanted("What prompted the strike?") is cause
    assert wanted("What did the mill make?") is None
    assert says(cause, "The mill closed because its wheel broke.", q)
    assert says(cause, "The mill closed amid falling prices.", q)
    assert not says(cause, "The mill closed after the flood.", q)      # "after" is the question's own
    assert not says(cause, "Before it closed, the mill made 100 sacks a day.", q)


def test_what_something_requires_wants_an_obligation():
    q = "What does the harbour treaty require?"
    must = wanted(q)
    assert must is not None and must is not wanted("Why did the mill close?")
    assert says(must, "Ships must pay a fee unless they fly the town's flag.", q)
    assert says(must, "Tankers are barred from the inner basin.", q)
    assert not says(must, "The harbour treaty was signed in 1990 by two towns.", q)
    assert wanted("Which treaty requires a fee from ships?") is None   # asks which, not what it requires
