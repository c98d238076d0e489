"""A question's words matched to the corpus's by meaning (real MiniLM word vectors, tiny data)."""

from __future__ import annotations

import sqlite3

import numpy as np

from conftest import write_articles
from index.terms import stem
from rag.neighbours import WordNeighbours

ARTICLES = {
    "harbour.txt": "Talks on the Port Amber ferry line resumed this week after a long pause.\n\n"
                   "The Norland ambassador said the ferry dispute would be settled before winter. Harbour "
                   "crews kept working through the night to repair the pier. Fuel prices rose again in "
                   "March, and the town council approved a new budget for road repairs.",
    "mill.txt": "The old mill in Lindholm will become a museum. The town bought the building in 2019 for "
                "2 million crowns. Volunteers cleaned the grounds on Saturday, and a cafe is planned.",
}
IN_OTHER_WORDS = "What did the envoy predict about the quarrel over the ferry?"


def test_a_question_in_other_words_finds_the_sentence_that_says_it(make_assistant, tmp_path):
    folder = write_articles(tmp_path / "articles", ARTICLES)
    off = make_assistant(home=tmp_path / "off", neighbour_cos=0.0)
    off.ingest([folder])
    assert off.ask(IN_OTHER_WORDS, mode="extractive").abstained      # "envoy", "quarrel": no such words
    on = make_assistant(home=tmp_path / "on")
    on.ingest([folder])
    answer = on.ask(IN_OTHER_WORDS, mode="extractive")
    assert not answer.abstained and "dispute would be settled before winter" in answer.text
    assert on.ask("Who won the football match?", mode="extractive").abstained


def test_neighbours_are_the_corpus_words_close_in_meaning(embedder):
    vocab = ["ambassador", "disputes", "mill", "museum", "winter", "crowns", "russia", "mediterranean"]
    near = WordNeighbours(vocab, embedder.embed(vocab), embedder.embed, cos=0.6)
    found = near("What did the envoy say about the quarrel at the mill?")
    assert found[stem("envoy")] == {stem("ambassador")}
    assert stem("disputes") in found[stem("quarrel")]
    assert stem("mill") not in found                  # a word the corpus uses is matched as it is
    assert not any(stem("museum") in ns or stem("crowns") in ns for ns in found.values())
    assert WordNeighbours(vocab, embedder.embed(vocab), embedder.embed, cos=0.0)("the envoy") == {}
    # a name is never another name: Greece's neighbours would be Russia and the Mediterranean
    assert stem("greece") in near("What does greece want?")
    assert stem("greece") not in near("What does Greece want?")


def test_ingest_stores_the_corpus_words_and_fills_in_an_index_that_has_none(make_assistant, tmp_path):
    folder = write_articles(tmp_path / "articles", ARTICLES)
    assistant = make_assistant()
    assistant.ingest([folder])
    db = tmp_path / "home" / "catalog.sqlite"

    def stored() -> set[str]:
        with sqlite3.connect(db) as con:
            return {w for (w,) in con.execute("SELECT word FROM words")}

    words = stored()
    assert {"ambassador", "dispute", "museum", "lindholm"} <= words and "the" not in words and "2019" not in words
    with sqlite3.connect(db) as con:
        con.execute("DELETE FROM words")       # as an index built before words had vectors
    report = make_assistant().ingest([folder])
    assert report.embedded == 0 and stored() == words
    off = make_assistant(home=tmp_path / "off", neighbour_cos=0.0)
    off.ingest([folder])
    with sqlite3.connect(tmp_path / "off" / "catalog.sqlite") as con:
        assert con.execute("SELECT COUNT(*) FROM words").fetchone()[0] == 0
    with sqlite3.connect(db) as con:
        vectors = np.stack([np.frombuffer(v, dtype=np.float16) for (v,) in con.execute("SELECT vec FROM words")])
    assert np.allclose(np.linalg.norm(vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)   # MiniLM's
