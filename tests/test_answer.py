"""Retrieval and offline answers over the bundled corpus: fusion, filters, citations, abstention."""

import json
import re
from pathlib import Path

import pytest

from conftest import indexed
from rag.errors import BadQuestion, DocumentNotFound

GOLD = Path(__file__).resolve().parent.parent / "evals" / "gold.jsonl"


def labelled():
    """(question, history, gold quotes) for the answerable gold questions."""
    rows = [json.loads(line) for line in GOLD.read_text().splitlines() if line.strip()]
    return [(r["question"], [tuple(h) for h in r["history"]], list(r["quotes"].values()))
            for r in rows if r["answerable"]]


def passage_mrr(assistant, method: str) -> float:
    total = 0.0
    items = labelled()
    for question, history, quotes in items:
        hits = assistant.retrieve(question, k=6, history=history, method=method)
        rank = next((i for i, h in enumerate(hits) if any(q in h.text for q in quotes)), None)
        total += 0.0 if rank is None else 1.0 / (rank + 1)
    return total / len(items)


def test_hybrid_beats_or_equals_each_of_its_parts_on_the_labelled_set(corpus_assistant):
    scores = {m: passage_mrr(corpus_assistant, m) for m in ("dense", "lexical", "hybrid")}
    assert scores["hybrid"] >= scores["dense"], scores
    assert scores["hybrid"] >= scores["lexical"], scores


def test_every_citation_quotes_its_article_exactly(corpus_assistant):
    for question, history, _ in labelled()[:20]:
        answer = corpus_assistant.ask(question, history=history)
        for c in answer.citations:
            assert corpus_assistant.document(c.doc_id).text[c.start:c.end] == c.snippet


def test_answer_is_one_to_four_sentences_each_cited_in_bounds(corpus_assistant):
    answer = corpus_assistant.ask("Why was Turkey removed from the F-35 programme?")
    assert not answer.abstained
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    assert markers and set(markers) == {c.n for c in answer.citations}
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    cited_sentences = re.findall(r"[^\]]+?(?:\[\d+\])+", answer.text)
    assert 1 <= len(cited_sentences) <= 4


def test_us_law_question_cites_the_legal_condition(corpus_assistant):
    answer = corpus_assistant.ask("What does US law require?")
    assert not answer.abstained
    assert any(re.search(r"\b(law|legal)\b", c.snippet) for c in answer.citations)


@pytest.mark.parametrize("question", [
    "Who won the 2024 Champions League final?",
    "What is the recipe for a classic margherita pizza?",
    "What is the price of one S-400 battery in dollars?",
])
def test_off_corpus_question_abstains_and_cites_nothing(corpus_assistant, question):
    answer = corpus_assistant.ask(question)
    assert answer.abstained
    assert answer.citations == ()
    assert "not contain" in answer.text


def test_disagreeing_reports_are_both_shown_with_citations(corpus_assistant):
    answer = corpus_assistant.ask("Is Turkey going to give the S-400 systems back to Russia?")
    assert not answer.abstained
    cited = {c.doc_id for c in answer.citations}
    assert len(cited) >= 2
    returning = [c for c in answer.citations if re.search(r"\breturn", c.snippet)]
    keeping = [c for c in answer.citations if re.search(r"not|no |ruled out|retain|firm", c.snippet)]
    assert returning and keeping


def test_follow_up_is_resolved_against_history(corpus_assistant):
    history = [("Who is Hakan Fidan?", "Turkey's foreign minister.")]
    answer = corpus_assistant.ask("What did he tell Reuters?", history=history)
    assert "Fidan" in answer.query
    assert any("Reuters" in c.snippet for c in answer.citations)
    alone = corpus_assistant.ask("What did he tell Reuters?")
    assert "Fidan" not in alone.query


def test_article_filter_keeps_hits_inside_the_chosen_articles(corpus_assistant):
    only = ["001_5b2322aeebde9bcc"]
    hits = corpus_assistant.retrieve("S-400", k=5, doc_ids=only)
    assert hits and {h.doc_id for h in hits} == set(only)
    answer = corpus_assistant.ask("What did the Defense Ministry say?", doc_ids=only)
    assert {c.doc_id for c in answer.citations} <= set(only)


@pytest.mark.parametrize("question", ["What does US law require?",
                                      "Why was Turkey removed from the F-35 programme?",
                                      "What did Hakan Fidan say?"])
def test_filtering_to_an_article_the_answer_cites_still_answers_from_it(corpus_assistant, question):
    first = corpus_assistant.ask(question).citations[0]
    only = corpus_assistant.ask(question, doc_ids=[first.doc_id])
    assert not only.abstained, f"filtering to {first.doc_id} lost the answer it gave unfiltered"
    assert (first.doc_id, first.start) in {(c.doc_id, c.start) for c in only.citations}
    assert {c.doc_id for c in only.citations} == {first.doc_id}


def test_a_filter_never_makes_an_off_corpus_question_answerable(corpus_assistant):
    question = "Who won the 2024 Champions League final?"
    for doc in corpus_assistant.docs():
        assert corpus_assistant.ask(question, doc_ids=[doc.doc_id]).abstained


@pytest.mark.parametrize("filters, error, fragment", [
    ({"doc_ids": ["nope"]}, DocumentNotFound, "no document 'nope'"),
    ({"doc_ids": ["004_e39b010501edc06a", "nope"]}, DocumentNotFound, "no document 'nope'"),
    ({"date_from": "2025-13-01"}, BadQuestion, "YYYY-MM-DD"),
    ({"date_to": "20250101"}, BadQuestion, "YYYY-MM-DD"),
    ({"date_from": "2025-02-30"}, BadQuestion, "not a date"),
    ({"date_from": "2025-06-01", "date_to": "2025-01-01"}, BadQuestion, "after it ends"),
    ({"date_from": "2000-01-01"}, BadQuestion, "no known year"),   # no article states its year
])
def test_a_filter_that_cannot_match_is_an_error_not_a_silent_abstention(corpus_assistant, filters,
                                                                        error, fragment):
    with pytest.raises(error, match=fragment):
        corpus_assistant.ask("What did Turkey say about the S-400?", **filters)


