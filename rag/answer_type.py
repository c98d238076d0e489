"""What kind of answer a question asks for, and whether a sentence can supply it.

"How many ...?" needs a number, "When ...?" a time, "Where ...?" a place, "Who ...?" a name,
"What is the name of ...?" a proper noun, "What does ABC stand for?" the words ABC is made of.
A sentence that is on topic but lacks the kind of thing asked for cannot be the answer; when
no retrieved sentence has it, the corpus most likely does not say (the price of something it
never prices, the name of a jet it never names). Words already in the question do not count as
the answer. Questions of other shapes (what, why, how) accept any sentence; a why-question prefers a sentence that gives a cause ("because", "after",
"due to" ...), "what does X require?" one that states an obligation ("must", "unless",
"barred" ...), "how do I ...?" one with a command (inline code), and "what is X?" one with X as
its subject.
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.terms import STOPWORDS, fold, terms, words

_MONEY_WORDS = (r"\b(?:costs?|costing|pa(?:y|ys|id)|prices?d?|worth|values?d?|spen[dt]|money|dollars?|euros?|"
                r"budget|fees?|charged?)\b")
# a word that may open a question before its question word: "And when ...?", "Roughly how many ...?"
_LEAD = r"^\s*(?:(?:and|but|so|then|roughly|approximately|about|around|exactly|precisely)\s+)?"
# "What does CAATSA stand for?", "What is the acronym NTSB short for?"
_EXPANSION = re.compile(r"\b(?i:what (?:does|do|did|is|was) (?:the )?(?:acronym |abbreviation |initialism )?)"
                        r"([A-Z][A-Za-z]*[A-Z]s?)\b.{0,20}\b(?i:(?:stands?|short) for)\b")
_KINDS = (
    ("expansion", _EXPANSION),
    ("amount", re.compile(rf"^(?=.*{_MONEY_WORDS}){_LEAD}(?:how much|what (?:did|does|do|will|would) .{{1,60}}? cost|"
                          rf"what(?:'s| is| was| were| are)? (?:the )?(?:\w+ )?(?:value|price|cost|worth))\b", re.I)),
    ("number", re.compile(_LEAD + r"(?:how (?:many|much|long|far|big|large|old)|what (?:percentage|share|number|amount|sum|price|cost)|"
                          r"at what (?:price|cost))\b", re.I)),
    ("time", re.compile(_LEAD + r"(?:when|what (?:year|month|date|day|time)|which (?:year|month|date|day)|"
                        r"(?:in|on|by|until|since|from|at) (?:what|which) (?:year|month|date|day|time))\b",
                        re.I)),
    # "where ... stand/heading?" asks for a stance or a direction, not a place
    ("place", re.compile(_LEAD + r"(?:where\b(?!.{0,60}\b(?:stands?|heading|headed|going|leads?|lie|lies)\b)|"
                         r"in (?:what|which) (?:city|town|country|region|province|state|place)\b)", re.I)),
    ("name", re.compile(_LEAD + r"(?:who|whom|whose|which|what(?:'s| is| was) the name|"
                        r"what(?:'s| is| was| are| were) the (?:[\w.’'-]+ ){0,2}?versions?|"
                        r"what is .{1,40} called)\b", re.I)),
)
_PEOPLE = (r"which (?:\w+ ){0,2}(?:leader|official|minister|president|ambassador|spokes\w*|diplomat|envoy|"
           r"person|man|woman|politician|lawmaker|senator|general|chief|head)s?\b")
_ASKS_PERSON = re.compile(rf"^\s*(?:who|whom|whose|{_PEOPLE})\b", re.I)
_ASKS_NAMED = re.compile(rf"^\s*{_PEOPLE}", re.I)   # "which leader ...?": a name ("who?" may be "an expert")
# a person's name: two capitalised words in a row ("Ada Lovelace", "Mayor Lovelace"), or one right
# before or after a verb of saying ("Lovelace said", "said Lovelace"); the name (the last word)
# must be new to the question, and neither word a function word or an acronym
_NAME_WORD = r"[A-Z][a-zà-ÿğışçöü’'-]*[a-zà-ÿğışçöü]"   # ends in a letter: not the "S-" of "S-400"
_SAYING = r"(?:said|says|told|added|noted|stated|argued|wrote|warned|announced)"
_PERSON = re.compile(rf"\b({_NAME_WORD})\s+({_NAME_WORD})\b|\b({_NAME_WORD})\s+{_SAYING}\b|"
                     rf"\b{_SAYING}\s+({_NAME_WORD})\b")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
_NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve dozen dozens hundred "
                 "hundreds thousand thousands million millions billion billions trillion half "
                 "several").split()
_TIME_WORDS = ("january february march april may june july august september october november december "
               "monday tuesday wednesday thursday friday saturday sunday spring summer autumn fall "
               "winter today yesterday tomorrow soon recently ago decade century week weeks month "
               "months year years day days hour hours minute minutes").split()


LIST_ITEM = re.compile(r"^\s*(?:[-•*–]|\d{1,2}[.)])\s+")      # a list item ("- x", "2. x")
_ITEM_MARKS = re.compile(LIST_ITEM.pattern, re.M)

# "when is X expected to / when will X ...?" asks for a plan or a forecast: a sentence that only
# dates what already happened ("deliveries began in July 2019") does not answer it
_FUTURE_ASKED = re.compile(r"^\s*when (?:will|shall|(?:is|are)\b.{0,60}?\b(?:expected|due|scheduled|slated|"
                           r"set|likely|going|planned) to)\b", re.I)
_FUTURE = re.compile(r"\b(?:will|would|shall|could|might|(?:is|are|was|were) (?:expected|due|scheduled|slated|"
                     r"set|likely|going|planned) to|expects?|plans?|planned|upcoming|next|later|soon|"
                     r"not (?:before|until))\b|\w'll\b", re.I)
_CALENDAR = frozenset(_TIME_WORDS[:19] + ["today", "yesterday", "tomorrow"]) - {"may"}  # months, weekdays
_ASKS_DATE = re.compile(r"\b(?:what|which) (?:date|day)\b", re.I)
# a capitalised word of letters not opening the question or one of its sentences, nor a short
# acronym ("TV"): a name the question asks about
_NAMED = re.compile(r"(?<![.?!:]\s)(?<!^)\b(?![A-Z]{1,3}\b)[A-Z][a-zA-Zà-ÿğışçöü]+(?![\w-])")


def unknown_names(question: str, known) -> list[str]:
    """The names in `question` that `known` says no indexed text holds, not even in another form
    ("Atlantis" in "What did Atlantis say?"): the sources cannot be about it."""
    out = []
    for m in _NAMED.finditer(fold(question.strip())):
        if any(not known(t) for t in terms(m.group(0))) and m.group(0) not in out:
            out.append(m.group(0))
    return out


_CAUSE = re.compile(r"\b(?:because|due to|owing to|as a result of|in response to|after|following|"
                    r"citing|amid|so that|in order to|fears?|concerns?|risks?|threat\w*|"
                    r"reasons?|caused?|led to|prompted|triggered|explanations?|explain(?:s|ed)?|"
                    r"attribut\w* to|stem(?:s|med)? from|result(?:s|ed)? from|driven by|thanks to|"
                    # a purpose is a reason too: "a strategy to ...", "in a bid to ..."
                    r"in (?:a|an) (?:bid|effort|attempt) to|so as to|aim(?:s|ed|ing)? (?:to|at)|"
                    r"(?:designed|intended|meant) to|(?:strategy|goal|purpose|aim|objective)s? (?:is |was )?to)\b",
                    re.I)
_OBLIGATION = re.compile(r"\b(?:must|unless|only if|cannot|can't|may not|has to|have to|needs? to|"
                         r"required|obliged|barred|bars|prohibit\w*|forbid\w*|condition\w*|insist(?:s|ed|ing)?|"
                         r"demand(?:s|ed|ing)?)\b", re.I)
# "when is X needed?", "when should I use X?": a condition, not a time
_CONDITION_ASKED = re.compile(r"^\s*when (?:is|are|do|does|should|must|can|would) .{0,60}?\b(?:needed|"
                              r"required|necessary|used|allowed|permitted|recommended|applied|enabled|"
                              r"use|need|apply|enable|run|call)\b", re.I)
_CONDITION = re.compile(r"\b(?:if|unless|whenever|when|in case|provided that|as long as|only on|only for|"
                        r"only with|only in)\b", re.I)
# "how do I install X?", "how can you ...", "how to ...": a procedure, told by a command
_PROCEDURE_ASKED = re.compile(r"^\s*how (?:to|(?:do|can|should|would|could|may) (?:i|you|we|one|users?)\b)",
                              re.I)
_COMMAND = re.compile(r"`[^`]+`")
# "how soon / how quickly will X ...?": a span of time from now, or a word that says it is short
_SOON_ASKED = re.compile(r"^\s*how (?:soon|quickly|fast)\b", re.I)
_SOON = re.compile(r"\b(?:within|in|after)\s+(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|"
                   r"(?:a )?few|several)\s+(?:[a-z]+\s+)?(?:minutes?|hours?|days?|weeks?|months?|years?)\b|"
                   r"\b(?:soon|shortly|immediately|promptly|swiftly|quickly|right away)\b", re.I)
# what a question of this shape wants a sentence to say: a cause, an obligation, a condition, a
# command or how soon
_WANTS = (
    (_PROCEDURE_ASKED, _COMMAND),
    (_SOON_ASKED, _SOON),
    (_CONDITION_ASKED, _CONDITION),
    (re.compile(r"^\s*(?:why\b|what (?:led|caused|prompted|triggered)\b|for what reason\b)", re.I), _CAUSE),
    (re.compile(r"\b(?:require[sd]?|demand(?:s|ed)?|insists? on|stipulate[sd]?|mandate[sd]?)\b\W*$|"
                r"^\s*what (?:does|did|do|will|would) (?:[\w.’'-]+\s+){1,4}?(?:require|demand|insist on)\b", re.I),
     _OBLIGATION),
)


def asks_procedure(question: str) -> bool:
    """"How do I ...?", "How can you ...?", "How to ...?": the answer is a command to run."""
    return bool(_PROCEDURE_ASKED.search(question))


def wanted(question: str) -> re.Pattern | None:
    """The markers a good answer to `question` carries ("because" for why, "must" and "unless"
    for what something requires), or None."""
    return next((markers for shape, markers in _WANTS if shape.search(question)), None)


def says(markers: re.Pattern | None, sentence: str, question: str) -> bool:
    """`sentence` carries one of `markers` that is not already a word of the question."""
    if markers is None:
        return False
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    return any(m.group(0).split()[0].lower() not in asked for m in markers.finditer(sentence))


# a sentence that disputes a claim: "X counters that ...", "rejecting claims of ...", "denied that"
_REBUTS = re.compile(r"\b(?:counter(?:s|ed) that|rebut\w*|den(?:y|ies|ied) (?:that|the|any|claims?|charges?|"
                     r"accusations?|reports?)|disput(?:e|es|ed) (?:that|the|claims?)|dismiss(?:es|ed|ing) (?:the )?"
                     r"(?:claims?|charges?|accusations?|concerns?|suggestions?)|reject(?:s|ed|ing)? (?:the |that |any |"
                     r"such )?(?:claims?|charges?|accusations?|position|view|argument|notion|suggestions?|assessment))\b",
                     re.I)


def rebuts(sentence: str) -> bool:
    """`sentence` disputes a claim ("X counters that ...", "rejecting claims that ..."); "to
    counter the groups" does not."""
    return bool(_REBUTS.search(sentence))


