"""What a question asks for and whether a sentence gives it, on made-up sentences."""

from __future__ import annotations

import pytest

from rag.answer_type import (asks_person, defined, defines, expected_kind, holds_role, names_kind,
                             names_person, rebuts, restates, says, supplies, unknown_names, wanted)


@pytest.mark.parametrize("question, kind", [
    ("How many bridges cross the Amber river?", "number"), ("When did the mill close?", "time"),
    ("Who runs the port?", "name"), ("Which harbour official signed the lease?", "name"),
    ("Which rivers feed the lake?", "name"), ("Which year did the mill open?", "time"),
    ("Why did the mill close?", ""), ("What does the law say?", ""),
    ("On what date did the mill close?", "time"), ("By which year will the tram run?", "time"),
    ("How much did the city pay for the bridge?", "amount"), ("How much money went to the port?", "amount"),
    ("What is the dollar value of the 12 ferries?", "amount"), ("How much of the river is navigable?", "number"),
    # a word before the question word: a follow-up's "and", a "roughly"
    ("And when did the mill close?", "time"), ("Roughly how many ferries cross?", "number"),
    ("And who signed the lease?", "name"), ("So why did the mill close?", ""),
    # where: a place, unless it asks where someone stands or is heading
    ("Where are the ferries kept?", "place"), ("In which town did the mill open?", "place"),
    ("Where does the council stand on the toll?", ""), ("Where is the port heading?", "")])
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert expected_kind(question) == kind


def test_a_question_asking_for_a_date_is_not_answered_by_a_vaguer_time():
    q = "On what date did the mayor open the bridge?"
    assert not supplies("time", "The mayor opened the bridge a decade ago, soon after the flood.", q)
    assert not supplies("time", "The mayor may open the bridge.", q)
    assert supplies("time", "The mayor opened the bridge on 4 March.", q)
    assert supplies("time", "The mayor opened the bridge in 2019.", q)
    assert supplies("time", "The mayor opened it a decade ago.", "When did the mayor open the bridge?")


def test_when_something_is_expected_is_answered_by_a_plan_not_by_a_past_date():
    q = "When is the ferry line expected to take delivery of its first hydrofoil?"
    assert not supplies("time", "Deliveries of the barges began in July 2019.", q)
    assert supplies("time", "The first hydrofoil is expected to arrive in spring 2027.", q)
    assert supplies("time", "The yard says it will hand over the hydrofoil in March.", q)
    assert supplies("time", "New hydrofoils are handed over within 6 weeks of an order.", q)   # a rule
    assert not supplies("time", "The line ran its last barge in 2015.", "When will the line run its new hydrofoil?")
    # a past question keeps its past answer
    assert supplies("time", "Deliveries of the barges began in July 2019.", "When did barge deliveries begin?")


def test_how_long_is_answered_by_a_span_of_time_not_by_a_year_or_a_model_number():
    q = "Roughly how long has the toll dispute strained the two ports' ties?"
    assert supplies("number", "The toll dispute has strained their ties for nearly a decade.", q)
    assert supplies("number", "The bridge is 2 km long.", "How long is the bridge?")
    assert not supplies("number", "The ports fell out in 2019, after the KX-35 ferry deal.", q)
    assert not supplies("number", "The ports fell out over the KX 35s.", q)    # written apart, plural
    assert not supplies("number", "The toll dispute has become one of the port's worst.", q)
    assert supplies("number", "One of the three ferries sank.", "How many ferries sank?")


def test_where_is_answered_by_a_place_after_a_word_of_location():
    q = "Where in Norland are the KX-35 ferries kept?"
    assert supplies("place", "The ferries are kept at Vale, near the old pier.", q)
    assert supplies("place", "In Port Amber, the ferries wait out the winter.", q)
    # a name that is no place here, an acronym, a designator, a month, the question's own place
    assert not supplies("place", "Vale's council says the KX-35 ferries will stay in service.", q)
    assert not supplies("place", "The ferries joined the NATO fleet from the KX-35 line in March.", q)
    assert not supplies("place", "The ferries are kept in Norland.", q)
    # "from": where something comes from, which only "from where" asks
    assert not supplies("place", "The ferries were bought from Vale in 2017.", q)
    assert supplies("place", "The ferries were bought from Vale.", "Where did Norland buy the ferries from?")


def test_where_something_is_found_is_answered_by_what_it_is_found_in():
    q = "Where are tallow moths found?"
    assert supplies("place", "Tallow moths, which are present in old barns or mills, eat wax.", q)
    assert supplies("place", "The moths are mostly found in the attic.", q)
    assert not supplies("place", "Tallow moths are found in many places.", q)     # no thing named
    assert not supplies("place", "Tallow moths eat wax in the dark.", q)