def test_date_filter_uses_stated_dates(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "dated", {
        "dam.txt": "Ankara, March 3, 2025 - The Blue River dam in Kestrel Valley was finished after six "
                   "years of work. It supplies power to 400,000 homes.",
        "tram.txt": "Port Amber, June 9, 2025 - The city council voted to build a new tram line. The line "
                    "will run 14 kilometres from the harbour to the university."})
    answer = assistant.ask("How many homes does the Blue River dam power?", date_to="2025-04-01")
    assert {c.doc_id for c in answer.citations} == {"dam"}
    answer = assistant.ask("How many homes does the Blue River dam power?", date_from="2025-04-01")
    assert {c.doc_id for c in answer.citations} <= {"tram"}


@pytest.mark.parametrize("question, history", [
    ("What \udcff happened?", ()),                       # a byte that is not UTF-8, from a terminal
    ("What \ud800 happened?", ()),                       # half of a UTF-16 pair, from JSON
    ("And the US?", [("Who is \udc80 Fidan?", "Turkey's foreign minister.")]),
])
def test_text_that_is_not_valid_unicode_is_refused_in_one_line(corpus_assistant, question, history):
    with pytest.raises(BadQuestion, match="not valid text") as refused:
        corpus_assistant.ask(question, history=history)
    assert "\n" not in str(refused.value)


def test_answer_reports_per_stage_timings(corpus_assistant):
    answer = corpus_assistant.ask("Who is the US ambassador to Turkey?")
    assert set(answer.timings_ms) >= {"embed", "retrieve", "answer", "total"}
    assert all(v >= 0 for v in answer.timings_ms.values())
    data = answer.to_dict()
    assert set(data) >= {"question", "answer", "abstained", "mode", "citations", "timings_ms"}
    assert set(data["citations"][0]) == {"n", "doc_id", "title", "snippet", "start", "end", "score"}


def test_stream_yields_text_then_the_final_answer(corpus_assistant):
    parts = list(corpus_assistant.stream("Who is the US ambassador to Turkey?"))
    final = parts[-1]
    assert "".join(parts[:-1]) == final.text
    assert final.citations


def test_a_why_question_is_answered_with_the_cause_not_the_aftermath(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "mill", {
        "mill.txt": "The Amber mill was shut down in May and its forty workers were sent home. Its "
                    "owners sold the building to the town. The Amber mill was shut down because the "
                    "river that turned its wheel dried up in a long drought.",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week. Birdwatchers "
                   "counted three nests near the river."})
    answer = assistant.ask("Why was the Amber mill shut down?", mode="extractive")
    assert answer.text.startswith("The Amber mill was shut down because the river"), answer.text


def test_a_why_question_keeps_the_explanation_after_a_sentence_that_restates_it(make_assistant, tmp_path):
    # the restatement shares every word of the question; the explanation that follows shares none
    assistant = indexed(make_assistant, tmp_path / "owls", {
        "owls.txt": "Barn owls hoot more at night than by day. We traced one explanation for this habit to "
                    "the cooler air after dusk, which carries a call twice as far. Farmers welcome the "
                    "owls, which eat mice.",
        "mill.txt": "The Amber mill was shut down in May. Its owners sold the building to the town."})
    answer = assistant.ask("Why do barn owls hoot more at night than by day?", mode="extractive")
    assert answer.text.startswith("Barn owls hoot more at night than by day. We traced one explanation"), \
        answer.text


@pytest.mark.parametrize("question, start", [
    ("Why should the strict mode not be switched on for every page?",
     "The strict mode should, emphatically, not be switched on for every page. Its checks may flag"),
    ("How can Quillpad repair broken pages automatically?",
     "Quillpad can repair some broken pages automatically, just like a spell checker. Note that `--mend`"),
])
def test_a_why_or_how_answer_that_only_restates_the_question_keeps_the_sentence_after_it(
        make_assistant, tmp_path, question, start):
    # the sentence after the restatement gives no cause marker and shares few of the question's words
    assistant = indexed(make_assistant, tmp_path / "quill", {"quillpad.md": (
        "# Quillpad\n\nQuillpad syncs notebooks between devices.\n\n## Strict mode\n\n"
        "The strict mode should, *emphatically*, not be switched on for every page. Its checks may flag "
        "perfectly reasonable notes and may contradict one another. Pick them one by one instead.\n\n"
        "## Repairs\n\nQuillpad can repair some broken pages automatically, just like a spell checker. "
        "Note that `--mend` implies `--all-pages`, so it mends as much as it can.\n\n"
        "The sync server keeps thirty days of history.")})
    answer = assistant.ask(question, mode="extractive")
    assert answer.text.startswith(start), answer.text