def expected_kind(question: str) -> str:
    """"expansion", "amount", "number", "time", "place", "name", or "" when any sentence may answer."""
    if _CONDITION_ASKED.search(question):
        return ""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return ""


_AMOUNT = re.compile(r"([$€£¥]\s?)?(\d[\d,.]*\d|\d)(m|bn)?\b(?:\s+(thousand|million|billion|trillion)\b)?"
                     r"(\s+(?:dollars|euros|pounds|lira|roubles|rubles|yuan|yen|rupees)\b)?", re.I)


def amounts(text: str) -> set[tuple[str, str, bool]]:
    """(number, scale, money) for each number: "$2.5 billion" -> ("2.5", "billion", True)."""
    out = set()
    for m in _AMOUNT.finditer(text):
        symbol, num, short, scale, word = m.groups()
        if short and not symbol:           # "600m" is a distance; "$600m" an amount
            continue
        scale = (scale or {"m": "million", "bn": "billion"}.get((short or "").lower(), "")).lower()
        out.add((num.replace(",", "").rstrip("."), scale, bool(symbol or word)))
    return out


_YEARS = re.compile(rf"\b(?:{_YEAR.pattern})\b")


def years(text: str) -> set[str]:
    """The years `text` names ("in 2019" -> {"2019"})."""
    return set(_YEARS.findall(text))