def test_where_something_is_written_is_answered_by_a_file_or_an_address():
    q = "Where is the kiln's schedule format documented?"
    assert supplies("place", "The schedule format is documented in `kiln/schedule.py`.", q)
    assert supplies("place", "Docs are available at https://example.org/kiln.", q)
    assert not supplies("place", "The schedule format is documented in detail.", q)


def test_where_to_do_something_is_answered_by_somewhere_named_or_not():
    q = "Where should I report a fault in the kiln?"
    assert supplies("place", "Please report faults in the issue tracker.", q)
    assert not supplies("place", "Please report faults quickly.", q)
    # a question about where a thing is, not where to go, still wants a named place
    logged = "Where are the kiln's faults logged?"
    assert not supplies("place", "The faults are logged in the issue tracker.", logged)
    assert not supplies("place", "Faults come from `kiln/relay.py`.", logged)


def test_a_list_items_mark_is_no_word_of_its_sentence():
    assert not supplies("name", "- The usual rules apply to the kiln.", "Who built the kiln?")
    assert supplies("name", "- The kiln was built by Ana Vale.", "Who built the kiln?")
    assert not supplies("number", "2. The ferries sail at dawn.", "How many ferries sail?")


def test_days_and_hours_are_times():
    q = "When will the council answer a complaint?"
    assert supplies("time", "Complaints are answered within 5 days.", q)
    assert supplies("time", "An advisory follows within 6 hours.", "When is the advisory published?")
    assert not supplies("time", "Complaints are answered by the clerk.", q)


def test_where_something_should_be_sent_is_answered_by_whoever_takes_it():
    q = "Where should faults in the ferry engines be reported?"
    assert supplies("place", "Faults in the engines should be reported to their respective makers.", q)
    assert not supplies("place", "Faults in the engines are rare.", q)


def test_which_version_is_answered_by_a_number():
    q = "Which Python version does the kiln controller require?"
    assert supplies("name", "the kiln controller requires python 3.9 or later.", q)
    assert not supplies("name", "the kiln controller requires a recent python.", q)
    assert not supplies("name", "the ferries sail in 2019.", "Which ferries sail?")     # a which-thing: no number
    # a version is a number, whatever else is named, and "what is the latest version" asks for one
    assert not supplies("name", "Projects may pin the Python version in the Kiln file.", q)
    q = "What is the latest version of the kiln controller?"
    assert expected_kind(q) == "name"
    assert supplies("name", "Version 4.2 of the controller came out in May.", q)
    assert not supplies("name", "For the latest controller, the Nightly build is needed.", q)


def test_which_thing_is_answered_by_the_thing_named_beside_its_kind():
    q = "Which digestive enzymes do otters make?"
    assert supplies("name", "Otters make the digestive enzymes trypsin and lipase in the gut.", q)
    assert supplies("name", "Otters make pancreatic enzymes.", q)
    assert supplies("name", "Otters make one digestive enzyme, lipase.", q)     # the singular, too
    assert supplies("name", "Otters make enzymes such as lipase.", q)
    assert not supplies("name", "Otters make digestive enzymes.", q)
    assert not supplies("name", "Otters make digestive enzymes in the gut.", q)
    assert supplies("name", "Otters make Lipase-7.", q)                        # a name, as before
    q = "Which command lists the kilns?"
    assert supplies("name", "`kiln list` shows every kiln.", q)                # code names a thing
    assert supplies("name", "The `ls` command shows every kiln.", q)
    assert not supplies("name", "Its output lists the `kilns` by name.", q)    # code the question has


def test_names_no_indexed_text_holds_are_found_in_any_form_of_the_question():
    indexed = {"port", "amber", "tram", "us", "nato", "russia", "russian", "kestrel"}

    def known(term):
        return term in indexed

    assert unknown_names("What did Atlantis say about the Port Amber tram?", known) == ["Atlantis"]
    assert unknown_names("What did the United States and NATO say about Kestrel?", known) == []
    # the first word, a short acronym and a designator are not taken for names
    assert unknown_names("Describe what TV showed of the F-16s in Port Amber.", known) == []
    assert unknown_names("Is it far? Perhaps Amber knows.", known) == []
    assert unknown_names("What did Atlantis and Lemuria sign? And Atlantis?", known) == ["Atlantis", "Lemuria"]


