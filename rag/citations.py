"""Citation checking for generated answers: parse [n] markers, bounds-check them, test support.

Markers come in the forms models write: `[1]`, `[2,3]`, `[2][3]`, `[1-3]`, `[Source 2]`, and the
full-width `【2】`. A number outside 1..len(sources) (`[0]`, `[99]`) is dropped, never mapped to a
nearby source. Each cited sentence is then checked against each passage it cites, locally and
without a second LLM call: the best cosine between the sentence and the passage's sentences
(the stored MiniLM vectors), the share of the sentence's content terms found in the passage, and
whether every number it states appears in what it cites (a year, in the sentence closest to
it or one nearly as close, when the closest gives a year, and beside the designator the claim
ties it to: "F-35"), and, for a claim that says "not", whether
the sentence closest to it denies too. A claim that one passage sentence holds whole (every term
it adds to the question; a clause of a long sentence, whose cosine to the whole is low) needs only
a low cosine. A citation that fails is dropped; a
sentence left with no citation is removed. An uncited sentence is kept only when it says nothing
beyond the question, when the citations of its paragraph's next (or previous) cited sentence
support it, when a passage holds it word for word (a command the model copied), or when one
passage supports it closely or two do together (each close to it, each holding terms of it the
other lacks): it is then cited to them. The survivors become Citation
records whose snippet quotes the passage sentence that best supports the claim, widened to the
sentences next to it that hold more of the claims' terms (a list's items, a quote's second
half), so `article.text[start:end] == snippet` always holds.

It does not decide abstention or fallbacks (generative.py does) and never calls an LLM.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

import numpy as np

from index.records import Span
from index.sentences import split_sentences
from index.terms import terms, words
from rag.answer_type import LIST_ITEM, amounts, designators, without_designators, years
from rag.records import Citation, Hit

_NUMS = r"\d{1,4}(?:\s*(?:[,;，、]|[-–])\s*\d{1,4})*"
MARKER = re.compile(rf"(?:\[\s*(?:(?:sources?|src|ref)\.?\s*)?({_NUMS})\s*\]|【\s*({_NUMS})\s*】)", re.I)
_MARKERS_AT_START = re.compile(rf"(?:\s*{MARKER.pattern})+", re.I)   # used with .match(text, pos)
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_ACCORDING = re.compile(r"According to ([^,.;:]{2,60}),\s*(\w)")
# "[n]", "[source]", "[citation]": a marker written literally, with no number in it
_LITERAL = re.compile(r"\s?\[\s*(?:n|x|#|\.\.\.|…|(?:source|citation|ref|passage)s?(?:\s*(?:n|x|#))?)\s*\]", re.I)
# a capitalised word inside a sentence (names of people, places, bodies): must be in the source
_CAP = r"(?:[A-Z][\w’'-]*[a-z][\w’'-]*|[A-Z]{2,}[a-z]?)"
_NAME = re.compile(rf"(?<=[\s(“\"'])({_CAP}(?:\s+{_CAP})*)\b")    # runs: "United States", "Tom Barrack"
_GENERIC = frozenset(terms("source sources article articles passage report reports according answer"))
# "<someone> said ...": who said it must be named where it is said
_SPEECH = re.compile(r"\b(?:said|says|told|tells|stated|added|argued|warned|stressed|insisted|claimed|"
                     r"noted|announced|explained|according to)\b|[“”‘’\"]")
# the speaker a sentence names for its words: "Ada Vale said", "said Ada Vale", "Washington claimed"
_SPEAKER = re.compile(rf"\b{_CAP}(?:\s+{_CAP})*\s+(?:said|says|told|stated|argued|warned|stressed|insisted|"
                      rf"claimed|announced)\b|\b(?:said|says|told)\s+{_CAP}")
_NEGATED = re.compile(r"\b(?:not|no|never|cannot|neither|nor|without)\b|n[’']t\b", re.I)
# what a source may say a claim's "not" with: a negation, or a verb or prefix that denies
_DENIES = re.compile(_NEGATED.pattern + r"|\b(?:refus\w*|reject\w*|rul(?:e|es|ed|ing) out|den(?:y|ies|ied)|"
                     r"non-\w+|unable|fail\w*|lack\w*|absen\w*|barred|prohibit\w*|halt\w*|stop\w*)", re.I)
_SAID = re.compile(r"^\W*(?P<who>[^,;:]{2,80}?)\s+(?:said|says|told|tells|stated|states|added|argued|"
                   r"warned|stressed|insisted|claimed|noted|expressed|announced|explained|believes)\b")


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Marker:
    start: int
    end: int
    numbers: tuple[int, ...]


@dataclass(frozen=True)
class Passage:
    """A numbered source as the verifier sees it: the text the model was shown, its sentences
    (in article order), and, when known, the cleaned article text around them as (offset, text),
    so a citation can quote every sentence a claim draws on."""
    n: int
    hit: Hit
    text: str
    sentences: tuple[tuple[Span, np.ndarray], ...]
    article: tuple[int, str] = (0, "")


@dataclass(frozen=True)
class Problem:
    sentence: str
    n: int                        # the cited number (0 for an uncited sentence)
    reason: str                   # "out of range", "unsupported", "number not in source", "uncited", ...


@dataclass(frozen=True)
class Thresholds:
    support: float = 0.45         # mean of best cosine and weighted term coverage must reach this
    min_cosine: float = 0.4       # and the best passage sentence must be at least this close
    recite: float = 0.65          # a claim cited wrongly or not at all is cited to a passage this close
    on_topic: float = 0.3         # where the question looks unanswerable, the answer must be this close to it
    cut: float = 0.5              # an answer the verifier cut a sentence from must be this close to it
    clause: float = 0.3           # a claim one passage sentence holds whole needs only this cosine


@dataclass(frozen=True)
class Verified:
    text: str                     # the answer with bad markers and unsupported sentences removed
    citations: tuple[Citation, ...]
    problems: tuple[Problem, ...]
    claims: int                   # sentences that state something beyond the question
    removed: int                  # sentences removed


def parse_markers(text: str) -> list[Marker]:
    out = []
    for m in MARKER.finditer(text):
        out.append(Marker(m.start(), m.end(), _numbers(m.group(1) or m.group(2))))
    return out


def strip_markers(text: str) -> str:
    return _tidy(MARKER.sub("", _LITERAL.sub("", text)))


def verify(text: str, question: str, passages: Sequence[Passage], embedder: Embedder,
           thresholds: Thresholds = Thresholds(), weight: Callable[[str], float] | None = None,
           strict: bool = False) -> Verified:
    """Check every citation of `text`; `weight(term)` (e.g. IDF) weights term coverage, so terms
    every article shares count less than the specific ones. A claim needs in its source only
    what it adds to the question, unless `strict`, when all its terms count."""
    by_n = {p.n: p for p in passages}
    problems: list[Problem] = []
    text = _drop_attributions(_markers_after(_LITERAL.sub("", text)), question, by_n, problems)
    units = _units(text)
    asked = set(terms(question))
    claims = [strip_markers(text[s:e]) for s, e, _ in units]
    vectors = embedder.embed(claims) if claims else np.zeros((0, 1), dtype=np.float32)
    kept_numbers: list[list[int]] = []      # per unit, per marker order: surviving numbers
    support: dict[int, tuple[float, Span | None]] = {}   # n -> best (score, sentence)
    quoted: dict[int, tuple[int, int]] = {}              # n -> the sentences its claims draw on
    given = frozenset() if strict else frozenset(terms(_fold(question)))
    weigh = weight or (lambda term: 1.0)

    @cache      # (claim, passage) -> support: asked again while re-citing
    def check(i: int, n: int) -> tuple[bool, float, Span | None]:
        return _supports(claims[i], vectors[i], by_n[n], thresholds, weigh, given)

    def misread(i: int, n: int) -> str:
        """Why passage n, though close to claim i, does not bear it out ("" when it does)."""
        span = check(i, n)[2]
        if _other_year(claims[i], vectors[i], by_n[n]) or _year_of_another(claims[i], by_n[n]):
            return "year not in source"
        if _other_number(claims[i], vectors[i], by_n[n], question):
            return "number not in source"
        if _NEGATED.search(claims[i]) and span is not None and not _DENIES.search(span.text):
            return "negation not in source"
        return "speaker not in source" if _misattributed(claims[i], span, by_n[n], question) else ""

    def fault(i: int, n: int) -> str:
        return "unsupported" if not check(i, n)[0] else misread(i, n)

    def credit(i: int, n: int, score: float, span: Span | None) -> None:
        if score > support.get(n, (-1.0, None))[0]:
            support[n] = (score, span)
        if span is not None:
            lo, hi = _drawn_on(claims[i], span, by_n[n], given, weigh)
            old = quoted.get(n, (lo, hi))
            quoted[n] = (min(lo, old[0]), max(hi, old[1]))

    for i, (s, e, markers) in enumerate(units):
        cited = [n for m in markers for n in m.numbers]
        valid = []
        for n in dict.fromkeys(cited):
            if n not in by_n:
                problems.append(Problem(claims[i], n, "out of range"))
            else:
                valid.append(n)
        missing = _unstated(claims[i], question, [by_n[n] for n in valid]) if valid else ""
        good = []
        for n in valid:
            reason = missing or fault(i, n)
            if reason:
                problems.append(Problem(claims[i], n, reason))
            else:
                good.append(n)
                credit(i, n, *check(i, n)[1:])
        kept_numbers.append(good)

    states = [_state(i, units, claims, kept_numbers, asked) for i in range(len(units))]
    n_claims = sum(1 for i in range(len(units)) if _is_claim(claims[i], asked))
    removed: set[int] = set()
    added: dict[int, list[int]] = {}   # a claim whose own citations failed -> the passages that support it

    def holds(i: int, n: int) -> bool:
        return not fault(i, n) and not _unstated(claims[i], question, [by_n[n]])

    def recite(i: int) -> list[int]:
        if len(words(claims[i])) < 4:
            return []
        ranked = sorted(by_n, key=lambda n: -check(i, n)[1])
        single = [n for n in ranked if holds(i, n)][:1]
        if single and check(i, single[0])[1] >= thresholds.recite:
            return single
        pair = ranked[:2]
        if (len(pair) == 2 and not _unstated(claims[i], question, [by_n[n] for n in pair])
                and not any(misread(i, n) for n in pair)
                and _joint_score(claims[i], vectors[i], [by_n[n] for n in pair], thresholds, weigh,
                                 given) >= thresholds.recite):
            return pair
        return []

    for i, state in enumerate(states):
        if state not in ("uncited", "dropped"):
            continue
        # an uncited claim that its paragraph's citations bear out gets them written after it (and
        # they quote what it draws on), so every claim shown is cited where it is made; else, as a
        # small model often cites the wrong passage or none, the one that supports it, or the two
        # that together do (a claim that joins what two passages say)
        near = ([n for n in _paragraph_citations(i, units, kept_numbers, text) if holds(i, n)]
                if state == "uncited" else [])
        found = near or [n for n in by_n if _held_verbatim(claims[i], by_n[n])][:1] or recite(i)
        if found:
            added[i] = kept_numbers[i] = found
            for n in found:
                credit(i, n, *check(i, n)[1:])
        else:
            if state == "uncited":
                problems.append(Problem(claims[i], 0, "uncited"))
            removed.add(i)
    out_text = _rebuild(text, units, kept_numbers, removed, added)
    used = sorted({n for i, ns in enumerate(kept_numbers) if i not in removed for n in ns})
    citations = tuple(_citation(by_n[n], *support[n], quoted.get(n)) for n in used)
    return Verified(text=out_text, citations=citations, problems=tuple(problems),
                    claims=n_claims, removed=len(removed))


def describe(problems: Sequence[Problem]) -> str:
    """A short summary for a notice, e.g. 'dropped citation [9] (out of range); removed 1 uncited sentence'."""
    parts = []
    for reason in ("out of range", "unsupported", "number not in source", "year not in source",
                   "name not in source", "speaker not in source", "negation not in source"):
        ns = sorted({p.n for p in problems if p.reason == reason})
        if ns:
            marks = "".join(f"[{n}]" for n in ns)
            parts.append(f"dropped citation{'s' if len(ns) > 1 else ''} {marks} ({reason})")
    if any(p.reason == "attribution not in source" for p in problems):
        parts.append("removed an attribution the sources do not make")
    uncited = sum(1 for p in problems if p.reason == "uncited")
    if uncited:
        parts.append(f"removed {uncited} uncited sentence{'s' if uncited > 1 else ''}")
    return "; ".join(parts)


# -- support ------------------------------------------------------------------------------------
def support_score(claim: str, vector: np.ndarray, passage: Passage,
                  weight: Callable[[str], float], asked: frozenset[str] = frozenset()) -> tuple[float, float, Span | None]:
    """(best cosine to a passage sentence, weighted share of the claim's terms in the passage,
    that best sentence). Terms the question already has count only when the claim adds none:
    what a claim must find in its source is what it says beyond the question."""
    best, span = -1.0, None
    for sentence, vec in passage.sentences:
        score = float(vector @ vec)
        if score > best:
            best, span = score, sentence
    claim_terms = _claim_terms(claim, asked)
    total = sum(weight(t) for t in claim_terms)
    found = sum(weight(t) for t in claim_terms & set(terms(_fold(passage.text))))
    return max(best, 0.0), (found / total if total else 0.0), span


def _claim_terms(claim: str, asked: frozenset[str]) -> set[str]:
    """What a claim must find in its source: its terms beyond the question's, or all of them
    when it adds none."""
    claim_terms = set(terms(_fold(claim))) - _GENERIC
    return (claim_terms - asked) or claim_terms


def _joint_score(claim: str, vector: np.ndarray, pair: Sequence[Passage], t: Thresholds,
                 weight: Callable[[str], float], asked: frozenset[str]) -> float:
    """Support for a claim from two passages together: the better cosine and the share of the
    claim's terms the two hold between them, when each has a sentence close to the claim and
    terms of it the other lacks (else one of them alone is what supports it)."""
    scores = [support_score(claim, vector, p, weight, asked) for p in pair]
    if min(cos for cos, _, _ in scores) < t.min_cosine:
        return 0.0
    claim_terms = _claim_terms(claim, asked)
    held = [claim_terms & set(terms(_fold(p.text))) for p in pair]
    if held[0] <= held[1] or held[1] <= held[0]:
        return 0.0
    total = sum(weight(t) for t in claim_terms)
    coverage = sum(weight(t) for t in held[0] | held[1]) / total if total else 0.0
    return 0.5 * max(cos for cos, _, _ in scores) + 0.5 * coverage


def _supports(claim: str, vector: np.ndarray, passage: Passage, t: Thresholds,
              weight: Callable[[str], float], asked: frozenset[str]) -> tuple[bool, float, Span | None]:
    cosine, coverage, span = support_score(claim, vector, passage, weight, asked)
    score = 0.5 * cosine + 0.5 * coverage
    if _named_in(claim, passage, asked) or (cosine >= t.clause and _holds_whole(claim, passage, asked)):
        return True, max(score, t.support), span
    return score >= t.support and cosine >= t.min_cosine, score, span


def _named_in(claim: str, passage: Passage, asked: frozenset[str]) -> bool:
    """A bare answer of a few words ("Reuters", "in March 2019") that one sentence of the
    passage holds whole, adding to the question (a sentence's meaning is what the cosine
    checks; a name or date on its own has little)."""
    if not asked or len(words(claim)) > 3:
        return False
    said = set(terms(_fold(claim))) - _GENERIC
    return bool(said - asked) and any(said <= set(terms(_fold(sp.text))) for sp, _ in passage.sentences)


def _holds_whole(claim: str, passage: Passage, asked: frozenset[str]) -> bool:
    """One sentence of the passage holds every term (three or more) the claim adds to the
    question, and denies as the claim does (or neither does): the claim restates a clause of it
    ("He said the work has begun" of "X told Reuters that ..., saying the work has begun"),
    which the cosine to the whole sentence undervalues."""
    said = _claim_terms(claim, asked)
    negated = bool(_NEGATED.search(claim))
    return len(said) >= 3 and any(said <= set(terms(_fold(sp.text))) and bool(_DENIES.search(sp.text)) == negated
                                  for sp, _ in passage.sentences)


def _held_verbatim(claim: str, passage: Passage) -> bool:
    """The passage holds the claim word for word (a command or code line the model copied, too
    short for a cosine to judge): two words or more, ignoring case, spacing and code quotes."""
    said = _plain(claim)
    return len(said.split()) >= 2 and len(said) >= 10 and said in _plain(passage.text)


def _plain(text: str) -> str:
    return " ".join(text.replace("`", " ").split()).casefold()


def _fold(text: str) -> str:
    """Erdoğan -> Erdogan, Türkiye -> Turkiye: models often drop the accents their sources use."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _drawn_on(claim: str, span: Span, passage: Passage, given: frozenset[str],
              weight: Callable[[str], float], share: float = 0.25) -> tuple[int, int]:
    """The claim's best sentence widened, one neighbour at a time, to the sentences next to it
    that hold a good part (`share`, by weight) of the claim's terms (a list's other items, a
    quote's second half), not a common word or two; list items are quoted from their lead-in on,
    and a lead-in with what it introduces."""
    order = [sp for sp, _ in passage.sentences]
    at = next((k for k, sp in enumerate(order) if sp.start == span.start), None)
    if at is None:
        return span.start, span.end
    want = set(terms(_fold(claim))) - _GENERIC
    want = (want - given) or want
    have = set(terms(_fold(span.text)))
    total = sum(weight(t) for t in want) or 1.0
    lo = hi = at
    while True:
        grow = [k for k in (lo - 1, hi + 1) if 0 <= k < len(order) and sum(
            weight(t) for t in (want - have) & set(terms(_fold(order[k].text)))) >= share * total]
        if not grow:
            while lo and LIST_ITEM.match(order[lo].text) and (
                    LIST_ITEM.match(order[lo - 1].text) or order[lo - 1].text.rstrip().endswith(":")):
                lo -= 1
            if order[hi].text.rstrip().endswith(":") and hi + 1 < len(order):
                hi += 1      # a lead-in comes with what it introduces: a quote, or its list's items
                while (hi + 1 < len(order) and LIST_ITEM.match(order[hi].text)
                       and LIST_ITEM.match(order[hi + 1].text)):
                    hi += 1
            return order[lo].start, order[hi].end
        for k in grow:
            have |= set(terms(_fold(order[k].text)))
            lo, hi = min(lo, k), max(hi, k)