# a designator: "F-35", "F 35", "Su-57", "KX-35s"; not "July 2019", "US 2019" or "NATO"
_DESIGNATOR = re.compile(r"\b([A-Z]{1,3}[a-z]?)[- ](?!(?:1[89]|20)\d\d\b)(\d{1,4})(?!\d)[\w-]*")


def without_designators(text: str) -> str:
    """`text` with its designators blanked: the digits of "F-35" or "S-400" are no figure."""
    return _DESIGNATOR.sub(" ", text)


def designators(text: str) -> set[str]:
    """The designators `text` names, folded: "F-35", "F 35" and "F-35s" are all "F35"."""
    return {a + b for a, b in _DESIGNATOR.findall(text)}


_COUNT = re.compile(_LEAD + r"how many\b", re.I)
_HOW_LONG = re.compile(_LEAD + r"how long\b", re.I)
_SPANS = {"decade", "decades", "century", "centuries", "year", "years", "month", "months", "week",
          "weeks", "day", "days", "hour", "hours", "minute", "minutes"}


# a place: a capitalised name right after a word of location ("stationed near Vale", "in the Amber");
# not an acronym or a designator ("into NATO networks", "from the F-35 programme")
_PLACE = re.compile(r"\b(?i:in|at|near|outside|inside|into|across|off|along|around|(from))\s+(?:the\s+)?"
                    r"([A-Z][a-zà-ÿğışçöü’'-]+)(?![\w-])")


