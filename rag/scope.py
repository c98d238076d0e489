"""Questions that say which article they ask about: "according to the Reuters-based story", "in
the harbour-focused analysis", "per the report citing AP", "in the Paris-datelined report",
"why does the budget analysis say ...".

`named_article(question)` finds such a phrase: led by "according to", "in", "per", "from",
"judging by" or "in the words of", or the subject of "say", "argue" and the like. The words
before the noun ("Reuters-based") and a "citing X", "quoting X", "from X" or "of X" after it
describe the article; an "on X" or "about X" after it does too, but stays in the question unless
the phrase is set off by a comma ("what did she say in the interview about the budget?" asks
about the budget). `Described.pick` chooses the one indexed article the words fit clearly better
than any other: the one whose text gives them most (summed BM25 over its chunks, so an article
about the harbour beats one that names it once), or whose dateline names the place. No clear winner,
and the question is not scoped.

It knows nothing of any corpus: only how people refer to an article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from index.dates import DATELINE
from index.terms import terms

_LEAD = r"(?:according to|in the words of|judging by|per|in|from)"
_NOUN = r"(?:report|story|analysis|article|piece|dispatch|column|op-ed|write-up|feature|interview)"
_SAYS = (r"(?:say|says|said|argue|argues|argued|claim|claims|suggest|suggests|describe|describes|call"
         r"|calls|see|sees)")
_SCOPE = re.compile(
    rf"(?:(?P<lead>\b{_LEAD}\s+)|\b)the\s+"
    rf"(?P<pre>(?:(?!(?:the|of|a|an)\b)[\w’'.-]+\s+){{0,4}}?)(?P<noun>{_NOUN})\b"
    rf"(?P<post>\s+(?P<link>on|about|of|citing|quoting|from)\s+[^,;?]+)?(?P<says>\s+{_SAYS}\b)?", re.I)
# words that say how the article relates to what it names, not what it names
_HOLLOW = frozenset(terms("based focused sourced citing quoting centred centered led about what means "
                         "new latest recent first second last other same"))
_DATELINED = re.compile(r"\bdate-?lined?\b", re.I)


@dataclass(frozen=True)
class Described:
    phrase: str                 # what the question loses when it is scoped
    words: tuple[str, ...]      # the terms that describe the article
    dateline: bool              # "the X-datelined report": X is the dateline's place
    subject: bool = False       # "why does the X analysis say ...": the phrase is the subject

    def pick(self, scores: Callable[[Sequence[str]], dict[str, float]],
             datelines: Callable[[], dict[str, str]], margin: float = 2.0) -> str | None:
        """The doc_id of the one article described, or None. `scores(terms)`: doc_id -> how much
        of the terms its text holds; `datelines()`: doc_id -> its dateline's place, lower case."""
        if self.dateline:
            places = [doc for doc, place in datelines().items() if set(terms(place)) & set(self.words)]
            return places[0] if len(places) == 1 else None
        ranked = sorted(scores(self.words).items(), key=lambda item: -item[1])
        if not ranked or ranked[0][1] <= 0:
            return None
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return ranked[0][0] if ranked[0][1] >= margin * runner_up else None


def named_article(question: str) -> Described | None:
    """The phrase of `question` that describes the article it asks about, if any."""
    for m in _SCOPE.finditer(question):
        if not m.group("lead") and not m.group("says"):
            continue      # "what is the story of the dam?" asks for the story
        post = m.group("post") or ""
        before = question[:m.start()].rstrip()
        set_off = not before or before.endswith(",")
        keep_post = (m.group("link") or "").lower() in ("on", "about") and not set_off
        said = f"{m.group('pre')} {'' if keep_post else post}"
        words = tuple(dict.fromkeys(t for t in terms(_DATELINED.sub(" ", said)) if t not in _HOLLOW))
        if words:
            end = m.end("post") if post and not keep_post else m.end("noun")
            return Described(question[m.start():end].strip(), words, bool(_DATELINED.search(said)),
                             subject=not m.group("lead"))
    return None


def dateline_place(text: str) -> str:
    """"Paris" of "Paris, March 5 - ...", lower case; "" when the text opens with no dateline."""
    first = text.lstrip().split("\n", 1)[0]
    return first.split(",", 1)[0].strip().lower() if DATELINE.match(first) else ""


def without(question: str, described: Described) -> str:
    """The question with the phrase naming its article taken out: "If X, what would that mean
    for Y according to the Z story?" -> "If X, what would that mean for Y?"; "Why does the Z
    analysis say ...?" -> "Why does it say ...?"."""
    rest = question.replace(described.phrase, " it " if described.subject else " ", 1)
    rest = re.sub(r"\s+([,;?.!])", r"\1", " ".join(rest.split()))
    rest = re.sub(r"^[,;]\s*|,(?=[?.!]$)", "", rest).strip()
    return rest[:1].upper() + rest[1:] if rest else question
