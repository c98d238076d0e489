"""Citation markers are parsed and bounds-checked; each cited sentence must be supported by what
it cites (real MiniLM vectors, no LLM)."""

from __future__ import annotations

import pytest

from conftest import TINY
from index.records import Span
from index.sentences import split_sentences
from rag.citations import Passage, describe, parse_markers, strip_markers, verify
from rag.records import Hit

QUESTION = "What was built in Kestrel Valley?"


def whole_article(n: int, name: str, text: str, embedder) -> Passage:
    """Source [n]: the whole article `text`, with its sentences and their real MiniLM vectors."""
    spans = [Span(name, s, e, text[s:e]) for s, e in split_sentences(text)]
    hit = Hit(chunk_id=f"{name}:0", doc_id=name, title=name, date="", text=text, start=0,
              end=len(text), score=1.0)
    return Passage(n, hit, text, tuple(zip(spans, embedder.embed([s.text for s in spans]))))


@pytest.fixture(scope="module")
def passages(embedder) -> list[Passage]:
    """The three tiny articles as sources [1] dam, [2] tram, [3] owl."""
    return [whole_article(n, name, text, embedder) for n, (name, text) in enumerate(TINY.items(), 1)]


@pytest.mark.parametrize("text,numbers", [
    ("Claim [1].", [(1,)]),
    ("Claim [0].", [(0,)]),
    ("Claim [99].", [(99,)]),
    ("Claim [2,3].", [(2, 3)]),
    ("Claim [2, 3].", [(2, 3)]),
    ("Claim [2][3].", [(2,), (3,)]),
    ("Claim 【2】.", [(2,)]),
    ("Claim [Source 4].", [(4,)]),
    ("Claim [1-3].", [(1, 2, 3)]),
    ("No markers, not even [a] or [].", []),
])
def test_marker_forms_are_parsed(text, numbers):
    assert [m.numbers for m in parse_markers(text)] == numbers


def test_strip_markers_leaves_clean_text():
    assert strip_markers("The dam cost 2 billion lira [1][2]. It is big 【3】.") == \
        "The dam cost 2 billion lira. It is big."


def test_supported_citation_is_kept_with_the_exact_supporting_sentence(passages, embedder):
    text = "The Blue River dam in Kestrel Valley was completed in 2021 [1]."
    checked = verify(text, QUESTION, passages, embedder)
    assert checked.text == text
    assert not checked.problems
    (citation,) = checked.citations
    assert citation.n == 1 and citation.doc_id == "alpha.txt"
    article = TINY["alpha.txt"]
    assert article[citation.start:citation.end] == citation.snippet
    assert "finished in 2021" in citation.snippet


@pytest.mark.parametrize("marker", ["[0]", "[99]", "[4]"])
def test_out_of_range_citation_is_dropped_and_the_claim_cited_to_what_supports_it(passages, embedder, marker):
    text = f"The dam was finished in 2021 [1]. It supplies power to 400,000 homes {marker}."
    checked = verify(text, QUESTION, passages, embedder)
    assert [c.n for c in checked.citations] == [1]
    assert marker not in checked.text
    assert [(p.n, p.reason) for p in checked.problems] == [(int(marker[1:-1]), "out of range")]
    # not mapped to a nearby number: checked against every passage, and only [1] states it
    assert checked.text == "The dam was finished in 2021 [1]. It supplies power to 400,000 homes [1]."


def test_out_of_range_claim_that_no_passage_supports_is_removed(passages, embedder):
    text = "The dam was finished in 2021 [1]. It was painted blue by Governor Hale [7]."
    checked = verify(text, QUESTION, passages, embedder)
    assert checked.text == "The dam was finished in 2021 [1]." and checked.removed == 1


def test_citation_to_a_passage_that_does_not_support_the_sentence_is_moved_to_one_that_does(passages, embedder):
    text = ("The dam in Kestrel Valley was finished in 2021 [1]. "
            "Birdwatchers counted three owl nests near the river [2].")
    checked = verify(text, QUESTION, passages, embedder)
    assert [c.n for c in checked.citations] == [1, 3]
    assert checked.text.endswith("near the river [3].") and "[2]" not in checked.text
    assert ("unsupported" in {p.reason for p in checked.problems})
    assert "three nests" in checked.citations[1].snippet