def test_a_who_question_leads_with_the_sentence_that_names_someone(make_assistant, tmp_path):
    # the first article's sentence is closer in meaning to the question but names no one
    assistant = indexed(make_assistant, tmp_path / "treaty", {
        "radio.txt": "Fishing treaty talks continue\n\nThe embassy said talks on the fishing treaty "
                     "continue. In remarks broadcast on a Danish channel, the ambassador to Norland "
                     "acknowledged the ongoing sensitivity surrounding the fishing quotas and emphasized "
                     "the need for a pragmatic resolution.",
        "quotas.txt": "Quota review expected next year\n\nTrawler crews in the northern ports welcomed the "
                      "news that the quotas could be revised next year, after remarks by Ambassador to "
                      "Norland Ana Berg on the treaty."})
    answer = assistant.ask("Who is the ambassador to Norland?", mode="extractive")
    assert answer.text.startswith("Trawler crews"), answer.text
    assert "Ana Berg" in answer.text.split("[1]")[0]


def test_a_name_asked_without_its_accents_finds_the_sentence_that_spells_them(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "mayor", {
        "port.txt": "Port vote\n\nThe council voted to close the ferry pier for the winter. Mayor "
                    "Ağaoğlu denounced the vote as reckless. The pier reopens in April. Trawler crews "
                    "said the vote was expected."})
    answer = assistant.ask("How did Agaoglu react to the vote?", mode="extractive")
    assert "denounced" in answer.text.split("[1]")[0], answer.text


def test_what_an_acronym_stands_for_is_answered_only_where_it_is_spelled_out(make_assistant, tmp_path):
    mentioned = {"ports.txt": "Harbour fees rise\n\nThe NHPA fees for trawlers will stand at 40 crowns "
                              "from May. The NHPA said the fees pay for the breakwater at Port Amber."}
    assistant = indexed(make_assistant, tmp_path / "mentioned", mentioned)
    assert assistant.ask("What does NHPA stand for?", mode="extractive").abstained
    spelled = {**mentioned, "board.txt": "A new port board\n\nThe Northern Harbour and Port Authority "
                                         "(NHPA) was set up in 1998 to run the fishing ports."}
    assistant = indexed(make_assistant, tmp_path / "spelled", spelled)
    answer = assistant.ask("What does NHPA stand for?", mode="extractive")
    assert not answer.abstained and "Northern Harbour and Port Authority" in answer.text, answer.text


def test_a_yes_no_question_shows_the_claim_and_the_rebuttal_of_it(make_assistant, tmp_path):
    # the rebuttal is close to the question but says nothing new in its terms and comes from an
    # article already cited: without the rule, the two sentences that repeat the claim are shown
    assistant = indexed(make_assistant, tmp_path / "radar", {
        "claim.txt": "Radar dispute deepens\n\nNorland argues that operating the Kestrel radar near the "
                     "harbour puts allied patrol aircraft at risk of being tracked. Veloria, a treaty "
                     "partner, has long insisted that the Kestrel radar will not be linked to allied "
                     "networks, rejecting claims that the radar puts allied patrol aircraft at risk.",
        "echo.txt": "Harbour talks stall\n\nNorland views the Kestrel radar as a risk to allied patrol "
                    "aircraft and to the harbour's air defence network.",
        "more.txt": "Patrol flights resume\n\nAllied patrol aircraft were put at risk by the Kestrel radar, "
                    "Norland officials said, as flights resumed over the harbour."})
    answer = assistant.ask("Does the Kestrel radar put allied patrol aircraft at risk?", mode="extractive")
    pieces = answer.text.split("] ")
    assert pieces[0].startswith("Norland") and "rejecting claims" in pieces[1], answer.text


@pytest.mark.parametrize("text, question, opening", [
    ("The Lindholm market hall was sold to a bakery chain in 1994. Shoppers complained about the new "
     "opening hours. The council met in 1987 to discuss parking.", "What happened in 1994?",
     "The Lindholm market hall was sold"),
    ("Tolls on the Lindholm ferry were doubled in 1994, and commuters switched to buses. A new pier "
     "opened in 1987.", "What occurred in 1994?", "Tolls on the Lindholm ferry"),
])
def test_what_happened_in_a_year_is_answered_from_what_that_year_saw(make_assistant, tmp_path, text,
                                                                     question, opening):
    # "happened" is how the question is asked, not a word the answer must hold
    assistant = indexed(make_assistant, tmp_path / "town", {
        "town.txt": text,
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week. Birdwatchers "
                   "counted three nests near the river.",
        "tram.txt": "The city council of Port Amber voted on Tuesday to build a new tram line. The line "
                    "will run 14 kilometres from the harbour to the university."})
    answer = assistant.ask(question, mode="extractive")
    assert answer.text.startswith(opening), answer.text