def _quote(passage: Passage, start: int, end: int) -> str:
    """The article text from `start` to `end`, if the passage knows it ("" otherwise)."""
    for at, text in (passage.article, (passage.hit.start, passage.hit.text)):
        if at <= start and end <= at + len(text):
            quote = text[start - at:end - at]
            first = next((sp for sp, _ in passage.sentences if sp.start == start), None)
            last = next((sp for sp, _ in passage.sentences if sp.end == end), None)
            if first and last and quote.startswith(first.text) and quote.endswith(last.text):
                return quote
    return ""


def _citation(passage: Passage, score: float, span: Span | None,
              quoted: tuple[int, int] | None = None) -> Citation:
    hit = passage.hit
    if span is None:
        return Citation(n=passage.n, doc_id=hit.doc_id, title=hit.title, snippet=passage.text,
                        start=hit.start, end=hit.start + len(passage.text), score=score)
    start, end = quoted or (span.start, span.end)
    snippet = _quote(passage, start, end) if (start, end) != (span.start, span.end) else ""
    if not snippet:
        snippet, start, end = span.text, span.start, span.end
    return Citation(n=passage.n, doc_id=hit.doc_id, title=hit.title, snippet=snippet,
                    start=start, end=end, score=score)


def _is_claim(claim: str, asked: set[str]) -> bool:
    """Does the sentence state anything beyond the question? Lead-ins ("Here is what ...:") do not."""
    if claim.rstrip().endswith(":"):
        return False
    return bool(set(terms(claim)) - asked - _GENERIC)


