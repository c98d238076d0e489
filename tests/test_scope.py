"""A question that names the article it asks about is answered from that article alone."""

from __future__ import annotations

import pytest

from conftest import indexed
from rag.scope import named_article, without


@pytest.mark.parametrize("question, words, dateline, rest", [
    ("What did the mayor promise, according to the Reuters-based story?", ("reuter",), False,
     "What did the mayor promise?"),
    ("In the Lisbon-datelined report, what did the mayor promise?", ("lisbon",), True,
     "What did the mayor promise?"),
    ("Why does the harbour analysis say the plan is late?", ("harbour",), False,
     "Why does it say the plan is late?"),
    ("How long will it take, per the piece on the ferry strike?", ("ferri", "strike"), False,
     "How long will it take?"),
])
def test_the_phrase_naming_an_article_is_found_and_taken_out(question, words, dateline, rest):
    described = named_article(question)
    assert described is not None
    assert (described.words, described.dateline) == (words, dateline)
    assert without(question, described) == rest


@pytest.mark.parametrize("question", [
    "What did the mayor promise?",
    "What does the report say about the dam?",        # names no article: which report?
    "According to these reports, what was built?",    # all of them
    "What is the story of the Blue River dam?",        # asks for the story
    "What did the mayor say in the interview about the tram line?",   # asks about the tram line
])
def test_a_question_that_names_no_one_article_is_not_scoped(question):
    assert named_article(question) is None


HARBOUR = {
    "ferry.txt": "Lisbon, May 2 - The ferry operator said the new harbour terminal will open in June. "
                 "Ferry crews welcomed the plan.",
    "bridge.txt": "According to Reuters, the bridge authority said the new harbour terminal will open "
                  "in September, after the bridge repairs. Reuters reported that the delay costs the city "
                  "money. The authority told Reuters the repairs are on schedule.",
    "market.txt": "The fish market moved to the old harbour in 2019. Traders say the move went well.",
}


@pytest.mark.parametrize("question, month, doc", [
    ("When will the new harbour terminal open, according to the Reuters-based story?", "September",
     "bridge"),
    ("In the Lisbon-datelined report, when will the new harbour terminal open?", "June", "ferry"),
])
def test_a_question_naming_its_article_is_answered_from_that_article(make_assistant, tmp_path,
                                                                     question, month, doc):
    assistant = indexed(make_assistant, tmp_path / "harbour", HARBOUR)
    answer = assistant.ask(question)
    assert month in answer.text and {c.doc_id for c in answer.citations} == {doc}, answer
    assert answer.query == "When will the new harbour terminal open?"
    assert answer.scope == assistant.document(doc).title


def test_a_description_that_fits_no_one_article_leaves_the_question_as_asked(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "harbour", HARBOUR)
    question = "When will the new harbour terminal open, according to the Madrid-datelined report?"
    answer = assistant.ask(question)
    assert answer.query == question
    assert {c.doc_id for c in answer.citations} >= {"ferry", "bridge"}, answer