def test_an_answer_without_the_kind_asked_for_does_not_supply_it():
    q = "How many bridges cross the Amber river?"
    assert not supplies("number", "Bridges cross the Amber river near the old town.", q)
    assert supplies("number", "Seven bridges cross the Amber river.", q)
    assert not supplies("name", "The port is run by a local board.", "Who runs the port?")
    assert supplies("name", "The port is run by Mara Lind.", "Who runs the port?")


@pytest.mark.parametrize("sentence, person", [
    ("Harbourmaster Lind signed the lease on Monday.", True),        # a title and a name
    ("The lease was signed, Lind said.", True),                       # a name before "said"
    ("The board met on Monday and signed the lease.", False),         # a weekday is no person
    ("Mayor Ada Quill signed the lease.", True),                      # a title and a full name
    ("The port responded by: Raising fees; Closing Dock 4.", False),  # a gerund after a colon
    ("Kestrel's lease was signed.", False),                           # the question's own name
    ("The lease was signed by the NATO office.", False),              # an acronym
    ("The lease made the United States uneasy.", False),              # a country
    ("The lease worried the Harbour Ministry.", False),               # an institution
    ("Ships left for the Eastern Isles.", False),                     # a region
    ("The port sold Norland’s T-90 tanks.", False),                   # a designator is no name
    ("The lease went to the envoy to Kestrel Ada in May.", False),    # a first name after a word asked about
    ("The lease went to the envoy to Kestrel Ada Quill in May.", True),   # ... and a full name
])
def test_a_person_is_a_name_new_to_the_question(sentence, person):
    question = "Which official renewed Kestrel's lease?"
    assert asks_person(question) and not asks_person("Which rivers feed the lake?")
    assert names_person(sentence, question) is person


def test_a_why_question_wants_a_cause_not_already_in_the_question():
    q = "Why did the mill close after the flood?"
    cause = wanted(q)
    assert cause is not None and wanted("What prompted the strike?") is cause
    assert wanted("What did the mill make?") is None
    assert says(cause, "The mill closed because its wheel broke.", q)
    assert says(cause, "The mill closed amid falling prices.", q)
    assert not says(cause, "The mill closed after the flood.", q)      # "after" is the question's own
    assert not says(cause, "Before it closed, the mill made 100 sacks a day.", q)


def test_a_why_question_counts_an_explanation_as_a_cause():
    q = "Why do owls hoot at night?"
    assert says(wanted(q), "One explanation is that the dark carries sound further.", q)
    assert says(wanted(q), "The habit is attributed to their hunting hours.", q)
    assert says(wanted(q), "It stems from the need to mark a territory.", q)
    assert not says(wanted(q), "Owls hoot at night in many forests.", q)


def test_when_something_is_needed_wants_a_condition_not_a_time():
    q = "When is a permit needed for the kiln?"
    assert expected_kind(q) == "" and says(wanted(q), "Only if the kiln runs above 1200 °C.", q)
    assert not says(wanted(q), "Permits are issued by the council.", q)
    assert expected_kind("When is the kiln expected to open?") == "time"
    assert expected_kind("When was a permit needed?") == "time"


@pytest.mark.parametrize("question, sentence, is_defined", [
    ("What does Quillpad do?", "Quillpad syncs notebooks between devices.", True),
    ("What does Quillpad do?", "- `quillpad` keeps a history of every page.", True),
    ("What does Quillpad do?", "To start using Quillpad, read the handbook.", False),
    ("What does Quillpad do?", "The Quillpad Handbook explains the menus.", False),
    ("What is a spindle?", "A spindle is a rod that holds the thread.", True),
    ("What are spindles used for?", "Spindles, made of ash wood, hold the thread.", True),
    ("What is the spindle?", "The spindle was replaced in 1990.", True),
    ("What is the Amber spindle?", "The Amber spindle turns twice a second.", True),
    ("What is the Amber spindle?", "The spindle turns twice a second.", False),
    ("What does the Spindle do?", "- Spindle: Holds the thread.", True),      # a definition list's item
])
def test_what_is_x_wants_a_sentence_with_x_as_its_subject(question, sentence, is_defined):
    assert defined(question)
    assert defines(sentence, question) is is_defined


@pytest.mark.parametrize("question", ["What is this?", "What is the oldest mill in the town built from?",
                                      "Who is Quillpad?", "What did the council decide about the mill?",
                                      "What does the mill law require?", "What did the mill say?",
                                      "What does MILL stand for?"])
def test_only_what_a_short_name_is_or_does_asks_for_a_definition(question):
    assert not defined(question)
    assert not defines("The mill is old.", question)


def test_a_sentence_restates_a_question_when_it_adds_at_most_two_words():
    q = "Why should the strict mode not be switched on for every page?"
    assert restates("The strict mode should, emphatically, not be switched on for every page.", q)
    assert not restates("The strict mode should not be switched on because its checks flag good notes.", q)