def test_a_why_question_leads_with_the_cause_when_the_aftermath_shares_more_of_its_words(make_assistant, tmp_path):
    # the list of what followed repeats the question's words; the cause, close behind, comes first
    assistant = indexed(make_assistant, tmp_path / "club", {
        "club.txt": "The Amber crew was thrown out after it bought boats from a rival league, a move the "
                    "league said broke its safety rules.\n\n"
                    "The league immediately responded by:\n- Expelling the Amber rowing club from the river "
                    "league\n- Fining the Amber club 2,000 lira\n- Closing the Amber boathouse to league races",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week."})
    answer = assistant.ask("Why was the Amber rowing club expelled from the river league?", mode="extractive")
    assert answer.text.startswith("The Amber crew was thrown out after it bought"), answer.text
    assert "Fining the Amber club" in answer.text      # the aftermath still follows


def test_what_a_rule_requires_is_answered_with_the_obligation(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "harbour", {
        "harbour.txt": "The harbour treaty of Port Amber sets out the rules the two river towns agreed "
                       "on in 1990. Under the harbour treaty, every ship must pay a mooring fee unless it "
                       "flies the flag of a river town.",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week."})
    answer = assistant.ask("What does the harbour treaty require?", mode="extractive")
    assert answer.text.startswith("Under the harbour treaty, every ship must pay"), answer.text


def test_what_someone_demanded_is_answered_with_the_demand(make_assistant, tmp_path):
    # the first sentence shares more of the question's words; the second says what was demanded
    assistant = indexed(make_assistant, tmp_path / "league", {
        "league.txt": "The league and the Amber club still argue over the club's foreign boats and "
                      "whether it should switch, a quarrel now in its third year.\n\nThe league insisted "
                      "on river-built shells, a stance the club rejected.",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week."})
    answer = assistant.ask("What did the league demand the club switch to in place of its foreign boats?",
                           mode="extractive")
    assert answer.text.startswith("The league insisted on river-built shells"), answer.text


VELORIA = {
    "keeps.txt": ("Veloria keeps its radars\n\nVeloria will not abandon its Kestrel radar systems, its defence "
              "ministry said on Monday. Officials called the radars a strategic asset that guards the "
              "northern coast."),
    "returns.txt": ("Veloria may send its radars back\n\nVeloria is seeking to return its Kestrel radar systems "
                "to Norland, according to two officials familiar with the talks. The move would end a "
                "long dispute over the purchase."),
}


def test_reports_differ_only_when_the_question_asks_what_the_articles_disagree_on(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "veloria", VELORIA)
    stance = assistant.ask("Is Veloria planning to give its Kestrel radars back to Norland?", mode="extractive")
    assert stance.text.startswith("Reports differ.")
    assert {c.doc_id for c in stance.citations} == {"keeps", "returns"}   # both sides, each cited
    for question in ("Why does Veloria want to keep its Kestrel radar systems?",
                     "Who said Veloria will not abandon its Kestrel radar systems?",
                     "What do officials call the Kestrel radar systems?"):
        answer = assistant.ask(question, mode="extractive")
        assert "Reports differ" not in answer.text, (question, answer.text)


ORCA = {
    "bought.txt": ("Norland's frigates\n\nNorland bought the Orca frigates from Veloria in 2015, the navy "
                   "said on Tuesday. The ships patrol the northern coast."),
    "records.txt": ("Frigate records\n\nNorland bought the Orca frigates from Veloria in 2016, according "
                    "to defence records seen by reporters. Deliveries of the frigates began in 2019."),
}


def test_articles_giving_different_years_for_the_same_event_differ(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "orca", ORCA)
    answer = assistant.ask("When did Norland buy the Orca frigates?", mode="extractive")
    assert answer.text.startswith("Reports differ."), answer.text
    assert "2015" in answer.text and "2016" in answer.text
    assert {c.doc_id for c in answer.citations} >= {"bought", "records"}
    # another event's year is no other side, and one article's years never disagree
    for question in ("When did deliveries of the Orca frigates begin?",
                     "When did Norland buy the Orca frigates, according to defence records?"):
        answer = assistant.ask(question, mode="extractive")
        assert not answer.abstained and "Reports differ" not in answer.text, (question, answer.text)


def test_articles_giving_different_numbers_differ_and_each_is_cited_for_its_own(make_assistant, tmp_path):
    """Two articles alike but for a figure make two claims: each is cited for its own, and a
    how-many-question is told that they differ."""
    import re

    assistant = indexed(make_assistant, tmp_path / "orca-count", {
        "navy.txt": "Frigates\n\nThe navy said 12 Orca frigates patrol the northern coast of Norland.",
        "port.txt": "Port news\n\nThe navy said 14 Orca frigates patrol the northern coast of Norland."})
    answer = assistant.ask("How many Orca frigates patrol the northern coast of Norland?", mode="extractive")
    assert answer.text.startswith("Reports differ."), answer.text
    snippets = {c.n: c.snippet for c in answer.citations}
    pieces = re.findall(r"(.+?)\s*((?:\[\d+\])+)", answer.text)
    assert pieces, answer.text
    for sentence, marks in pieces:
        for n in map(int, re.findall(r"\d+", marks)):
            assert re.findall(r"\d+", snippets[n]) == re.findall(r"\d+", sentence), answer.text


@pytest.mark.parametrize("question, stance", [
    ("Is Veloria planning to give its radars back?", True), ("Will Veloria keep its radars?", True),
    ("What is Veloria's position on the radars?", True),
    ("On which site did Veloria announce the radars' return?", False),   # a which-question
    ("In what talks did officials discuss keeping the radars?", False),
    ("Why does Veloria keep its radars?", False), ("When will Veloria return the radars?", False)])
def test_only_a_question_whether_something_is_kept_or_given_up_asks_for_a_stance(question, stance):
    from rag.extractive import asks_stance

    assert asks_stance(question) is stance


def test_the_two_sides_come_first_and_a_mere_mention_is_no_side(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "veloria3", {**VELORIA, "mention.txt": (
        "Radar plans\n\nVeloria plans the return of its Kestrel radar systems to the spotlight at a "
        "turning point for coastal traders, the planning office said.")})
    answer = assistant.ask("Is Veloria planning to give its Kestrel radars back to Norland?", mode="extractive")
    assert answer.text.startswith("Reports differ.")
    sides = [answer.text.find(side) for side in ("Veloria is seeking to return", "Veloria will not abandon")]
    mention = answer.text.find("turning point")
    assert min(sides) > 0 and (mention < 0 or mention > max(sides)), answer.text


def test_both_sides_are_found_when_the_best_sentences_only_mention_the_question(make_assistant, tmp_path):
    """The best sentence takes no side: the two sides are still looked for among the close ones,
    and the side a chosen sentence takes is not dropped to make room for its opposite."""
    assistant = indexed(make_assistant, tmp_path / "veloria4", {**VELORIA,
        "mention.txt": ("Radar talks\n\nThe return of the Kestrel radar systems to Norland would be a turning "
                        "point for Veloria, analysts said of the radars."),
        "mention2.txt": ("Radar plans\n\nFor Veloria, the fate of the Kestrel radars and a return to Norland "
                         "dominate the talks, the planning office said.")}, max_answer_sentences=2)
    answer = assistant.ask("Is Veloria going to return the Kestrel radar systems to Norland?", mode="extractive")
    assert answer.text.startswith("Reports differ."), answer.text
    assert "Veloria is seeking to return" in answer.text and "Veloria will not abandon" in answer.text


@pytest.mark.parametrize("sentence, stance", [
    ("Veloria is seeking to return its radars to Norland.", 1),
    ("Veloria will not abandon its radars.", -1), ("Veloria keeps its radars.", -1),
    ("For Veloria, the return of the radars could be a turning point.", 0),   # an idea, not a claim
    ("Officials discussed a withdrawal of the radars.", 0)])
def test_a_stance_is_taken_by_a_verb_not_by_a_noun(sentence, stance):
    from rag.extractive import _stance

    assert _stance(sentence) == stance


def test_a_heading_hands_its_match_to_the_section_under_it_with_its_grouped_list(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "dredging", {"dredging.txt": (
        "Port Amber dredging plan\n\nThe port board approved the dredging of the outer channel on "
        "Monday.\nRisks of the Dredging Plan for Port Amber\nThe plan brings two kinds of risk:\n"
        "Financially\n- The cost may double if the silt is polluted\n- Fees for trawlers will rise\n"
        "Environmentally\n- Seagrass beds near the pier could be lost\n"
        "The board meets again in June.")})
    answer = assistant.ask("What are the risks of the dredging plan?", mode="extractive")
    assert answer.text.startswith("The plan brings two kinds of risk: Financially: The cost may double"), answer.text
    assert "; Environmentally: Seagrass beds near the pier could be lost" in answer.text
    assert "Risks of the Dredging Plan" not in answer.text


def test_a_lead_in_ending_in_a_colon_keeps_the_quotation_it_introduces(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "bridge", {"bridge.txt": (
        "Amber bridge to reopen\n\nThe Amber bridge has been closed since the flood in the spring. "
        "Mayor Quill Vantablack made it clear:\n“The Amber bridge will reopen to traffic in May, "
        "with a lower speed limit.”\nEngineers are still testing the steel frame.")})
    answer = assistant.ask("What did Mayor Quill Vantablack say about the Amber bridge?", mode="extractive")
    assert "made it clear: “The Amber bridge will reopen to traffic in May" in answer.text
    quoted = next(c for c in answer.citations if "made it clear" in c.snippet)
    assert "reopen to traffic in May" in quoted.snippet                  # one passage, cited whole
    assert assistant.document("bridge").text[quoted.start:quoted.end] == quoted.snippet


def test_a_lead_in_ending_in_a_colon_keeps_the_statement_or_command_on_the_next_line(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\nKiln bakes pottery glazes in batches.\n\n## Building\n\n"
        "To build the kiln controller from source, run:\n\n```\nmake firmware --release\n```\n\n"
        "The controller needs a serial cable.")})
    answer = assistant.ask("How do I build the kiln controller from source?", mode="extractive")
    assert answer.text.startswith("To build the kiln controller from source, run: `make firmware --release`"), \
        answer.text


def test_a_lead_in_keeps_the_whole_code_block_it_introduces(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\nKiln bakes pottery glazes in batches.\n\n## Nightly firing\n\n"
        "You can fire the kiln every night from a cron table, in the same way you fire it by hand:\n\n"
        "```\nSHELL=/bin/sh\n# m h dom mon dow\n0 2 * * * kiln fire --schedule night.toml\n```\n\n"
        "The controller needs a serial cable.")})
    answer = assistant.ask("How do I set up nightly firing of the kiln with cron?", mode="extractive")
    assert answer.text.startswith("You can fire the kiln every night from a cron table, in the same way you fire "
                                  "it by hand: `SHELL=/bin/sh` `# m h dom mon dow` "
                                  "`0 2 * * * kiln fire --schedule night.toml`"), answer.text


def test_how_to_do_something_keeps_the_code_block_under_a_sentence_with_no_colon(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\nKiln bakes pottery glazes in batches.\n\n## Kiln shell\n\n"
        "The kiln can be driven from its own shell, so that every burner will be shown and logged.\n\n"
        "```\n>>> from kiln import shell\n>>> shell.start()\n```\n\nThe controller needs a serial cable.")})
    answer = assistant.ask("How do I show and log every burner from the kiln shell?", mode="extractive")
    assert answer.text.startswith("The kiln can be driven from its own shell, so that every burner will be "
                                  "shown and logged. `>>> from kiln import shell` `>>> shell.start()` [1]"), \
        answer.text