def places(text: str, question: str = "") -> set[str]:
    """The names `text` gives as places, other than the question's words; "from Vale" is where
    something comes from, a place only when the question asks "from where"."""
    origin = not question or "from" in _asked(question)
    return {m.group(2) for m in _PLACE.finditer(text)
            if (origin or not m.group(1)) and m.group(2).lower() not in _CALENDAR | {"may"}
            and (not question or _new(m.group(2), question))}


def supplies(kind: str, sentence: str, question: str) -> bool:
    if not kind:
        return True
    sentence = _ITEM_MARKS.sub("", sentence)      # "- The ...", "2. ...": a list's marks are no words
    if kind == "expansion":
        return spells(_EXPANSION.search(question).group(1), sentence)
    asked = set(words(question))
    new_words = [w for w in words(sentence) if w not in asked]
    if kind == "amount":                 # money: a currency sign, or a number in a currency
        return any(money for _, _, money in amounts(sentence))
    if kind == "number":
        if _COUNT.search(question):      # "how many jets?": a count, not "$600 million"
            sentence = _AMOUNT.sub(lambda m: " " if m.group(1) or m.group(5) else m.group(0), sentence)
        # a designator's digits are no quantity ("F-35", "S-400"), nor is "one of" the others
        sentence = re.sub(r"\bone of\b", " ", without_designators(sentence), flags=re.I)
        new_words = [w for w in words(sentence) if w not in asked]
        if _HOW_LONG.search(question) and any(w in _SPANS for w in new_words):
            return True                  # "how long?": "for nearly a decade", "three weeks"
        return any((w.isdigit() and not _YEAR.fullmatch(w)) or w in _NUMBER_WORDS
                   or re.fullmatch(r"\d+(?:st|nd|rd|th)", w) for w in new_words) or "$" in sentence
    if kind == "time" and _FUTURE_ASKED.search(question) and not (_FUTURE.search(sentence)
                                                                    or _SOON.search(sentence)):
        return False                     # ("are answered within 5 days" is a rule: it still holds)
    if kind == "time" and _ASKS_DATE.search(question):   # a date, not "soon" or "a decade ago"
        return any(_YEAR.fullmatch(w) or w in _CALENDAR or re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)?", w)
                   for w in new_words)
    if kind == "time":
        return any(_YEAR.fullmatch(w) or w in _TIME_WORDS for w in new_words)
    if kind == "place":
        return bool(where(sentence, question))
    # a name: a capitalised word that is not the sentence's first word and not in the question;
    # for "which X ...?", also X named beside a word the question lacks ("the enzymes catalase
    # and ...", "endothelial cells"), and for "which release ...?" a number ("Python 3.9"); or
    # inline code the question lacks. A version is only a number.
    tokens = re.findall(r"[\w’'-]+", sentence)
    number = any(_new(t, question) for t in re.findall(r"\b\d+(?:\.\d+)*\b", sentence))
    if _VERSION_ASKED.search(question):  # "which Rust version ...?", "what is the latest version?"
        return number
    numbered = (m := _WHICH.search(question)) is not None and m.group(1).lower() in _NUMBERED
    return (any(t[0].isupper() and _new(t, question) for t in tokens[1:]) or _instance_of(sentence, question)
            or (numbered and number)
            or any(any(_new(w, question) for w in re.findall(r"[\w’'-]+", code))
                   for code in re.findall(r"`([^`]+)`", sentence)))     # `pyenv versions`: code names


