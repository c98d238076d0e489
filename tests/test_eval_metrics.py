"""Each eval metric on tiny hand-made inputs with hand-computed answers."""

import math

import numpy as np
import pytest

from evals import metrics as m


def test_hit_recall_mrr_count_a_document_once_at_its_best_rank():
    ranked = ["b", "b", "a", "c", "d"]          # "b" twice: two passages of one article
    assert m.hit_at_k(ranked, {"a"}, 1) == 0.0
    assert m.hit_at_k(ranked, {"a"}, 2) == 1.0   # deduped: b, a, c, d
    assert m.recall_at_k(ranked, {"a", "d", "z"}, 4) == pytest.approx(2 / 3)
    assert m.mrr(ranked, {"c"}) == pytest.approx(1 / 3)
    assert m.mrr(ranked, {"z"}) == 0.0


def test_ndcg_matches_hand_computation_and_is_one_for_a_perfect_ranking():
    # relevant a, c; ranking a, b, c -> DCG = 1 + 1/log2(4); IDCG = 1 + 1/log2(3)
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert m.ndcg_at_k(["a", "b", "c"], {"a", "c"}, 3) == pytest.approx(expected)
    assert m.ndcg_at_k(["c", "a", "b"], {"a", "c"}, 3) == pytest.approx(1.0)
    assert m.ndcg_at_k(["b", "x"], {"a"}, 2) == 0.0
    # graded: the grade-2 document first is better than the grade-1 first
    assert m.ndcg_at_k(["a", "b"], {"a": 2, "b": 1}, 2) > m.ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 2)


def test_key_fact_recall_accepts_variants_stems_and_money_but_not_digit_prefixes():
    facts = [["$1 billion", "one billion"], ["interoperab"], ["40", "forty"]]
    assert m.key_fact_recall("Turkey invested over $1 billion.", facts) == pytest.approx(1 / 3)
    assert m.key_fact_recall("It spent 1 billion dollars on interoperability and 40 jets.",
                             [["1 billion"], ["interoperab"], ["40"]]) == 1.0
    assert m.key_fact_recall("The S-400 system.", [["40"]]) == 0.0          # 40 is not in 400
    assert m.key_fact_recall("He posted on Xbox.", [["on X"]]) == 0.0         # short words are whole
    assert m.key_fact_recall("President Erdoğan said", [["Erdogan"]]) == 1.0  # accents folded
    assert m.key_fact_recall("anything", []) == 1.0


def test_token_f1_is_squad_style():
    assert m.token_f1("the cat sat", "a cat sat down") == pytest.approx(2 * 1.0 * (2 / 3) / (1 + 2 / 3))
    assert m.token_f1("dog", "cat") == 0.0
    assert m.token_f1("The Cat.", "cat") == 1.0


def test_semantic_similarity_is_the_cosine_of_the_embeddings():
    table = {"x": np.array([1.0, 0.0]), "y": np.array([0.6, 0.8])}
    embed = lambda texts: np.stack([table[t] for t in texts])
    assert m.semantic_similarity("x", "y", embed) == pytest.approx(0.6)


def test_answer_sentences_keep_their_own_citation_marks():
    got = m.answer_sentences("Reports differ. Turkey keeps them. [1][2] Russia wants money. [3]")
    assert got == [("Reports differ.", []), ("Turkey keeps them.", [1, 2]), ("Russia wants money.", [3])]
    # an initial is not a sentence end
    assert m.answer_sentences("The U.S. envoy came [1]. He left.") == [("The U.S. envoy came .", [1]),
                                                                        ("He left.", [])]


def _word_support(sentence, passages, question=""):
    """A support check for the tests: every word of the sentence appears in the passages."""
    have = set(" ".join(passages).lower().replace(".", "").split())
    return set(sentence.lower().replace(".", "").split()) <= have


def test_citation_recall_and_precision_alce_style():
    passages = {1: "Turkey keeps the S-400.", 2: "The weather is sunny.", 3: "Russia wants money."}
    # sentence 1 supported by [1]; [2] is irrelevant (not needed) -> precision 2/3
    recall, precision = m.citation_scores("Reports differ. Turkey keeps the S-400. [1][2] "
                                          "Russia wants money. [3]", passages, _word_support)
    assert recall == 1.0                      # "Reports differ." is a connective, not a claim
    assert precision == pytest.approx(2 / 3)
    # an unsupported sentence lowers recall; a citation to a missing passage is never good
    recall, precision = m.citation_scores("Turkey sells the S-400. [1] Russia wants money. [9]",
                                          passages, _word_support)
    assert recall == 0.0
    assert precision == 0.0
    # an uncited claim counts as unsupported
    recall, _ = m.citation_scores("Turkey keeps the S-400 for now. Russia wants money. [3]",
                                  passages, _word_support)
    assert recall == 0.5


def test_citation_needed_only_jointly_counts_as_precise():
    passages = {1: "Turkey keeps", 2: "the S-400."}
    recall, precision = m.citation_scores("Turkey keeps the S-400. [1][2]", passages, _word_support)
    assert (recall, precision) == (1.0, 1.0)


def test_support_check_rejects_changed_numbers_and_off_topic_passages(embedder):
    check = m.SupportCheck(embedder.embed)
    source = "Before its removal, Turkey had invested over $1 billion and planned to buy 100 F-35 jets."
    assert check("Turkey had invested over $1 billion in the F-35.", [source])
    assert not check("Turkey had invested over $3 billion in the F-35.", [source])
    assert not check("Turkey had invested over $1 billion in the F-35.", ["Birdwatchers counted owls."])


