"""The gold set is well-formed and cannot rot: every quote occurs verbatim in its cleaned article."""

import json

import pytest

from evals.gold import BadGoldSet, DEFAULT_SET, load_gold


def test_gold_set_covers_the_required_question_kinds():
    questions = load_gold()
    kinds = {q.type for q in questions}
    assert len(questions) >= 40
    assert sum(not q.answerable for q in questions) >= 10
    assert {"single_fact", "number_date", "why_how", "list", "paraphrase", "multi_article",
            "conflict", "follow_up", "near_miss", "unanswerable"} <= kinds
    assert all(q.history for q in questions if q.type == "follow_up")
    assert all(len(q.articles) >= 2 for q in questions if q.type in ("multi_article", "conflict"))


def test_every_gold_quote_occurs_verbatim_in_its_cleaned_article(corpus_assistant):
    missing = []
    for q in load_gold():
        assert set(q.quotes) == set(q.articles), q.id
        for doc_id, quote in q.quotes.items():
            if quote not in corpus_assistant.document(doc_id).text:
                missing.append(f"{q.id}: {doc_id}: {quote[:60]}")
    assert not missing, "gold quotes not found in the cleaned articles:\n" + "\n".join(missing)


def test_every_quote_of_the_documents_set_occurs_verbatim_in_its_cleaned_document():
    from pathlib import Path
    from index.load import load

    folder = Path(__file__).resolve().parent.parent / "evals" / "docs"
    texts = {p.stem: load(p).text for p in (folder / "corpus").iterdir()}
    questions = load_gold(folder / "gold.jsonl")
    assert len(questions) >= 100 and sum(not q.answerable for q in questions) >= 5
    for q in questions:
        assert set(q.quotes) == set(q.articles), q.id
        assert all(quote in texts[doc] for doc, quote in q.quotes.items()), q.id


def test_a_malformed_gold_line_is_reported_with_its_line_number(tmp_path):
    rows = [json.loads(line) for line in DEFAULT_SET.read_text().splitlines()[:2]]
    del rows[1]["quotes"]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(BadGoldSet, match=r"bad.jsonl:2: no supporting quote"):
        load_gold(path)


def test_a_typo_swaps_two_different_letters_of_the_longest_word():
    from evals.gold import with_typo

    assert with_typo("What does US law require?") == "What does US law reuqire?"
    assert with_typo("Who is the ambassador?") == "Who is the ambasasdor?"   # not two equal letters
    assert with_typo("Who won the Cup?") == "Who won the Cup?"              # no word of six letters