def _state(i: int, units, claims, kept_numbers, asked) -> str:
    markers = units[i][2]
    if any(m.numbers for m in markers):
        return "cited" if kept_numbers[i] else "dropped"
    return "uncited" if _is_claim(claims[i], asked) else "filler"


def _paragraph_citations(i: int, units, kept_numbers, text: str) -> list[int]:
    """Citations of the next cited sentence in the same paragraph, else of the previous one."""
    def same_paragraph(a: int, b: int) -> bool:
        lo, hi = sorted((a, b))
        return "\n" not in text[units[lo][1]:units[hi][0]]

    for j in list(range(i + 1, len(units))) + list(range(i - 1, -1, -1)):
        if not same_paragraph(i, j):
            continue
        if kept_numbers[j]:
            return kept_numbers[j]
    return []


def _misattributed(claim: str, span: Span | None, passage: Passage, question: str) -> bool:
    """"X said Y" where the sentence that says Y (or the one before it, which may introduce the
    speaker) does not name X: a small model lends one person's words to another. A speaker the
    question names ("what did the official say?") may stand for an unnamed one, if Y's sentence
    reports speech ("said", a quotation) without naming who spoke."""
    said = _SAID.match(strip_markers(claim))
    # "Turkey's foreign minister X said": Turkey owns the title, it is not who spoke
    names = [name for name in _NAME.findall(" " + said.group("who")) if not name.endswith(("'s", "’s"))] \
        if said else []
    if not names or span is None:
        return False
    order = [sp for sp, _ in passage.sentences]
    at = next((k for k, sp in enumerate(order) if sp.start == span.start), None)
    near = set(terms(_fold(span.text + (" " + order[at - 1].text if at else ""))))
    unnamed = [name for name in names if not set(terms(_fold(name))) <= near]
    if not unnamed:
        return False
    asked = set(terms(_fold(question)))
    # reported speech whose speaker is left unnamed ("said a senior official"), not someone else's
    reported = bool(_SPEECH.search(span.text)) and not _SPEAKER.search(span.text)
    return not (reported and all(set(terms(_fold(name))) <= asked for name in unnamed))


