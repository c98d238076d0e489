"""Summary requests are answered with one cited sentence from each article (real index, MiniLM)."""

from __future__ import annotations

import pytest

from conftest import ROOT, TINY, indexed
from openai_stub import openai_stub  # noqa: F401  (fixture)
from rag.overview import lead, subject


@pytest.mark.parametrize("question, topic", [
    ("Summarize the articles.", ""),
    ("summarise", ""),
    ("What are these documents about?", ""),
    ("TL;DR", ""),
    ("Summarize this article", ""),
    ("What's the latest news?", ""),
    ("latest headlines", ""),
    ("What is new?", ""),
    ("What is new about the tram line?", None),
    ("What is the latest on the tram line?", None),
    ("Overview of the articles on owls", "owls"),
    ("Please give me a short summary of the news on ferry tolls", "ferry tolls"),
    ("Summarise what the sources say about the tram line", "the tram line"),
    ("Can you sum up the dam project?", "the dam project"),
    ("Give me an overview of the articles about owls.", "owls"),
    ("How did the mayor sum up the tram plans?", None),
    ("What did the council say about the summary report?", None),
    ("What is the tram line about?", None),
])
def test_a_summary_request_is_told_from_a_question_and_its_topic_found(question, topic):
    assert subject(question) == topic


def test_no_gold_question_is_a_summary_request():
    # so the answer accuracy measured on the gold set never goes through a summary
    from evals.gold import load_gold

    assert [q.id for q in load_gold(ROOT / "evals" / "gold.jsonl") if subject(q.question) is not None] == []


def test_the_lead_is_the_first_full_sentence_not_a_heading():
    text = "Ferry News\nTolls on the Lindholm ferry were doubled on Monday. Commuters were angry."
    s, e = lead(text)
    assert text[s:e] == "Tolls on the Lindholm ferry were doubled on Monday."


def test_a_summary_of_everything_quotes_each_articles_lead_with_its_citation(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "tiny", TINY)
    answer = assistant.ask("Summarize the articles", mode="extractive")
    assert not answer.abstained and not answer.notice
    assert sorted(c.doc_id for c in answer.citations) == ["alpha", "beta", "gamma"]
    for c in answer.citations:
        text = assistant.document(c.doc_id).text
        assert text[c.start:c.end] == c.snippet and c.start == lead(text)[0]
        assert f"{' '.join(c.snippet.split())} [{c.n}]" in answer.text


def test_a_summary_of_more_articles_than_it_shows_says_so(make_assistant, tmp_path):
    towns = ["Amber", "Birch", "Cedar", "Dale", "Elm", "Fern", "Glen", "Holt"]
    articles = {f"{t.lower()}.txt": f"The town of {t} opened a new public library on Monday. "
                                    f"Readers queued outside for an hour." for t in towns}
    answer = indexed(make_assistant, tmp_path / "towns", articles).ask("Summarize the articles",
                                                                       mode="extractive")
    assert len(answer.citations) == 6
    assert answer.notice.startswith("the 6 newest of 8 articles")


def test_a_summary_of_a_topic_quotes_only_the_articles_about_it(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "tiny", TINY)
    answer = assistant.ask("Summarise what the articles say about the tram line", mode="extractive")
    assert [c.doc_id for c in answer.citations] == ["beta"], answer.text
    off = assistant.ask("Summarize the articles about the World Cup", mode="extractive")
    assert off.abstained and not off.citations


def test_in_a_conversation_all_articles_stay_all_and_it_is_what_was_asked_about(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "tiny", TINY)
    history = [("How long will the new tram line in Port Amber be?", "It will run 14 kilometres. [1]")]
    everything = assistant.ask("Summarize the articles", history=history, mode="extractive")
    assert len(everything.citations) == 3
    it = assistant.ask("Summarize it", history=history, mode="extractive")
    assert [c.doc_id for c in it.citations] == ["beta"], it.text


def test_in_llm_mode_a_summary_is_quoted_without_asking_the_llm(make_assistant, tmp_path, openai_stub):
    assistant = indexed(make_assistant, tmp_path / "tiny", TINY, llm_base_url=openai_stub.url,
                         llm_model="m", mode="llm", llm_timeout_s=1)
    *pieces, answer = list(assistant.stream("Summarize the articles"))
    assert [p.draft for p in pieces] == [True] and pieces[0].text == answer.text
    assert answer.mode == "extractive" and len(answer.citations) == 3
    assert openai_stub.requests == []