# "in `src/core.py`", "at https://example.org/docs": a file or an address
_LOCATION = re.compile(r"\b(?:in|at|on|under|inside|within)\s+(?:the\s+)?(`[^`]+`|https?://[^\s)]+)", re.I)
# "where should I post ...?", "where can you find ...?", "where should bugs be reported?":
# somewhere to go or send, named or not
_WHERE_TO = re.compile(r"^\s*where (?:should|can|could|must|may|(?:do|would) (?:i|you|we|one|users?)\b)", re.I)
_SOMEWHERE = re.compile(r"\b(?:in|on|at|to|into|under|via|through)\s+"
                        r"(?:the\s+|a\s+|an\s+|your\s+|our\s+|its\s+|their\s+)?([\w’'-]+)", re.I)
# "which release ...?" asks for a number ("Python 3.9"), as much as for a name; a version only
# for a number
_NUMBERED = {"release", "releases", "edition", "editions", "revision", "revisions"}
_VERSION_ASKED = re.compile(r"^\s*(?:which|what(?:'s| is| was| are| were)? the)\s+(?:[\w.’'-]+\s+){0,2}?versions?\b",
                            re.I)
# "where are X found?": "present in soy", "found in the liver", "stored at low temperature"
_FOUND_IN = re.compile(r"\b(?:found|present|located|situated|based|stationed|kept|stored|housed|"
                       r"lives?|grows?|occurs?|occurring|abundant|common)\s+(?:in|at|on|inside|within|near)\s+"
                       r"(?:the\s+|a\s+|an\s+)?([\w’'-]+)", re.I)


def where(text: str, question: str) -> set[str]:
    """What `text` gives as the where of `question`, other than the question's words: a named
    place, what a thing is found in ("present in soy"), a file or an address ("documented in
    `src/core.py`"), and for "where should I ...?" anywhere ("in the issue tracker")."""
    found = set(_FOUND_IN.findall(text)) | set(_LOCATION.findall(text))
    if _WHERE_TO.search(question):
        found |= {w for w in _SOMEWHERE.findall(text) if w.lower() not in _FUNCTION}
    return places(text, question) | {w for w in found if _new(w, question) and w.lower() not in STOPWORDS}


# words that never name or qualify a thing (the stop words among them)
_FUNCTION = frozenset("""about above across after against along among around before behind below beneath
beside between beyond during except from inside near off onto out outside over past since through
throughout till toward towards under until up upon within without been being have has had can shall
should may might must nor so yet those its his her our your my we he she you often now here whose
all each every both some any few more most other another than like one two three too again still
only even just already instead alike together""".split()) | STOPWORDS
_FUNCTION_TERMS = frozenset(terms(" ".join(_FUNCTION)))
# "which [adjective] X do/did/is ...?": the class X whose member the question asks for
_WHICH = re.compile(r"^\s*(?:in |of |from |for |to |with |by |on |at )?which\s+(?:[\w.’'-]+\s+){0,2}?"
                    r"([a-z][\w-]*)(?=\s+(?:were|was|is|are|did|does|do|has|have|had|will|would|can|could)\b)",
                    re.I)


def restates(sentence: str, question: str, most: int = 2) -> bool:
    """`sentence` says at most `most` words (not function words) that `question` lacks: it
    restates what is asked ("X should, emphatically, not be enabled." for "why should X not be
    enabled?") rather than answering it."""
    return len(set(terms(sentence)) - set(terms(question)) - _FUNCTION_TERMS) <= most