def test_a_markdown_list_is_answered_whole_with_its_lead_in(make_assistant, tmp_path):
    # a blank line between the lead-in and its items, "*" bullets, items that end in a full stop
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\nKiln bakes pottery glazes in batches.\n\nThe kiln controller needs these parts:\n\n"
        "* a serial cable.\n* a 16 A fuse.\n* a **thermocouple** probe.\n\nIt logs every firing.")})
    answer = assistant.ask("What parts does the kiln controller need?", mode="extractive")
    assert answer.text.startswith("The kiln controller needs these parts: a serial cable; a 16 A fuse; "
                                  "a thermocouple probe. [1]"), answer.text


def test_a_list_announced_a_sentence_before_its_lead_in_is_answered_with_that_sentence(make_assistant,
                                                                                        tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\nKiln bakes pottery glazes in batches.\n\n**Spare parts:**\n\n"
        "The kiln ships with spare copies of the following parts. However, if the owner already has "
        "them and they pass the self-test, then the owner's parts will be used instead:\n\n"
        "* `thermocouple` — reads the heat.\n* `relay` — switches the burner.\n\n"
        "The controller needs a serial cable.")})
    answer = assistant.ask("Which parts does the kiln ship spare copies of?", mode="extractive")
    assert answer.text.startswith("Spare parts: The kiln ships with spare copies of the following parts. "
                                  "However, if the owner"), answer.text
    assert "`thermocouple` — reads the heat; `relay` — switches the burner. [1]" in answer.text