def test_two_sources_cited_together_keep_only_the_one_that_supports(passages, embedder):
    text = "The tram line will run 14 kilometres from the harbour to the university [1,2]."
    checked = verify(text, QUESTION, passages, embedder)
    assert [c.n for c in checked.citations] == [2]
    assert checked.text == "The tram line will run 14 kilometres from the harbour to the university [2]."


def test_adjacent_markers_are_each_checked(passages, embedder):
    text = "An orange owl was seen in the Kestrel Valley forest [3][1]."
    checked = verify(text, QUESTION, passages, embedder)
    assert [c.n for c in checked.citations] == [3]
    assert checked.text.endswith("forest [3].")


def test_fullwidth_marker_is_verified_and_normalised(passages, embedder):
    checked = verify("An orange owl was seen in the Kestrel Valley forest【3】.", QUESTION, passages, embedder)
    assert [c.n for c in checked.citations] == [3]
    assert checked.text == "An orange owl was seen in the Kestrel Valley forest [3]."


def test_a_number_the_source_does_not_state_is_not_supported(passages, embedder):
    checked = verify("The dam cost 7 billion lira [1].", QUESTION, passages, embedder)
    assert not checked.citations
    assert [p.reason for p in checked.problems] == ["number not in source"]


@pytest.mark.parametrize("claim, holds", [
    ("The tram line will cost $14 million [2].", False),        # the source's 14 is kilometres
    ("The dam cost 2 million lira [1].", False),                # the source says 2 billion
    ("The dam can hold 90 million cubic metres of water [1].", True),
    ("The dam cost 2 billion lira [1].", True),
])
def test_an_amount_must_be_the_sources_amount_not_only_its_number(passages, embedder, claim, holds):
    checked = verify(claim, QUESTION, passages, embedder)
    assert bool(checked.citations) == holds
    if not holds:
        assert [p.reason for p in checked.problems] == ["number not in source"]


@pytest.mark.parametrize("claim, holds", [
    ("In 1994, the Varga family bought the old mill from the town of Lindholm [1].", False),
    ("In 1994, the Varga family bought the old mill from the town of Lindholm.", False),  # not re-cited
    ("The Varga family bought the old mill in 1987 [1].", True),
    ("The Varga family bought the old mill in 1987, and it burned down in 1994 [1].", True),
    # closest to the sentence of the sale, yet the fire's sentence, nearly as close, dates it
    ("The old mill of the Varga family, bought from Lindholm, burned in 1994 [1].", True),
])
def test_a_year_must_be_the_one_the_supporting_sentence_gives(embedder, claim, holds):
    check_figure(embedder, "The Varga family bought the old mill in 1987 from the town of Lindholm. "
                           "The old mill burned down in 1994.",
                 "When did the Varga family buy the old mill?", claim, holds)


@pytest.mark.parametrize("claim, holds", [
    # the passage's July 2019 is the KX-9's, named in the sentence before; the AV-35 has no year
    ("Norland expects its first AV-35 jet in July 2019 [1].", False),
    ("Deliveries of the KX-9 radar began in July 2019 [1].", True),
    ("Deliveries of the KX 9 radars began in July 2019 [1].", True),     # the same designator
])
def test_a_year_tied_to_a_designator_must_be_that_designators_year(embedder, claim, holds):
    check_figure(embedder, "Norland bought the KX-9 radar in 2017. Deliveries began in July 2019. "
                           "Its AV-35 jet programme has stalled since.",
                 "When does Norland expect its first AV-35 jet?", claim, holds)