def _drop_attributions(text: str, question: str, by_n: dict[int, Passage], problems: list[Problem]) -> str:
    """"According to X, Y [n]." where neither the question nor what the sentence cites names X:
    a small model often lends a fact to someone its source never mentions. The claim is kept
    (and checked) without the attribution."""
    for start, end, markers in reversed(_units(text)):
        m = _ACCORDING.match(text, start, end)
        cited = [by_n[n] for marker in markers for n in marker.numbers if n in by_n]
        if not m or not cited:
            continue
        known = _known(question, cited)
        if not set(terms(_fold(m.group(1)))) <= known:
            problems.append(Problem(strip_markers(text[start:end]), 0, "attribution not in source"))
            text = text[:start] + m.group(2).upper() + text[m.end():]
    return text


def _unstated(claim: str, question: str, cited: Sequence[Passage]) -> str:
    """Why the claim states a number or a name that neither the question nor what it cites has
    ("" when it states none)."""
    if _numbers_in(claim) - _numbers_in(question) - set().union(*(_numbers_in(p.text) for p in cited)):
        return "number not in source"
    stated = amounts(question) | set().union(*(amounts(p.text) for p in cited))
    if any(not any(num == n and scale == s and (not money or m) for n, s, m in stated)
           for num, scale, money in amounts(strip_markers(claim)) if scale or money):
        return "number not in source"      # "$40 million" where the source has "40 jets"
    known = _known(question, cited)
    for name in _NAME.findall(strip_markers(claim)):
        if not set(terms(_fold(name))) <= known:
            return "name not in source"
    return ""


