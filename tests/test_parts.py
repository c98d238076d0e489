"""A question that asks two things is split into the two questions it asks (invented questions)."""

from __future__ import annotations

import pytest

from rag.parts import question_parts


@pytest.mark.parametrize("question, parts", [
    ("Did the council approve the plan, and when will work start?",
     ["Did the council approve the plan?", "When will work start?"]),
    ("Which papers reported the flood and for the fire?", None),          # nothing led to "for"
    ("Which agencies are cited for the strike and for the lockout?",
     ["Which agencies are cited for the strike?", "Which agencies are cited for the lockout?"]),
    ("What has the mayor said about the dam, both on what it cost and on when it opens?",
     ["What has the mayor said about the dam on what it cost?",
      "What has the mayor said about the dam on when it opens?"]),
    ("What did the mayor say about the budget and what it means for schools?",
     ["What did the mayor say about the budget?", "What did the mayor say about what it means for schools?"]),
    ("Is the plan about saving money, or about winning votes?",
     ["Is the plan about saving money?", "Is the plan about winning votes?"]),
    ("How many buses run from Leeds to York and to Hull?",
     ["How many buses run from Leeds to York?", "How many buses run from Leeds to Hull?"]),
])
def test_two_questions_in_one_are_split_with_what_they_share(question, parts):
    assert question_parts(question) == (parts or [question])


@pytest.mark.parametrize("question", [
    "Is the bridge safe for cars and trucks?",
    "Who won the match between Leeds and York?",
    "Why did the council and the mayor disagree?",
    "What did she say, and?",                       # a part of fewer than three words is no question
    "How many ships and planes took part?",
])
def test_one_question_stays_whole(question):
    assert question_parts(question) == [question]