def _instance_of(sentence: str, question: str) -> bool:
    """For "which X ...?": `sentence` says X (or its singular) right after a word that says which
    ("pancreatic enzymes"; not a possessive) or right before one that names it ("enzymes trypsin
    and", "enzyme, lipase", "enzymes such as lipase"); a function word or a verb in -ed or -ing
    does neither ("newspapers across the county", "enzymes made")."""
    m = _WHICH.search(question)
    if m is None:
        return False
    head = m.group(1).lower()
    heads = "|".join(re.escape(h) for h in {head, head[:-1] if head.endswith("s") else head + "s"})
    near = (re.findall(rf"\b([\w-]+)\s+(?:{heads})\b", sentence, re.I)
            + re.findall(rf"\b(?:{heads})[,:]?\s+(?:(?:such as|including|namely|like|called|named)\s+)?"
                         rf"([\w’'-]+)", sentence, re.I))
    return any(_new(w, question) and w.lower() not in _FUNCTION and not w.endswith(("ed", "ing"))
               for w in near)


_JOINERS = {"of", "and", "the", "for", "to", "on", "in", "at", "by", "through", "&"}


def spells(acronym: str, sentence: str) -> bool:
    """`sentence` has a run of words whose initials spell `acronym`, a joining word ("of",
    "through") counted or skipped: "Countering America's Adversaries Through Sanctions Act" for
    CAATSA, "Federal Bureau of Investigation" for FBI."""
    letters = [c.lower() for c in acronym.rstrip("s") if c.isalpha()]
    tokens = re.findall(r"[\w’'-]+|&", sentence)

    @lru_cache(maxsize=None)
    def match(i: int, j: int) -> bool:       # letters[j:] from tokens[i:]
        if j == len(letters):
            return True
        if i == len(tokens):
            return False
        word = tokens[i]
        return ((word[0].lower() == letters[j] and (word[0].isupper() or word.lower() in _JOINERS)
                 and match(i + 1, j + 1))
                or (word.lower() in _JOINERS and j > 0 and match(i + 1, j)))
    return any(tokens[i][0].isupper() and match(i, 0) for i in range(len(tokens))
               if tokens[i] != acronym)


_KIND_OF = re.compile(r"\bwhat (?:kinds?|types?|sorts?) of (?:[\w.’'-]+\s+){0,2}?([a-z][\w-]*)\b"
                      r"(?=\s+(?:were|was|is|are|did|does|do|has|have|had|will|would|can|could)\b)", re.I)


def names_kind(sentence: str, question: str) -> bool:
    """For "what kind of X ...?": `sentence` says X with a word before it that the question does
    not have ("CAATSA sanctions" for "What kind of U.S. sanctions were imposed?")."""
    m = _KIND_OF.search(question)
    if m is None:
        return False
    head = re.escape(m.group(1).lower())
    return any(_new(w, question) and w.lower() not in STOPWORDS
               for w in re.findall(rf"\b([\w’'-]+)\s+{head}\b", sentence, re.I))


# "What is X?", "What are Xs?", "What does X do?", "What is X used for?", "What does X mean?": X
# is a short name (up to four words or an identifier), asked about as a whole
_NAME = r"((?:[\w`.:/’'-]+\s+){0,3}?[\w`.:/’'-]+?)"
_DEFINITION = re.compile(rf"^\s*what(?:'s| is| are| was| were)\s+(?:the |a |an )?{_NAME}(?:\s+used for)?"
                         rf"\s*\?*\s*$|"
                         rf"^\s*what (?:does|do|did)\s+(?:the |a |an )?{_NAME}\s+(?:do|mean)\s*\?*\s*$",
                         re.I)
_ARTICLE = re.compile(r"^[\s\-*•>\"“‘'`]*(?:(?:the|a|an)\s+)?", re.I)


def defined(question: str) -> str:
    """X, for "What is X?" or "What does X do?" (X a short name, not a word such as "this"); ""
    for any other question."""
    m = _DEFINITION.search(question)
    name = (m.group(1) or m.group(2)).strip("`") if m else ""
    return "" if name.lower() in STOPWORDS else name