def _other_year(claim: str, vector: np.ndarray, passage: Passage) -> bool:
    """The sentence closest to the claim dates it to other years than the claim does, and no
    sentence nearly as close gives the claim's year: "bought in 2019" where the passage says
    "bought in 2017 ... Deliveries began in 2019"."""
    return _given_elsewhere(years(strip_markers(claim)), vector, passage, years)


def _other_number(claim: str, vector: np.ndarray, passage: Passage, question: str) -> bool:
    """The same for any other figure the question does not give ("needs Python 3.12" where the
    passage says "needs at least Python 3.9. The 3.12 release ..."); a designator's digits
    ("F-35") are no figure."""
    plain = without_designators(strip_markers(claim))
    said = _numbers_in(plain) - _numbers_in(question) - years(plain)
    return _given_elsewhere(said, vector, passage, lambda text: _numbers_in(without_designators(text)))


def _given_elsewhere(said: set[str], vector: np.ndarray, passage: Passage,
                     figures: Callable[[str], set[str]], margin: float = 0.3) -> bool:
    """The passage sentence closest to the claim (`vector`) gives `figures`, none of `said`, and
    no sentence within `margin` of its cosine gives one of `said`."""
    if not said or not passage.sentences:
        return False
    cosines = [(float(vector @ vec), figures(sp.text)) for sp, vec in passage.sentences]
    best, closest = max(cosines, key=lambda cf: cf[0])
    given = max((cos for cos, found in cosines if said & found), default=-1.0)
    return bool(closest) and not said & closest and given < best - margin


