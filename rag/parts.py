"""A question that asks two things, split into the two questions it asks.

"Which agencies are cited for A and for B?" asks "Which agencies are cited for A?" and "Which
agencies are cited for B?"; "Has X struck a deal, and what would one take?" asks "Has X struck a
deal?" and "What would one take?". A small model given both at once answers one and forgets the
other, and the offline answerer finds the passages of the part with more words, so each part is
asked on its own. Only the question's grammar is read: a part is split
off at ", and"/", or" before a question word, or at "and"/"or" before a preposition the
question already used (the part then takes the words that led to that preposition).
"""

from __future__ import annotations

import re

_ASKING = (r"what|why|how|who|whom|whose|when|where|which|is|are|was|were|do|does|did|has|have|had|"
           r"can|could|will|would|should")
_PREPOSITIONS = r"for|on|about|to|with|in|from|over|against|toward|towards"
# ", and why did ...": a second direct question
_SECOND_QUESTION = re.compile(rf",\s+(?:and|or)\s+(?=(?:{_ASKING})\b)", re.I)
# "... for A and for B", "... both on A and on B", "... about A, or about B": the same preposition
_SECOND_OBJECT = re.compile(rf",?\s+(?:and|or)\s+({_PREPOSITIONS})\s+", re.I)
# "... say about A and what it could mean": an indirect question after the same verb
_SECOND_CLAUSE = re.compile(r",?\s+and\s+(?=(?:what|why|how|where|who|when|whether)\s+(?!(?:"
                            rf"{_ASKING})\b))", re.I)
_MIN_WORDS = 3


def question_parts(question: str) -> list[str]:
    """The questions `question` asks, in order: itself alone when it asks one thing."""
    text = question.strip()
    body = text.rstrip("?").rstrip()
    for split in (_split_question, _split_object, _split_clause):
        parts = split(body)
        if parts and all(len(p.split()) >= _MIN_WORDS for p in parts):
            return [_as_question(p) for p in parts]
    return [text]


def _split_question(body: str) -> list[str] | None:
    m = _SECOND_QUESTION.search(body)
    return [body[:m.start()], body[m.end():]] if m else None


def _split_object(body: str) -> list[str] | None:
    """Split before the second object of a preposition used twice; the second part repeats
    what led to the first ("cited for")."""
    for m in _SECOND_OBJECT.finditer(body):
        word = m.group(1)
        earlier = list(re.finditer(rf"\b{word}\b", body[:m.start()], re.I))
        if not earlier:
            continue
        lead = body[:earlier[-1].start()]
        lead = re.sub(r",?\s+both\s*$", "", lead.rstrip()) + " "
        first = re.sub(r",?\s+both\s+(?=" + word + r"\b)", " ", body[:m.start()], flags=re.I)
        return [first, lead + word + " " + body[m.end():]]
    return None


def _split_clause(body: str) -> list[str] | None:
    """"What did X say about A and what it means for B" -> "... about A", "... about what it
    means for B": the indirect question takes the words before the first one's object."""
    m = _SECOND_CLAUSE.search(body)
    if not m:
        return None
    verb = re.search(r"\b(?:say|said|says|tell|told|think|thinks|thought|explain|explained|"
                     r"write|wrote|argue|argued)\b(?:\s+(?:about|of|on))?\s+", body[:m.start()], re.I)
    if not verb:
        return None
    return [body[:m.start()], body[:verb.end()] + body[m.end():]]


def _as_question(part: str) -> str:
    part = part.strip().rstrip(",;")
    return part[:1].upper() + part[1:] + "?"
