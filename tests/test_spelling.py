"""Typos in questions: read as the indexed word one edit away, and nothing else changed."""

import pytest

from conftest import indexed
from rag.spelling import Speller

VOCAB = {"require": 3, "required": 2, "disagreement": 3, "harbour": 5, "dredging": 2, "prince": 4, "trawlers": 2,
         "quayside": 1}
COMMON = {"price", "what", "does", "law"}


def speller():
    return Speller(VOCAB, lambda w: w in COMMON)


@pytest.mark.parametrize("asked, read", [
    ("What does the law requre?", "What does the law require?"),        # a letter dropped
    ("Who runs the habrour?", "Who runs the harbour?"),                 # two letters swapped
    ("When does dredgign start?", "When does dredging start?"),
    ("What does the law requiire?", "What does the law require?"),      # a letter added
    ("Is it requried?", "Is it required?"),
    ("What is the price?", "What is the price?"),                       # a common word, not "prince"
    ("What is the quaysyde?", "What is the quaysyde?"),                 # the indexed word is seen once
    ("What did Habrour say?", "What did Habrour say?"),                 # a name stays as asked
    ("Are the trawler fleets ready?", "Are the trawler fleets ready?"),  # shares a stem: no typo
    ("Who regulates harbours?", "Who regulates harbours?"),             # two edits away from all
    ("Despite disagreeing, who won?", "Despite disagreeing, who won?"),  # stems one edit apart, words not
])
def test_a_typo_is_read_as_the_indexed_word_one_edit_away(asked, read):
    assert speller().correct(asked) == read


def test_a_misspelt_question_is_answered_as_if_spelled_right(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "law", {
        "law.txt": "Harbour law\n\nThe harbour law requires every trawler to carry a beacon. The "
                   "beacons must be tested each spring, the law requires.",
        "fees.txt": "Fees\n\nThe harbour board raised the fees for trawlers in May."})
    right = assistant.ask("What does the harbour law require?", mode="extractive")
    typo = assistant.ask("What does the harbour law requre?", mode="extractive")
    assert not typo.abstained and typo.text == right.text
    assert typo.query == "What does the harbour law requires?"     # the indexed word
    assert typo.question == "What does the harbour law requre?"
    assert make_assistant(spelling="off").ask("What does the harbour law requre?",
                                              mode="extractive").query == typo.question   # as typed