def test_support_check_reads_a_sentence_as_the_answer_to_its_question(embedder):
    check = m.SupportCheck(embedder.embed)
    source = "Harbour master Lena Vogt said the ferry pier will reopen after the storm repairs."
    asked = ("Who is the harbour master quoted about plans for the ferry pier in the weekend storm "
             "coverage by local television?")
    answer = ("The harbour master quoted about plans for the ferry pier in the weekend storm coverage "
              "by local television is Lena Vogt.")
    assert not check(answer, [source])              # "quoted", "coverage"... are not in the source,
    assert check(answer, [source], asked)           # ...but they are the question's premise
    # the words the answer adds must still be in the source
    assert not check("The harbour master quoted in the weekend storm coverage is Otto Brandt.", [source],
                     asked)
    # a yes/no question grants nothing: its words are the claim
    yes_no = "Did the storm coverage quote the harbour master on a new toll?"
    assert not check("Yes, the storm coverage quoted the harbour master on a new toll.", [source], yes_no)
    # numbers must be in the source even when the question names them
    assert not check("The pier reopens on 12 May after the storm repairs, Lena Vogt said.", [source],
                     "Does the pier reopen on 12 May?")


def test_share_of_citations_in_gold_articles():
    assert m.share_in(["a", "b", "a", "c"], {"a"}) == 0.5
    assert m.share_in([], {"a"}) is None


def test_abstention_precision_recall_and_false_abstentions():
    answerable = [True, True, True, False, False]
    abstained = [False, True, False, True, False]
    got = m.abstention(answerable, abstained)
    assert got == {"abstain_precision": 0.5, "abstain_recall": 0.5,
                   "false_abstentions": pytest.approx(1 / 3)}


def test_latency_percentiles_per_stage():
    timings = [{"embed": 10.0, "total": 20.0}, {"embed": 30.0, "total": 40.0}, {"total": 60.0}]
    got = m.latency(timings)
    assert got["embed"] == {"p50": 20.0, "p95": 29.0}
    assert got["total"]["p50"] == 40.0


def test_wilson_interval_matches_hand_computation_and_narrows_with_more_questions():
    lo, hi = m.wilson(20 / 29, 29)
    assert (round(lo, 3), round(hi, 3)) == (0.508, 0.827)     # 20 of 29, computed by hand
    assert m.wilson(1.0, 10)[1] == 1.0 and m.wilson(0.0, 10)[0] == 0.0
    wide, narrow = m.wilson(0.7, 29), m.wilson(0.7, 290)
    assert narrow[1] - narrow[0] < wide[1] - wide[0]
    assert m.wilson(0.5, 0) == (0.0, 1.0)


def test_discordant_counts_only_questions_one_side_got_right():
    assert m.discordant([True, True, False, False], [True, False, True, False]) == (1, 1)
    assert m.discordant([True, True], [False, False]) == (2, 0)


def test_a_wrong_answer_is_placed_where_it_went_wrong(embedder):
    from evals.gold import GoldQuestion
    from evals.harness import _score, aggregate
    from evals.report import wrong_note
    from rag.records import Answer, Citation, Hit

    quote = "The tram line to Port Amber opens in March."
    q = GoldQuestion("t1", "single_fact", "When does the tram line open?", (), True, "In March.",
                     (("March",),), ("tram",), {"tram": quote})
    article = "Council news. " + quote + " Fares stay the same."
    at = article.index(quote)
    held = Hit("tram:0", "tram", "Tram", "", article, 0, len(article), 1.0)
    other = Hit("bus:0", "bus", "Bus", "", "Buses run every ten minutes.", 0, 28, 0.5)

    def passage(n, hit, start, end):
        return Citation(n, hit.doc_id, hit.title, hit.text[start:end], start, end, 0.0)

    wrong = "It opens in June. [1]"
    support = m.SupportCheck(embedder.embed)
    rows = {
        "retrieval": _score(q, [other], Answer(q.question, wrong), support, {}),
        "prompt": _score(q, [held, other], Answer(q.question, wrong, mode="llm",
                                                  read=(passage(1, held, 0, at), passage(2, other, 0, 28))),
                         support, {}),
        "reading": _score(q, [held], Answer(q.question, wrong, mode="llm",
                                            read=(passage(1, held, at, len(article)),)), support, {}),
        "offline reading": _score(q, [held], Answer(q.question, wrong), support, {}),
        "right": _score(q, [held], Answer(q.question, "It opens in March. [1]", mode="llm",
                                          read=(passage(1, held, at, len(article)),)), support, {}),
    }
    assert {name: r["wrong_at"] for name, r in rows.items()} == {
        "retrieval": "retrieval", "prompt": "prompt", "reading": "reading",
        "offline reading": "reading", "right": None}
    assert [rows[n]["metrics"]["read_recall"] for n in ("prompt", "reading", "offline reading")] == [0.0, 1.0, None]
    record = {"metrics": aggregate(list(rows.values()))}
    assert record["metrics"]["overall"]["wrong_at"] == {"retrieval": 1, "prompt": 1, "reading": 2}
    assert record["metrics"]["overall"]["read_recall"] == round(2 / 3, 4)   # prompt, reading, right
    assert wrong_note(record) == ("Of the 4 wrong answers to answerable questions, no retrieved passage held a "
                                  "gold quote: 1; the LLM was shown no gold quote: 1; a gold quote was in what "
                                  "the answerer read: 2.")
