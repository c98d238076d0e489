"""Questions that paraphrase their answer: read again with words related in meaning (rag.related),
on invented articles and the real MiniLM."""

import numpy as np
import pytest

from conftest import indexed
from rag.related import WordVectors, closest

HARBOUR = (
    "Harbour council approves pier repairs\n\n"
    "The Marlow harbour council met on Tuesday to discuss the winter budget. Councillor Ines Varga "
    "said the port fees could be lifted within weeks, once the new ferry contract is signed. The "
    "council also approved repairs to the northern pier, which was damaged in the autumn storms. "
    "Fishermen welcomed the repairs but asked for more parking near the quay. The council paid "
    "$40,000 for a new tugboat last year.\n\n"
    "The ferry operator has not commented on the contract. A spokesman for the fishing cooperative "
    "said members would attend the next meeting.\n")
ORCHARD = (
    "Orchard growers count storm losses\n\n"
    "Apple growers in the Tessel valley say the autumn storms destroyed a third of the harvest. The "
    "growers' association asked the regional government for emergency aid. Prices at the local "
    "market rose sharply in November. Several farms plan to plant hardier varieties next spring.\n\n"
    "The regional government said it would review the request before the end of the year.\n")


@pytest.fixture
def harbour(make_assistant, tmp_path):
    return indexed(make_assistant, tmp_path / "news", {"harbour.txt": HARBOUR, "orchard.txt": ORCHARD})


def test_a_question_in_other_words_is_answered_from_the_sentence_it_paraphrases(harbour):
    # no term of the question but "harbour" is in the answer: charges ~ fees, scrapped ~ lifted
    answer = harbour.ask("How soon could the harbour charges be scrapped?", mode="extractive")
    assert not answer.abstained, answer.text
    assert any("port fees could be lifted within weeks" in c.snippet for c in answer.citations), answer.text


def test_related_words_do_not_answer_a_number_question_about_something_else(harbour):
    # "spend" ~ "paid" would find the tugboat's price; the ferry's is not given
    answer = harbour.ask("How much did the harbour board spend on the ferry?", mode="extractive")
    assert answer.abstained, answer.text


def test_a_question_the_articles_do_not_answer_still_abstains(harbour):
    answer = harbour.ask("What did the mayor say about the new library?", mode="extractive")
    assert answer.abstained, answer.text


def test_word_vectors_are_the_models_vectors_of_each_word_and_the_cache_is_bounded(embedder):
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return embedder.embed(texts)

    vectors = WordVectors(embed, most=3)
    rows = vectors(["penalties", "sanctions", "penalties"])
    assert np.allclose(rows, embedder.embed(["penalties", "sanctions", "penalties"]), atol=1e-5)
    assert calls == [["penalties", "sanctions"]]          # each word once
    vectors(["sanctions", "harbour", "orchard"])           # "penalties" is the oldest: dropped
    vectors(["sanctions"])
    assert calls[1:] == [["harbour", "orchard"]]
    vectors(["penalties"])
    assert calls[-1] == ["penalties"]


def test_closest_finds_the_related_word_not_an_unrelated_one(embedder):
    vectors = WordVectors(embedder.embed)
    question = "Could the penalties be scrapped?"
    near, far = closest(vectors, ["penalti", "scrap"], question,
                        ["The sanctions could be removed.", "The orchard grew apples."])
    assert near["penalti"] > far["penalti"] + 0.1
    assert near["scrap"] > far["scrap"] + 0.1


TUGBOAT = ("Harbour council argues over tugboat\n\n"
           "The harbour council argued for hours about who should pay for the tugboat. Councillors asked the "
           "harbour master why the harbour council needs a tugboat at all. The council will pay for the "
           "tugboat from the harbour budget, the harbour master said.\n")


def test_when_the_k_best_passages_do_not_answer_more_get_a_second_look(make_assistant, tmp_path):
    # the argument about the tugboat ranks first and gives no price; the price is one passage below
    from conftest import smollm2

    files = {"harbour.txt": HARBOUR, "orchard.txt": ORCHARD, "tugboat.txt": TUGBOAT}
    assistant = indexed(make_assistant, tmp_path / "news", files)
    question = "How much did the harbour council pay for the tugboat?"
    assert [h.doc_id for h in assistant.retrieve(question, k=1)][0].startswith("tugboat")
    answer = assistant.ask(question, k=1, mode="extractive")
    assert not answer.abstained and "$40,000" in answer.text, answer.text
    assert answer.citations[0].doc_id.startswith("harbour")
    # a question no passage answers still abstains after the second look
    assert assistant.ask("What did the mayor say about the new library?", k=1, mode="extractive").abstained
    # the LLM (the real tiny model) reads the passage the second look found, besides the k best
    local = make_assistant(llm_gguf=str(smollm2()), llm_threads=2)
    read = local.ask(question, k=1, mode="llm").read
    assert any("$40,000" in c.snippet for c in read), read
    assert any(c.doc_id.startswith("tugboat") for c in read), read
