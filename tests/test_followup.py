"""Offline follow-up resolution on invented conversations (no corpus, no model)."""

import pytest

from rag.followup import standalone_query


@pytest.mark.parametrize("question, history, expected", [
    # a pronoun takes the last person named, titles and nationality before them dropped
    ("What did she say next?", [("Who spoke first?", "Norlandic Foreign Minister Ana Roy spoke first [1].")],
     "What did Ana Roy say next?"),
    ("What had he promised?", [("Whose remarks was it answering?", "Ambassador to Norland Piet Vale's.")],
     "What had Piet Vale promised?"),
    # an institution or a region is not a person: the earlier name is taken
    ("Did he agree?", [("Who met Brian Cole?", "The Harbour Ministry met him in the Eastern Sea.")],
     "Did Brian Cole agree?"),
    ("What is his plan?", [("Who leads the Council?", "Mara Lind.")], "What is Mara Lind's plan?"),
])
def test_a_pronoun_becomes_the_person_named_last(question, history, expected):
    assert standalone_query(question, history) == expected


def test_an_elliptical_question_takes_the_key_words_of_the_last_question_and_answer():
    history = [("Which glider did the club order?", "The Skylark Nine [1]. It flies far [2].")]
    query = standalone_query("From which makers?", history)
    assert query.startswith("From which makers? (")
    assert "glider" in query and "Skylark Nine" in query
    assert "flies" not in query and "[1]" not in query      # only the answer's first sentence


def test_a_pronoun_for_someone_named_by_one_word_takes_the_last_question_and_answer():
    # "Vale" alone may be a person or a place: the pronoun is not replaced, the context is added
    history = [("What did Vale call the harbour ruling?", "She called it unfair [1].")]
    query = standalone_query("And what did she promise would happen to the old pier?", history)
    assert query.startswith("And what did she promise would happen to the old pier? (")
    assert "Vale" in query and "ruling" in query and "unfair" in query


def test_an_answer_that_opens_with_reports_differ_gives_its_claim_words():
    query = standalone_query("And them?", [("Who won?", "Reports differ. The Red Team won [1]. Blue did [2].")])
    assert "Red Team" in query and "differ" not in query


def test_a_question_that_stands_alone_is_unchanged():
    history = [("Who is Ana Roy?", "A minister.")]
    assert standalone_query("What does the Norland treaty require of member states?", history) == \
        "What does the Norland treaty require of member states?"