def defines(sentence: str, question: str) -> bool:
    """For "What is X?" or "What does X do?": `sentence` has X as its subject, followed by what
    it is or does ("Cargo downloads ...", "The `Generator` takes a model ...", "A payload is
    ..."); "To start using Cargo, ..." and "The Cargo Book ..." do not."""
    name = re.escape(defined(question)).replace(r"\ ", r"\s+")
    if not name:
        return False
    head = sentence[_ARTICLE.match(sentence).end():]
    m = re.match(rf"(?i:`?{name}`?(?:s|es)?(?:\s*,[^,]{{1,80}},)?)(?:\s+[a-z`]|\s*(?::|\s[—–-])\s+\S)",
                 head)
    return m is not None     # a lower-case word next (a verb, not "Cargo Book"), or a definition
    # after a colon or a dash ("Generator: Takes a model ...")


_ROLE = re.compile(r"^\s*who(?:'s| is| was| are| were)\s+(?:the\s+|[\w.’'-]+['’]s\s+)?((?:[\w.-]+\s+){0,2}?"
                   r"(?:minister|president|ambassador|secretary|chief|head|leader|spokes\w*|director|"
                   r"governor|mayor|ceo|chair\w*|commander|envoy)s?)\b", re.I)


def holds_role(sentence: str, question: str) -> bool:
    """For "Who is (X's) <role>?": `sentence` has every word of the role, and its last two side
    by side ("defence minister" needs "defence" too: a foreign minister beside a defence
    ministry is not the answer; "minister of defence" is). True for other questions."""
    m = _ROLE.search(question)
    if m is None:
        return True
    role, have = terms(m.group(1)), terms(sentence)
    if not set(role) <= set(have):
        return False
    pairs = set(zip(have, have[1:]))
    return len(role) < 2 or (role[-2], role[-1]) in pairs or (role[-1], role[-2]) in pairs


def asks_person(question: str) -> bool:
    """Who-questions and "which official/minister/... ?": the answer is a person."""
    return bool(_ASKS_PERSON.search(question))


def asks_named_person(question: str) -> bool:
    """"Which official/minister/... ?": the answer names a person ("who?" may be answered "a
    foreign policy expert")."""
    return bool(_ASKS_NAMED.search(question))


# the last word of a place or an institution, and the first word of a region: not a person
_NOT_PERSON_LAST = {"Ministry", "Department", "Office", "House", "Agency", "Council", "Committee",
                    "Union", "Nations", "States", "Kingdom", "Republic", "Emirates", "Sea", "Ocean",
                    "Gulf", "River", "Bank", "Party", "Army", "Navy", "Force", "Forces", "Court",
                    "Parliament", "Congress", "Assembly", "Government", "Administration", "Times",
                    "Post", "News", "Press", "Group", "Company", "Corporation", "Institute",
                    "University", "Street", "City", "Island", "Islands", "Mountains", "Strait"}
_REGION_FIRST = {"North", "South", "East", "West", "Northern", "Southern", "Eastern", "Western",
                 "Central", "Middle", "Upper", "Lower", "New"}


def not_a_person(words_: list[str]) -> bool:
    """A run of capitalised words that names a place or an institution ("United States",
    "Defense Ministry", "Eastern Sea"), by its last or first word."""
    return words_[-1] in _NOT_PERSON_LAST or words_[0] in _REGION_FIRST


def names_person(sentence: str, question: str) -> bool:
    """`sentence` names a person the question does not: a title or first name and a name, or a
    name beside a verb of saying (see _PERSON); not an acronym, a function word or a gerund."""
    for m in _PERSON.finditer(sentence):
        found = [g for g in m.groups() if g]
        if (len(found) == 2 and not _new(found[0], question)
                and not re.match(r"\s+" + _NAME_WORD, sentence[m.end():])):
            continue   # "Ambassador to Norland Ana in": a word asked about, then a first name alone
        if (_new(found[-1], question) and not any(g.lower() in STOPWORDS for g in found)
                and not (len(found) == 2 and not_a_person(found))
                and not (len(found) == 2 and found[0].endswith("ing"))):   # "Removing Turkey"
            return True
    return False


def _new(token: str, question: str) -> bool:
    """`token` is not a word of the question (nor its possessive)."""
    asked = _asked(question)
    return token.lower() not in asked and token.lower().split("’")[0] not in asked