@pytest.mark.parametrize("claim, holds", [
    ("Kiln 2.0 needs at least Python 3.12 [1].", False),       # the figure of another sentence
    ("Kiln 2.0 needs at least Python 3.9 [1].", True),
    ("Python 3.12 ran the test suite of Kiln a third faster [1].", True),
])
def test_a_figure_must_be_the_one_the_supporting_sentence_gives(embedder, claim, holds):
    check_figure(embedder, "Kiln 2.0 needs at least Python 3.9 to install. Under Python 3.12 its test "
                           "suite ran a third faster.",
                 "Which Python version does Kiln 2.0 need?", claim, holds,
                 reasons={"number not in source", "uncited"})


def check_figure(embedder, article: str, question: str, claim: str, holds: bool,
                 reasons=frozenset({"year not in source", "uncited"})) -> None:
    """`claim`, citing `article` as [1], keeps its citation or loses it for its year (or another
    figure), and with it all its text."""
    checked = verify(claim, question, [whole_article(1, "article.txt", article, embedder)], embedder)
    assert bool(checked.citations) == holds, checked
    if not holds:
        assert {p.reason for p in checked.problems} <= reasons
        assert checked.text == ""


def test_uncited_claim_that_a_passage_supports_gets_that_citation(passages, embedder):
    checked = verify("Mayor Lena Ostrova said the first trams should run in 2027.", QUESTION, passages,
                     embedder)
    assert checked.text == "Mayor Lena Ostrova said the first trams should run in 2027 [2]."
    assert [c.doc_id for c in checked.citations] == ["beta.txt"]


def test_an_uncited_claim_its_paragraphs_citation_bears_out_is_cited_and_quoted_too(passages, embedder):
    text = ("The city council of Port Amber voted to build a new tram line [2]. "
            "The line will run 14 kilometres from the harbour to the university.")
    checked = verify(text, "What did Port Amber decide?", passages, embedder)
    assert checked.text == text[:-1] + " [2]."
    (citation,) = checked.citations
    assert "voted" in citation.snippet and "14 kilometres" in citation.snippet
    assert TINY["beta.txt"][citation.start:citation.end] == citation.snippet


@pytest.fixture(scope="module")
def two_halves(embedder) -> list[Passage]:
    """[1] holds a quote and who said it, [2] a description of the same talks; [3] is unrelated."""
    return [whole_article(n, name, text, embedder) for n, (name, text) in enumerate({
        "quote.txt": "Ferry talks between Port Amber and Lindqvist resumed on Monday. 'This is a slow "
                     "climb,' said a Nordic envoy. Harbour crews kept working through the night.",
        "climate.txt": "The new shipping climate reflects a cautious, step-by-step approach to harbour "
                       "politics. Fuel prices rose again in March. Dock workers voted on a new contract.",
        "owl.txt": TINY["gamma.txt"]}.items(), 1)]


def test_uncited_claim_that_joins_two_passages_is_cited_to_both(two_halves, embedder):
    claim = ("A Nordic envoy described the shipping climate as a cautious approach to harbour politics, "
             "a slow climb for both ports.")
    checked = verify(claim, "How did an envoy from the north sum up the ferry talks?", two_halves, embedder,
                     strict=True)
    assert checked.text == claim[:-1] + " [2][1]."
    assert sorted(c.doc_id for c in checked.citations) == ["climate.txt", "quote.txt"]


def test_uncited_claim_that_one_passage_of_two_does_not_bear_out_is_removed(two_halves, embedder):
    claim = "A Nordic envoy described the shipping climate as a cautious approach, after the owls were counted."
    checked = verify(claim, "How did an envoy from the north sum up the ferry talks?", two_halves, embedder,
                     strict=True)
    assert checked.text == "" and [p.reason for p in checked.problems] == ["uncited"]


def test_uncited_claim_alone_that_nothing_supports_is_removed(passages, embedder):
    checked = verify("Mayor Lena Ostrova wants a harbour bridge by 2031.", QUESTION, passages, embedder)
    assert not checked.citations and checked.text == ""
    assert [p.reason for p in checked.problems] == ["uncited"]
    assert describe(checked.problems) == "removed 1 uncited sentence"