def test_how_soon_wants_a_span_from_now_or_a_word_that_says_it_is_short():
    q = "How soon will the council answer a complaint?"
    assert wanted(q) is wanted("How quickly could the fees go?")
    assert says(wanted(q), "Complaints are normally answered within 5 days.", q)
    assert says(wanted(q), "The mayor said the fees could go shortly.", q)
    assert not says(wanted(q), "Complaints are sent to the council by post.", q)
    assert not says(wanted(q), "Complaints rose in 2019.", q)


def test_how_to_do_something_wants_a_command():
    q = "How do I install Quillpad?"
    assert wanted(q) is wanted("How can users install Quillpad?") is wanted("How to install Quillpad?")
    assert says(wanted(q), "Once the toolchain is ready, run:\n`quill component add pad`", q)
    assert not says(wanted(q), "This will help us install Quillpad and its plugins.", q)
    assert wanted("How did the mill close?") is not wanted(q)


def test_what_something_requires_wants_an_obligation():
    q = "What does the harbour treaty require?"
    must = wanted(q)
    assert must is not None and must is not wanted("Why did the mill close?")
    assert says(must, "Ships must pay a fee unless they fly the town's flag.", q)
    assert says(must, "Tankers are barred from the inner basin.", q)
    assert not says(must, "The harbour treaty was signed in 1990 by two towns.", q)
    assert wanted("Which treaty requires a fee from ships?") is None   # asks which, not what it requires
    # "what did X demand ...?" wants the demand, however it is put
    demand = "What did the league demand the club switch to instead of its boats?"
    assert wanted(demand) is must
    assert says(must, "The league insisted that the club use river-built boats.", demand)
    # someone's insistence is named, not imposed: no obligation
    assert not says(must, "The town's insistence on new buoys signals long talks ahead.", q)


def test_what_kind_of_thing_wants_the_word_that_says_which():
    q = "What kind of permits were issued to the Amber river mills?"
    assert names_kind("The council issued seasonal permits to the mills.", q)
    assert not names_kind("Permits were issued to the Amber river mills.", q)   # no word before
    assert not names_kind("The mills got their permits.", q)                     # "their" says nothing
    assert not names_kind("Seasonal permits were issued.", "What permits were issued?")   # not asked


def test_who_holds_a_role_needs_every_word_of_the_role():
    q = "Who is Veloria's harbour minister?"
    assert holds_role("Harbour Minister Ada Quill opened the dock.", q)
    assert not holds_role("Finance Minister Ada Quill opened the dock.", q)   # another minister
    assert holds_role("Anything at all.", "Who opened the dock?")             # no role asked
    # every word, but not as the role: a finance minister beside the harbour ministry
    assert not holds_role("Finance Minister Ada Quill visited the Harbour Ministry.", q)
    assert holds_role("Ada Quill, the minister for the harbour, opened the dock.", q)


@pytest.mark.parametrize("question, several", [
    ("What steps did the council take after the flood?", True),
    ("Which towns are named as flood risks?", True),
    ("Despite the quarrel, what shared goals did the two councils name?", True),
    ("What are the possible ways the ferry dispute could end?", True),
    ("Which pair of islands does the ferry link?", False),
    ("What kind of fines were imposed on the port?", False),
    ("What does the harbour treaty require?", False),
    ("Which news outlet reported the flood?", False),
    ("Who is the mayor?", False)])
def test_a_plural_noun_after_what_or_which_asks_for_several_things(question, several):
    from rag.answer_type import asks_list

    assert asks_list(question) is several


@pytest.mark.parametrize("text, several", [
    ("The town sold apples, pears, and plums.", True),
    ("The town sold apples, pears or plums.", True),
    ("The council acted:\n- closing the pier\n- moving the fleet", True),
    ("He said, however, that the pier stays open.", False),
    ("The town sold apples and pears.", False),
    ("The council acted:\n- closing the pier", False)])
def test_a_text_lists_several_things_in_a_series_or_in_bullets(text, several):
    from rag.answer_type import enumerates

    assert enumerates(text) is several