@lru_cache(maxsize=64)
def _asked(question: str) -> frozenset[str]:
    """The question's words, lower case, possessives cut (once per question: every sentence
    word of every candidate is checked against them)."""
    return frozenset(re.sub(r"['’]s$", "", w.lower()) for w in re.findall(r"[\w’'-]+", question))


# "What steps did ...", "Which regions are ...", "Despite X, what goals ...", "What are the possible
# ways ...": several things asked for by a plural noun soon after what/which (not "what kind of",
# not "which pair of" or "which two": those ask for two, not a list; not "news")
_ASKS_LIST = re.compile(r"^\s*(?:[^,?]{1,60},\s+)?(?:what|which)\s+"
                        r"(?!kinds?\b|types?\b|sorts?\b|pairs?\b|two\b|both\b)(?:[\w.’'-]+\s+){0,3}?"
                        r"(?!(?:does|is|was|has|this|its|us|his|news)\b)[a-z-]+[^s\W]s\b", re.I)
_SERIES = re.compile(r"(?:[^,;:.!?—–()]{1,40}, ){2,}[^,;:.!?—–()]{1,40}?,? (?:and|or) [^,;:.!?—–()]{1,40}")


# three or more items: "A, B and C", "A, B, and C", "A, B, or C"
_ITEMS = re.compile(r"(?:[^,;:.!?—–()]{1,50}, ){2,}(?:and|or) [^,;:.!?—–()]{1,50}|"
                    r"(?:[^,;:.!?—–()]{1,50}, )+[^,;:.!?—–()]{1,50}? (?:and|or) [^,;:.!?—–()]{1,50}")


def asks_list(question: str) -> bool:
    return bool(_ASKS_LIST.search(question))


def enumerates(text: str) -> bool:
    """`text` lists three or more things: a series ("A, B, and C") or two or more list items."""
    bullets = sum(1 for line in text.split("\n")[1:] if LIST_ITEM.match(line))
    return bullets >= 2 or bool(_ITEMS.search(text))


def list_items(text: str) -> list[list[str]]:
    """The lists `text` gives, each as its items: what follows a ':' split at ';' (a bulleted list
    as the offline answer writes it), and series such as "A, B, C and D"."""
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        _, colon, tail = sentence.partition(":")
        if colon and tail.count(";") >= 1:
            out.append([item.strip(" .") for item in tail.split(";") if item.strip(" .")])
        for m in _SERIES.finditer(sentence):
            parts = re.split(r",\s+(?:and\s+|or\s+)?|\s+(?:and|or)\s+", m.group(0))
            out.append([p.strip() for p in parts if p.strip()])
    return [items for items in out if len(items) >= 3]


def left_out(question: str, answer: str, other: str) -> list[str]:
    """The items of a list in `other` (an answer that gives a whole list) that `answer` leaves
    out, when `answer` names some of that list's items (so it is the same list): one for a
    question that asks for several things, two for any other (one shared item can be chance).
    Words of the question, and words that several items share, do not tell items apart. When
    some items carry the noun the question asks for ("what sanctions ...?") and others do not,
    only those count: the rest are another kind of thing. Both texts come without citation
    markers."""
    asked_for = _ASKS_LIST.search(question)
    enough = 1 if asked_for else 2
    noun = set(terms(asked_for.group(0).split()[-1])) if asked_for else set()
    asked, said = set(terms(question)), set(terms(answer))
    for items in list_items(other):
        held = [set(terms(item)) for item in items]
        own = [h - asked for h in held]
        marks = [m - set().union(*(o for o in own if o is not m)) for m in own]   # its own words
        named = [bool(m & said) for m in marks]
        if sum(named) >= enough and any(m and not n for m, n in zip(marks, named)):
            kinds = [bool(noun & h) for h in held]
            # "what sanctions?" of "A; imposing sanctions; C": only the items with the noun count,
            # unless the answer names items without it too (then the noun tells nothing apart:
            # "what libraries?" of "A - transport; B - async library detection; C")
            picked = any(kinds) and not all(kinds) and not any(n and not k for n, k in zip(named, kinds))
            return [item for item, m, kind in zip(items, marks, kinds)
                    if m and not m & said and (kind or not picked)]
    return []