@pytest.mark.parametrize("command, kept", [
    ("quill add quillpad", True),       # the passage's own line, copied: too short for a cosine
    ("quill fetch quillpad", False),    # a command the passage never gives
])
def test_an_uncited_command_the_passage_holds_word_for_word_is_cited_to_it(embedder, command, kept):
    readme = whole_article(1, "README.md", "Quillpad is a notebook for the terminal.\n\n"
                           "Install it with:\n\n```\nquill add quillpad\n```\n", embedder)
    text = f"You can install Quillpad with this command:\n```\n{command}\n```"
    checked = verify(text, "How do I install Quillpad?", [readme], embedder)
    assert (f"{command} [1]" in checked.text) == kept, checked.text
    assert bool(checked.citations) == kept


def test_a_name_the_source_does_not_state_is_not_supported(passages, embedder):
    checked = verify("The dam in Kestrel Valley was opened by Governor Hale [1].", QUESTION, passages,
                     embedder)
    assert not checked.citations
    assert "name not in source" in {p.reason for p in checked.problems}


@pytest.mark.parametrize("literal", ["[n]", "[source]", "[Source n]", "[citation]"])
def test_a_literal_placeholder_marker_is_removed_and_the_claim_still_checked(passages, embedder, literal):
    checked = verify(f"The dam in Kestrel Valley was finished in 2021 {literal}.", QUESTION, passages, embedder)
    assert checked.text == "The dam in Kestrel Valley was finished in 2021 [1]."


def test_uncited_sentence_not_supported_by_any_passage_is_removed(passages, embedder):
    text = "The Port Amber council approved a harbour bridge. The dam was finished in 2021 [1]."
    checked = verify(text, QUESTION, passages, embedder)
    assert checked.text == "The dam was finished in 2021 [1]."


def test_marker_after_the_full_stop_belongs_to_the_sentence_before(passages, embedder):
    text = "The dam was finished in 2021. [1] An orange owl was seen in the forest. [3]"
    checked = verify(text, QUESTION, passages, embedder)
    assert [c.n for c in checked.citations] == [1, 3]
    assert not checked.problems


def test_describe_names_dropped_numbers_and_reasons():
    from rag.citations import Problem

    text = describe([Problem("a", 0, "out of range"), Problem("b", 9, "out of range"),
                     Problem("c", 2, "unsupported"), Problem("d", 0, "uncited")])
    assert text == ("dropped citations [0][9] (out of range); dropped citation [2] (unsupported); "
                    "removed 1 uncited sentence")


def test_initials_a_small_model_spaced_out_are_joined_back_only_as_the_sources_write_them():
    from rag.generative import join_initials

    sources = "The U.S. envoy flew to Washington, D.C. on Monday."
    assert join_initials("The U. S. envoy met J. K. Smith in Washington, D. C. today.", sources) == \
        "The U.S. envoy met J. K. Smith in Washington, D.C. today."


def test_words_lent_to_a_person_who_did_not_say_them_are_dropped(passages, embedder):
    # beta.txt: "... voted on Tuesday to build a new tram line. The line will run 14 kilometres ...
    # Mayor Lena Ostrova said the first trams should run in 2027."
    question = "What did Lena Ostrova say?"
    lent = "Lena Ostrova said the line will run 14 kilometres from the harbour to the university [2]."
    checked = verify(lent, question, passages, embedder)
    assert checked.citations == () and "speaker not in source" in {p.reason for p in checked.problems}
    own = "Lena Ostrova said the first trams should run in 2027 [2]."
    checked = verify(own, question, passages, embedder)
    assert [c.n for c in checked.citations] == [2] and not checked.problems


def test_words_a_sentence_gives_to_another_named_speaker_are_not_lent_to_the_one_asked_about(embedder):
    text = ("The Amber council voted for the new bridge. Harbour chief Ivo Brand said the bridge would "
            "cost the town too much. ‘It will cost the town too much,’ said a harbour official.")
    passage = whole_article(1, "b", text, embedder)
    question = "What did the harbour official Lena Ostrova say about the bridge?"
    lent = verify("Lena Ostrova said the bridge would cost the town too much [1].", question, [passage], embedder)
    assert "speaker not in source" in {p.reason for p in lent.problems}
    # the unnamed official's quotation may be hers: the question names her as that official
    own = verify("Lena Ostrova said it will cost the town too much, calling it a cost [1].", question,
                 [passage], embedder)
    assert [c.n for c in own.citations] == [1], own.problems