def test_a_short_note_on_a_list_items_line_stays_with_that_item(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\nKiln bakes pottery glazes in batches.\n\nThe kiln takes these optional parts:\n\n"
        "* `fan` - Cools the chamber. *(Optional, with `kiln[cool]`)*\n"
        "* `probe` - Reads the heat. *(Optional, with `kiln[heat]`)*\n"
        "* `lamp` - Lights the shelves. *(Optional, with `kiln[light]`)*\n\nIt logs every firing.")})
    answer = assistant.ask("What optional parts does the kiln take?", mode="extractive")
    assert answer.text.startswith("The kiln takes these optional parts: `fan` - Cools the chamber. (Optional, "
                                  "with `kiln[cool]`); `probe` - Reads the heat. (Optional, with `kiln[heat]`); "
                                  "`lamp` - Lights the shelves. (Optional, with `kiln[light]`). [1]"), answer.text


def test_a_numbered_list_is_answered_whole_and_a_question_heading_is_no_answer(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.md": (
        "# Kiln\n\n## What is a glaze anyway?\n\nPotters coat their pots before firing. A glaze is a glassy "
        "coat. It has a couple useful properties:\n1) It seals the clay, so pots hold water\n"
        "2) It resists stains, even from coffee\n3) It hardens the surface. A glazed mug lasts for years.\n\n"
        "The controller needs a serial cable.")})
    answer = assistant.ask("What properties does a glaze have?", mode="extractive")
    assert ("It has a couple useful properties: It seals the clay, so pots hold water; "
            "It resists stains, even from coffee; It hardens the surface. A glazed mug lasts for years. [") \
        in answer.text, answer.text
    assert "anyway" not in answer.text


def test_a_one_word_heading_hands_on_to_the_line_under_it(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"kiln.txt": (
        "Kiln parts\n\nThe kiln has two parts.\n\nChamber\nHolds the pots while they fire.\n\n"
        "Controller\nTurns the heat up and down on a schedule.")})
    answer = assistant.ask("What does the Controller do?", mode="extractive")
    assert answer.text.startswith("Turns the heat up and down on a schedule."), answer.text


@pytest.mark.parametrize("name, text, question, parts, outside", [
    # a quotation, answered with the rest of it
    ("quay", "Harbour talks\n\nThe harbour board met the fishing union on Friday. ‘The new quay is a "
             "priority for us, and we are working closely with the union on it,’ said a board member, "
             "speaking anonymously. ‘This is not just about the quay, it is about winning back the trust "
             "of the fishermen.’ Talks resume in June.",
     "According to the anonymous board member, what is the harbour board really after in working with "
     "the union on the quay?", ("priority for us", "winning back the trust"), ("Talks resume",)),
    # the sentence next to the best one, when it says what the question asks
    ("cranes", "Port talks\n\nThe Port Amber board met the shipping firms on Monday to discuss fees. "
               "Harbour officials have noted ongoing complaints about the delivery of promised cranes and "
               "payments in the context of wider port talks. The situation is framed not only as a budget "
               "matter but as a signal of the port's reliability.\nThe next meeting is in May.",
     "Why do harbour officials see the delays in delivering promised cranes as more than a budget matter?",
     ("promised cranes", "signal of the port's reliability"), ("next meeting", "met the shipping firms")),
])
def test_the_best_sentence_takes_in_what_completes_its_answer(make_assistant, tmp_path, name, text,
                                                              question, parts, outside):
    assistant = indexed(make_assistant, tmp_path / name, {f"{name}.txt": text})
    answer = assistant.ask(question, mode="extractive")
    cited = answer.citations[0]
    assert all(part in cited.snippet for part in parts), answer.text
    assert not any(other in cited.snippet for other in outside)
    assert answer.text.count(parts[1]) == 1                                # and said once
    assert assistant.document(name).text[cited.start:cited.end] == cited.snippet


def test_a_why_question_keeps_the_quotations_that_give_the_reason(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "ferry", {"ferry.txt": (
        "Ferry line debate\n\nSome Port Amber councillors praise the plan to sell the old ferry, while "
        "others warn against selling the ferry. ‘The ferry is our only winter link,’ said one councillor. "
        "‘Without it the island could be cut off for weeks.’ The vote is due in June.\n"
        "‘We will decide calmly,’ the mayor said.")})
    answer = assistant.ask("Why do some councillors warn against selling the ferry?", mode="extractive")
    cited = answer.citations[0]
    assert "our only winter link" in cited.snippet and "cut off for weeks" in cited.snippet, answer.text
    assert "vote is due" not in cited.snippet and "decide calmly" not in answer.text   # quotes only, same paragraph
    assert assistant.document("ferry").text[cited.start:cited.end] == cited.snippet
    plain = assistant.ask("What do some councillors warn against?", mode="extractive")
    assert "winter link" not in plain.citations[0].snippet   # only a why or how question takes them