def test_items_a_partial_answer_leaves_out_of_a_whole_list():
    from rag.answer_type import left_out

    whole = ("The storm hit on Monday. The council acted at once: Closing the ferry pier; "
             "Moving the fishing fleet to Port Amber; Opening two shelters in the old school.")
    question = "What steps did the council take after the storm?"
    assert left_out(question, "The council closed the ferry pier and moved the fleet to Port Amber.",
                    whole) == ["Opening two shelters in the old school"]
    assert left_out(question, "It closed the ferry pier, moved the fleet to Port Amber and opened two "
                              "shelters in the school.", whole) == []
    # a different list (no item named): nothing is left out
    assert left_out(question, "The council raised harbour fees.", whole) == []
    # any question: an answer naming two items of the list gives part of it; one may be chance
    how = "How did the council respond to the storm?"
    assert left_out(how, "It closed the ferry pier and moved the fleet to Port Amber.",
                    whole) == ["Opening two shelters in the old school"]
    assert left_out(how, "It closed the ferry pier.", whole) == []
    assert left_out("Why did the council close the ferry pier?", "Because of the storm.", whole) == []
    # the items of the kind asked for are given, the other items are other kinds of thing
    fines = ("After the spill the agency acted: Closing the bay to boats; Fining the shipper "
             "two million; Opening an inquiry.")
    assert left_out("What fines did the agency impose?", "It fined the shipper two million.", fines) == []
    assert left_out("What steps did the agency take?", "It fined the shipper two million.",
                    fines) == ["Closing the bay to boats", "Opening an inquiry"]
    # ... unless the answer names items without the noun too: then the noun tells nothing apart
    tools = ("Quillpad relies on these tools: `inkwell` - Table output; `plume` - Page fetching; "
             "`zest` - Async tool detection; `lark` - Config parsing.")
    assert left_out("What tools does Quillpad use?", "It uses `inkwell` for table output, `plume` for "
                    "fetching pages and `zest` for async tool detection.", tools) == ["`lark` - Config parsing"]
    series = "Storms hit Alder, Birch Cove, the Cedar Islands and Dunmore last winter."
    missing = left_out("Which towns did the storms hit?", "Birch Cove and Dunmore.", series)
    assert [item.split()[-1] for item in missing] == ["Alder", "Islands"]


def test_a_question_about_money_wants_an_amount_of_money_not_any_number():
    q = "What is the dollar value of the 12 ferries the port ordered?"
    assert not supplies("amount", "The port ordered 12 ferries in 2019 for its 3 routes.", q)
    assert supplies("amount", "The 12 ferries cost $48 million.", q)
    assert supplies("amount", "The order was worth 48 million euros.", q)


@pytest.mark.parametrize("sentence, disputes", [
    ("Veloria counters that the radar is run on its own.", True),
    ("The ministry denied that any data was shared.", True),
    ("Norland has long rejected that position, arguing the mill is safe.", True),
    ("It signed the deal, rejecting claims of any risk to the harbour.", True),
    ("The army moved to counter various groups near the border.", False),
    ("The council rejected the budget on Monday.", False),
    ("Critics say the radar puts aircraft at risk.", False),
])
def test_a_sentence_that_disputes_a_claim_is_told_from_one_that_opposes_something_else(sentence, disputes):
    assert rebuts(sentence) is disputes


def test_how_many_wants_a_count_not_an_amount_of_money():
    q = "How many ferries is the port buying from Vell?"
    assert not supplies("number", "The deal is expected to cost the port up to $600 million.", q)
    assert not supplies("number", "The order is worth 48 million euros.", q)
    assert supplies("number", "The port is buying 12 ferries for $48 million.", q)
    assert supplies("number", "The ferries cost $48 million.", "How much do the ferries cost?")


@pytest.mark.parametrize("acronym, sentence, spelled", [
    ("FBI", "He joined the Federal Bureau of Investigation in 1990.", True),     # "of" skipped
    ("CAATSA", "Under the Countering Amber's Adversaries Through Sanctions Act.", True),  # "Through" counted
    ("NHPAs", "The Northern Harbour and Port Authority met.", True),               # a plural acronym
    ("NHPA", "The NHPA met on Monday in the north.", False),                      # only mentioned
    ("NHPA", "The northern harbour and port authority met.", False),              # no capitals
])
def test_an_acronym_is_spelled_out_by_the_initials_of_a_run_of_words(acronym, sentence, spelled):
    from rag.answer_type import spells

    assert spells(acronym, sentence) is spelled


def test_a_question_what_an_acronym_stands_for_wants_it_spelled_out():
    assert expected_kind("What does NHPA stand for?") == "expansion"
    assert expected_kind("So what is the acronym NHPA short for?") == "expansion"
    assert expected_kind("What does the harbour plan stand for?") == ""
    assert not supplies("expansion", "The NHPA raised its fees.", "What does NHPA stand for?")
    assert supplies("expansion", "The Northern Harbour and Port Authority (NHPA) raised its fees.",
                    "What does NHPA stand for?")
