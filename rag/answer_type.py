"""What kind of answer a question asks for, and whether a sentence can supply it.

"How many ...?" needs a number, "When ...?" a time, "Who ...?" a name, "What is the name of
...?" a proper noun. A sentence that is on topic but lacks the kind of thing asked for cannot be
the answer; when no retrieved sentence has it, the corpus most likely does not say (the price
of something it never prices, the name of a jet it never names). Words already in the question
do not count as the answer. Questions of other shapes (what, why, how) accept any sentence; a why-question prefers a
sentence that gives a cause ("because", "after", "due to" ...), and "what does X require?" one
that states an obligation ("must", "unless", "barred" ...).
"""

from __future__ import annotations

import re

from index.terms import words

_KINDS = (
    ("number", re.compile(r"^\s*(?:how (?:many|much|long|far|big|large|old)|what (?:percentage|share|number|amount|sum|price|cost)|"
                          r"at what (?:price|cost))\b", re.I)),
    ("time", re.compile(r"^\s*(?:when|what (?:year|month|date|day|time)|which (?:year|month|date|day)|"
                        r"in (?:what|which) (?:year|month))\b", re.I)),
    ("name", re.compile(r"^\s*(?:who|whom|whose|what(?:'s| is| was) the name|what is .{1,40} called)\b", re.I)),
)
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
_NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve dozen dozens hundred "
                 "hundreds thousand thousands million millions billion billions trillion half "
                 "several").split()
_TIME_WORDS = ("january february march april may june july august september october november december "
               "monday tuesday wednesday thursday friday saturday sunday spring summer autumn fall "
               "winter today yesterday tomorrow soon recently ago decade century week weeks month "
               "months year years").split()


_CAUSE = re.compile(r"\b(?:because|due to|owing to|as a result of|in response to|after|following|"
                    r"citing|amid|so that|in order to|fears?|concerns?|risks?|threat\w*|"
                    r"reasons?|caused?|led to|prompted|triggered)\b", re.I)
_OBLIGATION = re.compile(r"\b(?:must|unless|only if|cannot|can't|may not|has to|have to|needs? to|"
                         r"required|obliged|barred|bars|prohibit\w*|forbid\w*|condition\w*)\b", re.I)
# what a question of this shape wants a sentence to say: a cause, or an obligation
_WANTS = (
    (re.compile(r"^\s*(?:why\b|what (?:led|caused|prompted|triggered)\b|for what reason\b)", re.I), _CAUSE),
    (re.compile(r"\b(?:require[sd]?|demand(?:s|ed)?|insists? on|stipulate[sd]?|mandate[sd]?)\b\W*$", re.I),
     _OBLIGATION),
)


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


def expected_kind(question: str) -> str:
    """"number", "time", "name", or "" when any sentence may answer."""
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return ""


def supplies(kind: str, sentence: str, question: str) -> bool:
    if not kind:
        return True
    asked = set(words(question))
    new_words = [w for w in words(sentence) if w not in asked]
    if kind == "number":
        return any((w.isdigit() and not _YEAR.fullmatch(w)) or w in _NUMBER_WORDS
                   or re.fullmatch(r"\d+(?:st|nd|rd|th)", w) for w in new_words) or "$" in sentence
    if kind == "time":
        return any(_YEAR.fullmatch(w) or w in _TIME_WORDS for w in new_words)
    # a name: a capitalised word that is not the sentence's first word and not in the question
    tokens = re.findall(r"[\w’'-]+", sentence)
    asked_lower = {w.lower() for w in re.findall(r"[\w’'-]+", question)}
    return any(t[0].isupper() and t.lower() not in asked_lower and t.lower().split("’")[0] not in asked_lower
               for t in tokens[1:])