def _year_of_another(claim: str, passage: Passage) -> bool:
    """The claim ties a year to a designator ("its first F-35 in July 2019"), the passage gives
    that year, but never in a sentence that names the designator, or after one that does: the
    year is another thing's ("bought the S-400 in 2017. Deliveries began in July 2019.")."""
    claim = strip_markers(claim)
    said, named = years(claim), designators(claim)
    texts = [sp.text for sp, _ in passage.sentences]
    dated = [i for i, text in enumerate(texts) if said & years(text)]
    return bool(named and dated) and not any(
        named & designators(" ".join(texts[max(0, i - 1):i + 1])) for i in dated)


def _known(question: str, cited: Sequence[Passage]) -> set[str]:
    """The terms of the question and of the passages cited (text and title): what a claim may name."""
    return set(terms(_fold(question + " " + " ".join(p.text + " " + p.hit.title for p in cited))))


def _numbers_in(text: str) -> set[str]:
    return {m.group(0).replace(",", "").rstrip(".") for m in _NUMBER.finditer(strip_markers(text))}


# -- text surgery ---------------------------------------------------------------------------------
def _markers_after(text: str) -> str:
    """A reply that opens with a citation writes each before what it cites ("[1] Reuters [2]
    Bloomberg"): move each after its text, where the checks read them ("Reuters [1]. Bloomberg
    [2]."); a citation with no text of its own goes with the next one's, and a repeat is left out."""
    markers = parse_markers(text)
    if not markers or text[:markers[0].start].strip():
        return text
    out, pending = [], []
    for m, nxt in zip(markers, [*markers[1:], None]):
        pending.append(text[m.start:m.end])
        body = text[m.end:nxt.start if nxt else len(text)].strip()
        if body:
            ends = body[-1:] in ".!?…”’\"'"
            piece = f"{body} {''.join(dict.fromkeys(pending))}{'' if ends else '.'}"
            if piece not in out:
                out.append(piece)
            pending = []
    return " ".join(out) if out else text