def test_a_claim_drawn_from_a_lead_in_and_its_list_quotes_them_all(embedder):
    """The snippet is what the claim draws on: the lead-in and both items, not the best line alone."""
    text = ("The storm closed the coast road. The harbour board then acted at once:\n"
            "- Closing the ferry pier to all boats\n- Moving the fishing fleet to Port Amber\n"
            "Repairs start next week.")
    passage = whole_article(1, "h", text, embedder)
    checked = verify("The harbour board closed the ferry pier and moved the fishing fleet to Port Amber [1].",
                     "What did the harbour board do after the storm?", [passage], embedder)
    [c] = checked.citations
    assert c.snippet.startswith("The harbour board then acted") and c.snippet.endswith("Port Amber")
    assert text[c.start:c.end] == c.snippet and "Repairs" not in c.snippet


@pytest.mark.parametrize("text,claim,ends", [
    ("The storm closed the coast road. The harbour board then acted at once:\n- Closing the ferry pier\n"
     "- Moving the fishing fleet to Port Amber\nRepairs start next week.",
     "The harbour board then acted at once after the storm closed the coast road [1].", "Port Amber"),
    ("The storm closed the coast road. Harbour master Lena Vogt made it plain:\n“No boat leaves "
     "before the pier is safe.”\nRepairs start next week.",
     "Harbour master Lena Vogt made it plain after the storm closed the coast road [1].", "is safe.”"),
])
def test_a_quoted_lead_in_comes_with_what_it_introduces(embedder, text, claim, ends):
    passage = whole_article(1, "h", text, embedder)
    [c] = verify(claim, "What happened after the storm?", [passage], embedder).citations
    assert c.snippet.endswith(ends) and "Repairs" not in c.snippet
    assert text[c.start:c.end] == c.snippet


def test_a_passage_shown_as_joined_sentences_quotes_the_article_text_from_the_chunks():
    from rag.records import article_text

    article = "One.\nTwo two.\n\nThree three three. Four."
    chunks = [Hit("d:0", "d", "", "", article[0:12], 0, 12, 1.0),
              Hit("d:1", "d", "", "", article[9:], 9, len(article), 1.0),
              Hit("e:0", "e", "", "", "Other text.", 0, 11, 1.0)]
    assert article_text(chunks, "d", 5, 31) == (5, article[5:31])       # across two chunks
    assert article_text(chunks[1:], "d", 5, 31) == (0, "")             # a gap: not known


def test_an_attribution_the_source_does_not_make_is_removed_and_the_claim_kept(passages, embedder):
    lent = verify("According to Mayor Lena Ostrova, the Blue River dam in Kestrel Valley was finished in "
                  "2021 [1].", QUESTION, passages, embedder)
    assert lent.text == "The Blue River dam in Kestrel Valley was finished in 2021 [1]."
    assert [c.n for c in lent.citations] == [1]
    assert describe(lent.problems) == "removed an attribution the sources do not make"
    # an attribution the cited source makes stays
    own = "According to engineers, the dam can hold 90 million cubic metres of water [1]."
    assert verify(own, QUESTION, passages, embedder).text == own


def test_a_neighbour_that_only_repeats_a_common_word_of_the_claim_is_not_quoted(embedder):
    text = ("The storm closed the ferry pier on Monday. Harbour master Lena Vogt said the ferry pier will "
            "reopen after the repairs to the pier. The vote is next week.")
    passage = whole_article(1, "h", text, embedder)
    checked = verify("Lena Vogt said the ferry pier will reopen on Monday after the storm repairs [1].",
                     "When will the pier reopen?", [passage], embedder)
    [c] = checked.citations
    assert c.snippet.startswith("The storm closed")     # "storm" and "Monday": a good part of the claim
    # "Monday" alone is a small part of this claim: the sentence that says it is not quoted
    checked = verify("Harbour master Lena Vogt said the ferry pier will reopen after the repairs, on "
                     "Monday [1].", "When will the pier reopen?", [passage], embedder)
    [c] = checked.citations
    assert c.snippet.startswith("Harbour master Lena Vogt") and c.snippet.endswith("to the pier.")