def test_a_question_asking_for_several_things_is_answered_with_the_sentence_that_lists_them(make_assistant, tmp_path):
    # the first sentences restate the question's words; the one that answers lists three goals
    assistant = indexed(make_assistant, tmp_path / "park", {
        "park.txt": "At the meeting, the mayor spoke about the disagreement between the two councils "
                    "over the Birch Park plans as a normal part of town politics. The councils, she "
                    "said, do not agree on every planting decision in Birch Park. However, she named "
                    "a shared aim: to plant more oaks, build a pond, and open a children's corner.",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week."})
    answer = assistant.ask("What shared goals for Birch Park did the mayor name despite the councils' "
                           "disagreement?", mode="extractive")
    assert "to plant more oaks, build a pond, and open a children's corner" in answer.text, answer.text


def test_a_question_that_asks_two_things_is_answered_part_by_part(make_assistant, tmp_path):
    # the flood article shares most of the question's words, so the whole question finds only it
    assistant = indexed(make_assistant, tmp_path / "news", {
        "flood.txt": "The May flood in Alder\n\nThe Alder Gazette reported the news of the May flood in "
                     "Alder first. The news of the May flood spread fast across the county. Newspapers "
                     "across the county repeated the news of the May flood for a week. The May flood "
                     "news reached the capital's newspapers too.",
        "fire.txt": "Mill burns\n\nAccording to the Birch Courier, a fire in June burned the old mill.",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week."})
    answer = assistant.ask("Which newspapers are cited for the news of the May flood and for the "
                           "June fire?", mode="extractive")
    assert "Alder Gazette" in answer.text and "Birch Courier" in answer.text, answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert {c.doc_id.split("_")[0] for c in answer.citations} >= {"flood", "fire"}


def test_joined_part_answers_renumber_citations_and_say_a_passage_once():
    from dataclasses import replace

    from rag.extractive import joined
    from rag.records import Answer, Citation

    def cite(n, doc, start):
        return Citation(n=n, doc_id=doc, title=doc, snippet="x", start=start, end=start + 10, score=1.0)

    first = Answer(question="a", text="Alder flooded. [1] The road closed. [2]",
                   citations=(cite(1, "flood", 0), cite(2, "flood", 20)))
    second = Answer(question="b", text="The road closed. [1] The mill burned. [2][3]",
                    citations=(cite(1, "flood", 20), cite(2, "fire", 0), cite(3, "fire", 40)))
    nothing = Answer(question="c", text="The corpus does not contain an answer to this question.", abstained=True)
    both = joined("a and b", [first, nothing, second], 2)
    assert both.text == "Alder flooded. [1] The road closed. [2] The mill burned. [3][4]"
    assert [(c.n, c.doc_id, c.start) for c in both.citations] == [(1, "flood", 0), (2, "flood", 20),
                                                                  (3, "fire", 0), (4, "fire", 40)]
    # each part gives at most its share of sentences (above, the road, said already, did not count)
    assert joined("a and b", [first, second], 1).text == "Alder flooded. [1] The road closed. [2]"
    assert joined("c", [nothing, nothing], 2) is None
    # a passage an earlier part cites inside a longer one is said once too
    longer = Answer(question="a", text="Alder flooded and the road closed. [1]",
                    citations=(replace(cite(1, "flood", 0), end=30),))
    assert joined("a and b", [longer, second], 2).text == ("Alder flooded and the road closed. [1] "
                                                           "The mill burned. [2][3]")


@pytest.mark.parametrize("text, question, figures", [
    ("Norland bought 4 Kestrel-200 radars and 12 frigates in 2015.", "How many frigates did Norland buy?",
     {"4", "12"}),                                       # a model name's number is no figure
    ("Norland bought 4 Kestrel-200 radars and 12 frigates in 2015.", "When did Norland buy frigates?",
     {"2015"})])
def test_the_figures_two_articles_may_disagree_on_are_the_kind_the_question_asks_for(text, question, figures):
    from rag.answer_type import expected_kind
    from rag.extractive import _figures

    assert _figures(text, expected_kind(question)) == figures


def test_what_a_thing_does_is_answered_where_the_text_first_has_it_as_subject(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "quill", {"quillpad.md": (
        "# Quillpad\n\nQuillpad syncs your notebooks between devices and keeps their history.\n\n"
        "**To start using Quillpad**, read [the Quillpad Handbook](https://example.org/hb).\n\n"
        "The Quillpad binary shipped with the desktop app is maintained by the Quillpad team.\n\n"
        "## Plugins\n\nQuillpad is designed to be extended with plugins without changing Quillpad itself.\n\n"
        "Quillpad releases follow the desktop app's releases.")})
    answer = assistant.ask("What does Quillpad do?", mode="extractive")
    assert answer.text.startswith("Quillpad syncs your notebooks between devices"), answer.text


def test_what_a_thing_is_is_answered_by_the_line_under_its_title(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "quill", {"quillpad.md": (
        "# quillpad\n\nA tool for keeping notebooks in step across devices.\n\n## Limits\n\n"
        "Quillpad tries to sync as many notebooks as possible. Quillpad is designed to be very "
        "configurable. Quillpad can also read notes from a folder.")})
    answer = assistant.ask("What is quillpad?", mode="extractive")
    assert answer.text.startswith("A tool for keeping notebooks in step across devices. [1]"), answer.text


def test_a_why_answer_on_a_line_with_no_stop_keeps_the_reason_on_the_next_line(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "kiln", {"guide.md": (
        "# Kiln guide\n\n- Keep to the house style.\n- We are limited to firmware 3.2 features\n\n"
        "  That's because that's the version shipped with the oldest kilns.\n\n"
        "Every change needs a test.")})
    answer = assistant.ask("Why are we limited to firmware 3.2?", mode="extractive")
    assert answer.text.startswith("We are limited to firmware 3.2 features. That's because that's the "
                                  "version shipped with the oldest kilns. [1]"), answer.text


def test_how_to_do_something_is_answered_with_the_steps_under_it_across_passages(make_assistant, tmp_path):
    steps = "".join(f"- Step {n}: turn the {part} dial to {n} and wait for the lamp to go green\n"
                    for n, part in enumerate(["left", "right", "top", "back", "front", "middle", "side",
                                              "lower", "upper", "spare"], 1))
    assistant = indexed(make_assistant, tmp_path / "kiln", {"guide.md": (
        "# Kiln guide\n\nThe kiln bakes glazes.\n\n## Resetting\n\n"
        "This is the safest way to reset a kiln controller after a power cut.\n\n" + steps +
        "\n## Cleaning\n\nWipe the shelves once a month.")})
    answer = assistant.ask("How do I reset the kiln controller after a power cut?", mode="extractive")
    assert answer.text.startswith("This is the safest way to reset a kiln controller after a power cut. "
                                  "Step 1: turn the left dial"), answer.text
    assert "Step 10: turn the spare dial to 10 and wait for the lamp to go green. [1]" in answer.text
    cited = answer.citations[0]
    assert assistant.document("guide").text[cited.start:cited.end] == cited.snippet
    assert cited.snippet.endswith("Step 10: turn the spare dial to 10 and wait for the lamp to go green")


def test_how_to_do_something_is_answered_with_the_command_that_does_it(make_assistant, tmp_path):
    assistant = indexed(make_assistant, tmp_path / "quill", {"quillpad.md": (
        "# Quillpad\n\nQuillpad syncs your notebooks between devices.\n\n## Setup\n\n"
        "### Step 1: Install the toolchain\n\nYou can install the toolchain on most systems. This will help "
        "us install Quillpad and its plugins.\n\n### Step 2: Install Quillpad\n\n"
        "Once the toolchain is installed, run the following command:\n\n```\nquill component add pad\n```\n\n"
        "### Step 3: Open a notebook\n\nOpen a notebook from the file menu.")})
    answer = assistant.ask("How do I install Quillpad?", mode="extractive")
    assert answer.text.startswith("Once the toolchain is installed, run the following command: "
                                  "`quill component add pad`"), answer.text


def test_a_figure_in_a_sentence_about_something_else_answers_no_how_much_question(make_assistant, tmp_path):
    """The sum a sentence gives is for what that sentence is about: asked what Norland paid
    Valdia for a radar, the billions it spent on frigates are no answer, and where another
    sentence gives the month asked about, that one answers, not the year of another event."""
    assistant = indexed(make_assistant, tmp_path / "radar", {
        "frigates.txt": "Norland's navy\n\nBefore the vote, Norland had spent over $2 billion on new "
                        "frigates and planned to buy up to 40 patrol boats. Norland took delivery of "
                        "the Valdian Kestrel radar system after long talks. The Kestrel deal, signed in "
                        "2017, has long strained Norland's ties with its allies. The minister said the "
                        "radar came up when the envoy visited the capital in March."})
    answer = assistant.ask("How much did Norland pay Valdia for the Kestrel radar system?", mode="extractive")
    assert answer.abstained, answer.text
    answer = assistant.ask("In which month did the radar come up during the envoy's visit, according "
                           "to the minister?", mode="extractive")
    assert answer.text.startswith("The minister said"), answer.text


def test_a_why_question_finds_the_purpose_in_a_sentence_that_points_back_at_a_list(make_assistant, tmp_path):
    """"This marks a strategy to ..." is about the list before it: it takes in that list's words,
    and a purpose ("a strategy to", "in a bid to") is a reason for a why-question."""
    assistant = indexed(make_assistant, tmp_path / "ferries", {
        "ferries.txt": "The Orchard Council's plans\n\nThe Orchard Council is not standing still. The "
                       "council has:\n- Bought two electric ferries from Lindau\n- Doubled the output of "
                       "its own battery plant\n- Kept its diesel fleet in reserve\nThis marks a long-term "
                       "strategy to cut reliance on imported fuel and shield fares from price swings.\n"
                       "Ferries have crossed the bay since 1990, after a storm wrecked the old bridge.",
        "owl.txt": "A rare orange owl was seen in the Kestrel Valley forest last week. Birdwatchers "
                   "counted three nests near the river."})
    answer = assistant.ask("Why is the Orchard Council buying electric ferries and expanding its home "
                           "battery plant?", mode="extractive")
    assert answer.text.startswith("This marks a long-term strategy to cut reliance"), answer.text


def test_how_to_do_something_is_answered_by_a_command_on_a_line_of_its_own(make_assistant, tmp_path):
    """A command on its own line, under a sentence with no colon, answers "how do I ...?"; a
    list of another tool's optional extras that names the same package does not."""
    assistant = indexed(make_assistant, tmp_path / "inkwell", {
        "inkwell.md": "# Inkwell\n\nInkwell draws tables in a terminal.\n\n## Installing\n\n"
                      "Use `pip` or any other package manager.\n\n```sh\npython -m pip install inkwell\n```\n\n"
                      "## Colours\n\nInkwell picks colours from the terminal theme.",
        "plume.md": "# Plume\n\nPlume fetches web pages.\n\n## Installing\n\nPlume needs only Python. As well "
                    "as these optional installs:\n\n"
                    "* `inkwell` - Table output with Inkwell. *(Optional, with `plume[tables]`)*\n"
                    "* `zlib` - Compressed pages. *(Optional, with `plume[zip]`)*\n"})
    answer = assistant.ask("How do I install Inkwell?", mode="extractive")
    assert answer.text.startswith("`python -m pip install inkwell`"), answer.text