def _units(text: str) -> list[tuple[int, int, list[Marker]]]:
    """Sentences of the answer as (start, end, markers); markers that open a sentence ("... law. [2]")
    belong to the sentence before."""
    spans = [list(s) for s in split_sentences(text)]
    for k in range(1, len(spans)):
        lead = _MARKERS_AT_START.match(text, spans[k][0], spans[k][1])
        if lead and "\n" not in text[spans[k - 1][1]:lead.end()]:
            spans[k - 1][1] = lead.end()
            rest = lead.end()
            while rest < spans[k][1] and text[rest].isspace():
                rest += 1
            spans[k][0] = rest
    markers = parse_markers(text)
    units = []
    for s, e in spans:
        if e > s:
            units.append((s, e, [m for m in markers if s <= m.start and m.end <= e]))
    return units


def _rebuild(text: str, units, kept_numbers, removed: set[int], added: dict[int, list[int]]) -> str:
    edits: list[tuple[int, int, str]] = []
    for i, (s, e, markers) in enumerate(units):
        if i in removed:
            edits.append((s, e, ""))
            continue
        if i in added:
            edits.extend((m.start, m.end, "") for m in markers)
            body = _LITERAL.sub("", MARKER.sub("", text[s:e])).rstrip()
            at = s + len(text[s:e].rstrip())
            if body[-1:] in ".!?":
                at = text.rindex(body[-1], s, e)
            edits.append((at, at, " " + "".join(f"[{n}]" for n in added[i])))
            continue
        keep = list(kept_numbers[i])
        for m in markers:
            mine = [n for n in m.numbers if n in keep]
            for n in mine:
                keep.remove(n)
            new = "".join(f"[{n}]" for n in dict.fromkeys(mine))
            if new and m.start and not text[m.start - 1].isspace() and text[m.start - 1] not in "[]【】":
                new = " " + new
            edits.append((m.start, m.end, new))
    out = text
    for s, e, new in sorted(edits, reverse=True):
        out = out[:s] + new + out[e:]
    return _tidy(out)


def _tidy(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        line = re.sub(r"[ \t]{2,}", " ", line)
        line = re.sub(r"\s+([.,;:!?])", r"\1", line)
        line = re.sub(r"(\])\s*\.\s*\.", r"\1.", line)
        lines.append(line.strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _numbers(group: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in re.split(r"\s*[,;，、]\s*", group.strip()):
        if re.search(r"[-–]", part):
            lo, hi = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            out.extend(range(lo, hi + 1) if 0 <= hi - lo <= 20 else (lo, hi))
        elif part:
            out.append(int(part))
    return tuple(out)