def test_citations_written_before_what_they_cite_are_read_as_the_reply_means_them(passages, embedder):
    # "[1] A [2] B": each marker opens what it cites; bare names that the passage holds answer
    checked = verify("[2] Lena Ostrova [1] Kestrel Valley [1] Kestrel Valley",
                     "Who is the mayor of Port Amber, and where is the Blue River dam?", passages, embedder)
    assert checked.text == "Lena Ostrova [2]. Kestrel Valley [1].", checked.problems
    assert [c.doc_id for c in checked.citations] == ["alpha.txt", "beta.txt"]


@pytest.mark.parametrize("claim, holds", [
    ("Lena Ostrova [2].", True),              # a bare name that a sentence of [2] holds
    ("Lena Ostrova [1].", False),             # ... not one that [1] holds
    ("Mayor Ostrova [2].", True),
    ("Kestrel Valley [2].", False),           # a name [2] does not hold
])
def test_a_bare_answer_is_supported_only_by_a_sentence_that_holds_it(passages, embedder, claim, holds):
    checked = verify(claim, "Who leads Port Amber?", passages, embedder)
    assert bool(checked.citations) == holds, checked.problems


def test_a_claim_that_restates_a_clause_of_a_long_sentence_is_supported_unless_it_negates_it(embedder):
    # the clause is far in meaning from the whole sentence (cosine below min_cosine), but the
    # sentence holds every word the claim adds to the question
    text = ("Speaking to the Amber Gazette after a long night of talks with the fishing guilds, the port "
            "council and the coast guard, harbour chief Ivo Brand said he expects the two towns to settle "
            "their quarrel over ferry tolls before the winter storms, saying joint survey work has already "
            "begun. The ferry runs twice a day.")
    passage = whole_article(1, "pier", text, embedder)
    question = "What did Ivo Brand say had already started?"
    kept = verify("He said joint survey work has already begun [1].", question, [passage], embedder)
    assert [c.n for c in kept.citations] == [1] and not kept.problems, kept.problems
    denied = verify("He said joint survey work has not begun [1].", question, [passage], embedder)
    assert denied.citations == (), denied.text


def test_a_claim_that_says_not_needs_a_source_that_denies_too(embedder):
    text = ("The Amber council said the new pier is finished and ferries will dock there in May. "
            "It refused to approve the budget for a second pier.")
    passage = whole_article(1, "pier", text, embedder)
    question = "What did the Amber council say about the piers?"
    turned = verify("The council said the new pier is not finished [1].", question, [passage], embedder)
    assert turned.citations == () and "negation not in source" in {p.reason for p in turned.problems}
    denied = verify("The council did not approve the budget for a second pier [1].", question, [passage], embedder)
    assert [c.n for c in denied.citations] == [1] and not denied.problems, denied.problems


def test_a_place_that_owns_the_speakers_title_is_not_taken_for_the_speaker(embedder):
    # "Vell's harbour chief Ivo Brand said": Ivo Brand spoke; the source calls him Vellish
    text = ("Vellish harbour chief Ivo Brand said the ferry tolls will be halved in May. "
            "Mayor Ada Vale opened the new pier.")
    passage = whole_article(1, "tolls", text, embedder)
    checked = verify("Vell's harbour chief Ivo Brand said the ferry tolls will be halved in May [1].",
                     "What did the harbour chief say about the tolls?", [passage], embedder)
    assert [c.n for c in checked.citations] == [1] and not checked.problems, checked.problems
    lent = verify("Vell's harbour chief Ada Vale said the ferry tolls will be halved in May [1].",
                  "What did the harbour chief say about the tolls?", [passage], embedder)
    assert "speaker not in source" in {p.reason for p in lent.problems}
