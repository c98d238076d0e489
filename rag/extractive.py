"""The offline answerer: pick the sentences of the retrieved passages that best answer.

No LLM. Each candidate sentence is scored by semantic similarity to the question (stored
sentence embeddings), IDF-weighted coverage of the question's terms (its own, and a little of
the sentence before it, which often names the subject it elaborates), and the rank of the
passage it came from. A lead-in ending in ":" and the bullets under it count as one passage; so
do a lead-in and the quotation on its next line. For a why or how question, the quotations that
follow the chosen sentence in its paragraph come with it (the reason, in the speaker's words).
For a why-question, a close sentence that gives a cause leads over a better-scored one that
gives none (the aftermath often repeats the question's words); so, for "what does X require?",
does one that states an obligation; a question asking for several things ("what steps ...?")
prefers a sentence that lists three or more. Then up to `max_sentences` are
chosen greedily: near-duplicates are skipped, a sentence must add coverage or a second
article's view, and agreeing articles are cited together (not one that gives other figures).
When articles take opposite stances (one says a thing will be kept, another that it will be
given back), or give different years or numbers for what a when- or how-many-question asks
about, the answer says so and shows both, each with its citation; a yes-or-no question gets,
right after the best sentence, a close one that disputes a claim ("X counters that ...",
"rejecting claims that ..."), the other side of it. It abstains, citing nothing, when nothing
is close enough or no sentence supplies the kind of answer asked for (a number, a time, a name;
a figure only from a sentence that shares some of the question's weighty terms, since a sum
spent on one thing is no answer to what was paid for another);
before it abstains on a question that wants none of those, it reads the sentences once more with
their words related in meaning to the question's counting in part (a paraphrase: "penalties" for
"sanctions", see rag.related).
`joined` puts the answers to the parts of a two-part question together (the Assistant asks each
part on its own). It gets hits and sentences and returns an Answer: it does not parse files or
talk to stores.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import partial
from typing import Callable, Sequence

import numpy as np

from index.records import Span
from index.terms import terms, words
from rag.answer_type import (LIST_ITEM, asks_list, asks_person, asks_procedure, defined, defines,
                             enumerates, expected_kind, holds_role, names_kind, names_person, rebuts, restates,
                             says, supplies, unknown_names, wanted, years)
from rag.records import Answer, Citation, Hit, article_text
from rag.related import WordVectors, closest

ABSTAIN_TEXT = "The corpus does not contain an answer to this question."
DIFFER = "Reports differ. "     # opens an answer that shows articles taking opposite stances
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|won't|refus\w*|reject\w*|ruled? out|rules out|"
                       r"barred|unwilling)\b|n't\b", re.I)
_KEEP = re.compile(r"\b(?:keep\w*|kept|retain\w*|maintain\w*|remain\w*|stands? firm|non-negotiable)\b", re.I)
_RELEASE = re.compile(r"\b(?:return(?:s|ed|ing)?|abandon\w*|giv(?:e|es|ing) up|gave up|relinquish\w*|"
                      r"withdraw\w*|hand(?:s|ed|ing)? (?:back|over))\b", re.I)
_BULLET = LIST_ITEM                  # "- x", "2. x"
_NUMBER = re.compile(r"(?<![\w-])\d+(?:[.,]\d+)*")   # a figure; not the "400" of a name like "S-400"
_DETERMINER = re.compile(r"\b(?:the|a|an|its|their|his|her|our|this|that|any|such)\s+$", re.I)
_CODE = re.compile(r"`[^`].*`")     # a code line, as the readers write it (index.markdown.code_line)
_CODE_LINES = 16                    # a lead-in keeps at most this many code lines after it
_QUOTES = ("“", '"', "‘", "'", "«")
# a question about whether something is kept or given up ("Is X giving back Y?", "What is X's
# position on Y?"); only such a question can be answered "Reports differ."
_STANCE_ASKED = re.compile(r"\b(?:giv(?:e|es|ing)\b.{0,40}?\bback|positions?|stances?|plan(?:s|ning)?|"
                           r"intend\w*|going to)\b", re.I)
_YES_NO = re.compile(r"^\s*(?:is|are|was|were|will|would|does|do|did|has|have|had|can|could|should|"
                     r"may|might)\b", re.I)
_PIECE = re.compile(r"(.+?)\s*((?:\[\d+\])+)", re.S)   # an answer's sentence and its markers
_CAUSE_ASKED = re.compile(r"^\s*(?:why|how)\b", re.I)
# verbs that only frame a question ("what happened in May?" asks about May): never a term to find
_FRAMING = frozenset({"happen", "occur"})
# a sentence that opens by pointing back ("This signals ...", "These moves ..."): it is about what
# comes before it (the previous sentence, or the whole list it follows)
_POINTS_BACK = re.compile(r"^\W*(?:this|these|those|such)\b(?!\s+(?:year|week|month|time)\b)", re.I)


@dataclass(frozen=True)
class Thresholds:
    """Answerability and selection calibration (tuned on the project's own eval questions)."""
    min_score: float = 0.38        # best combined score below this: abstain
    min_semantic: float = 0.40     # best sentence similarity below this ...
    min_coverage: float = 0.5      # ... and best question-term coverage below this: abstain
    keep_ratio: float = 0.80       # a further sentence must score this share of the best
    rank_bonus: float = 0.08       # added to a sentence from the first passage, halved for the second ...
    duplicate_cos: float = 0.86    # two sentences this similar are the same claim
    conflict_cos: float = 0.45     # two stances this similar are about the same thing
    conflict_coverage: float = 0.2  # two figures are for what was asked where each sentence holds
                                    # this share of the question's terms (IDF-weighted)
    neighbour_share: float = 0.15   # a next or previous sentence that holds this share (IDF-weighted)
                                   # of the question's terms the best one lacks joins it
    shape_bonus: float = 0.15      # added to a sentence that says what the question's shape wants
                                   # (a cause for why, an obligation for "what does X require")
    related_cos: float = 0.50      # a sentence's word this close to a question's word it lacks
                                   # covers that word, in proportion (see rag.related) ...
    related_sentences: int = 3    # ... in this many sentences, the closest without it
    figure_coverage: float = 0.1  # a number, amount or time in a sentence holding less than this
                                  # share of the question's terms is one of something else


@dataclass(frozen=True)
class _Candidate:
    span: Span
    vec: np.ndarray
    hit: Hit
    semantic: float
    covered: frozenset
    score: float
    bullets: tuple[str, ...] = ()   # a lead-in's list items, shown after it
    coverage: float = 0.0           # the share (IDF-weighted) of the question's terms it holds


class ExtractiveAnswerer:
    def __init__(self, df: dict[str, int], n_chunks: int, *, max_sentences: int = 4,
                 thresholds: Thresholds = Thresholds(), word_vectors: WordVectors | None = None) -> None:
        """`word_vectors`: the sentence model's vectors of single words, for paraphrases (None:
        only a sentence's own terms cover the question's)."""
        self.df, self.n = df, max(n_chunks, 1)
        self.max_sentences, self.t = max_sentences, thresholds
        self.word_vectors = word_vectors
        self._prefixes: set[str] | None = None

    def answer(self, question: str, vector: np.ndarray, hits: Sequence[Hit],
               sentences: Sequence[tuple[Span, np.ndarray]], *,
               unfiltered: Callable[[], tuple[Sequence[Hit], Sequence[tuple[Span, np.ndarray]]]] | None = None,
               ) -> Answer:
        """`unfiltered`: when `hits` were found under a filter, gets what the whole index finds
        (hits, sentences). A filter narrows what may be cited, not whether the index answers the
        question: either may show that it does, and the best sentence cited must still reach
        `min_score`."""
        unknown = self.unknown_names(question)
        if unknown:
            return Answer(question=question, text=ABSTAIN_TEXT, abstained=True,
                          notice=f"no indexed article mentions {', '.join(unknown)}")
        weights, kind = self.weights(question), expected_kind(question)
        # Nothing close enough: the question may paraphrase its answer, so read again with words
        # related in meaning. Not when it wants a number, a time or a name: a related word there
        # finds that kind of thing about something else (the price of B, asked the price of A).
        for related in (False, True):
            if related and (self.word_vectors is None or kind):
                break
            candidates = self._candidates(question, weights, vector, hits, sentences, related)
            answerable = bool(candidates) and self._answerable(candidates, weights)
            if (not answerable and candidates and unfiltered is not None
                    and candidates[0].score >= self.t.min_score):
                wider = self._candidates(question, weights, vector, *unfiltered(), related)
                answerable = bool(wider) and self._answerable(wider, weights)
            if answerable and kind in (*_FIGURES, "amount"):
                candidates = [c for c in candidates if c.coverage >= self.t.figure_coverage]
            if answerable and candidates:
                return _compose(question, self._choose(question, candidates, weights), candidates, self.t)
        return Answer(question=question, text=ABSTAIN_TEXT, abstained=True)

    def unknown_names(self, question: str) -> list[str]:
        """Names the question asks about that no indexed text holds (see answer_type)."""
        def known(term: str) -> bool:
            if self.df.get(term, 0) > 0:
                return True
            if self._prefixes is None:     # built only when a name is not indexed as it stands
                self._prefixes = {t[:5] for t in self.df if len(t) >= 5}
            return len(term) >= 5 and term[:5] in self._prefixes     # "Russian" for "Russia"

        return unknown_names(question, known)

    def rank(self, question: str, vector: np.ndarray, hits: Sequence[Hit],
             sentences: Sequence[tuple[Span, np.ndarray]]) -> list[Span]:
        """The sentences best first, by the same score the answer is chosen by (an LLM's evidence)."""
        return [span for span, _ in self.scored(question, vector, hits, sentences)]

    def scored(self, question: str, vector: np.ndarray, hits: Sequence[Hit],
               sentences: Sequence[tuple[Span, np.ndarray]]) -> list[tuple[Span, float]]:
        """The sentences with their scores, best first."""
        return [(c.span, c.score) for c in self._score(self.weights(question), vector, hits, sentences,
                                                       question)]

    def _candidates(self, question: str, weights: dict[str, float], vector: np.ndarray,
                    hits: Sequence[Hit], sentences: Sequence[tuple[Span, np.ndarray]],
                    related: bool = False) -> list[_Candidate]:
        """Sentences that could answer, best first: scored, and of the kind the question asks for."""
        kind = expected_kind(question)
        return [c for c in self._score(weights, vector, hits, sentences, question, related)
                if supplies(kind, c.span.text + " " + " ".join(c.bullets), question)
                and holds_role(c.span.text, question)]

    def _answerable(self, candidates: list[_Candidate], weights: dict[str, float]) -> bool:
        """Close enough in meaning, or sharing most of the question's weighty terms."""
        total = sum(weights.values()) or 1.0
        best_coverage = max(sum(weights[t] for t in c.covered) / total for c in candidates)
        best_semantic = max(c.semantic for c in candidates)
        return candidates[0].score >= self.t.min_score and (
            best_semantic >= self.t.min_semantic or best_coverage >= self.t.min_coverage)

    # -- scoring ----------------------------------------------------------------------------
    def weights(self, question: str) -> dict[str, float]:
        """The question's terms, each weighted by its IDF."""
        return {t: self.idf(t) for t in set(terms(question)) - _FRAMING}

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def _score(self, weights: dict[str, float], vector: np.ndarray, hits: Sequence[Hit],
               sentences: Sequence[tuple[Span, np.ndarray]], question: str = "",
               related: bool = False) -> list[_Candidate]:
        """`related`: a sentence's words close in meaning to a question's word it lacks cover
        that word in part (see `_near`)."""
        total = sum(weights.values()) or 1.0
        markers, person, procedure = wanted(question), asks_person(question), asks_procedure(question)

        def coverage(covered) -> float:
            return sum(weights[t] for t in covered) / total

        def hit_of(span: Span) -> int:
            return min((i for i, h in enumerate(hits)
                        if h.doc_id == span.doc_id and h.start <= span.start and span.end <= h.end), default=0)

        ordered = sorted(sentences, key=lambda sv: (sv[0].doc_id, sv[0].start))
        covers = [frozenset(weights) & set(terms(span.text)) for span, _ in ordered]
        semantics = [float(vector @ vec) for _, vec in ordered]
        own = [0.55 * sem + 0.35 * coverage(covered) for sem, covered in zip(semantics, covers)]
        near = self._near(weights, question, ordered, own) if related else [{}] * len(ordered)
        out: list[_Candidate] = []
        previous: tuple[Span, frozenset] | None = None
        for i, ((span, vec), covered, semantic, base, close) in enumerate(zip(ordered, covers, semantics,
                                                                              own, near)):
            kin = sum(weights[t] * cos for t, cos in close.items() if t not in covered) / total
            context = 0.0
            if previous and previous[0].doc_id == span.doc_id and span.start - previous[0].end <= 2:
                context = 0.1 * coverage(previous[1] - covered)
                if _POINTS_BACK.match(span.text):
                    context = 0.35 * coverage(_pointed_at(ordered, covers, i) - covered)
            rank = hit_of(span)
            score = base + 0.35 * kin + context + self.t.rank_bonus / (1 + rank)
            if (says(markers, _with_introduced(ordered, i), question)
                    or (person and names_person(span.text, question))
                    or names_kind(span.text, question) or defines(span.text, question)):
                score += self.t.shape_bonus   # a why-question wants the cause, not the aftermath;
                # a who-question a sentence that names someone; "what kind of X" one that says
                # which; "what is X?" one that has X as its subject
            stub = len(words(span.text)) < 4 or not span.text.rstrip("”’\"')").endswith((".", "!", ":"))
            if stub and not (procedure and _CODE.fullmatch(span.text)):
                score *= 0.8   # headings, list items, stubs and questions rarely answer on their own
                # (a command on a line of its own does answer "how do I ...?")
            out.append(_Candidate(span, vec, hits[rank], semantic, covered, score,
                                  coverage=coverage(covered)))
            previous = (span, covered)
        merged = _merge_lists(_headings_hand_on(out), coverage)
        if asks_list(question):   # "what steps ...?" wants a sentence or lead-in that lists several
            merged = [replace(c, score=c.score + self.t.shape_bonus) if enumerates(c.span.text) else c
                      for c in merged]
        return sorted(merged, key=lambda c: -c.score)

    def _near(self, weights: dict[str, float], question: str,
              sentences: Sequence[tuple[Span, np.ndarray]], own: list[float]) -> list[dict[str, float]]:
        """For each sentence, {question term: closeness of its nearest word} where that is at
        least `related_cos`; only for the `related_sentences` best by `own` (their scores in
        meaning and terms: each new word costs a call to the model), {} for the rest."""
        chosen = sorted(range(len(sentences)), key=lambda i: -own[i])[: self.t.related_sentences]
        found = closest(self.word_vectors, list(weights), question, [sentences[i][0].text for i in chosen])
        out: list[dict[str, float]] = [{} for _ in sentences]
        for i, close in zip(chosen, found):
            out[i] = {t: cos for t, cos in close.items() if cos >= self.t.related_cos}
        return out

    # -- choosing ---------------------------------------------------------------------------
    def _choose(self, question: str, candidates: list[_Candidate],
                weights: dict[str, float]) -> list[_Candidate]:
        # the joined sentence replaces the best in `candidates` too, so the stance step below,
        # which matches candidates by identity, sees one best, not two
        _shape_first(question, candidates, self.t.keep_ratio)
        best = _with_cause(question, candidates[0], candidates)
        if best is candidates[0]:
            best = _with_code(question, best, candidates)
        if best is candidates[0]:
            best = _with_neighbour(best, candidates, weights, self.t.neighbour_share)
        candidates[0] = best
        chosen = [best]
        covered = set(best.covered)
        for cand in candidates[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if any(_same_claim(cand, c, self.t) for c in chosen):
                continue
            strong = cand.score >= self.t.keep_ratio * best.score
            new_terms = bool(cand.covered - covered)
            new_article = cand.span.doc_id not in {c.span.doc_id for c in chosen}
            if strong and (new_terms or new_article):
                chosen.append(cand)
                covered |= cand.covered
        if _YES_NO.search(question) and not any(rebuts(c.span.text) for c in chosen):
            # "does X put Y at risk?": one side's claim, then the other side's rebuttal of it
            close = [c for c in candidates if c.score >= self.t.keep_ratio * best.score
                     and rebuts(c.span.text) and not any(_same_claim(c, x, self.t) for x in chosen)]
            if close:
                chosen = [chosen[0], close[0], *chosen[1:]][: max(2, self.max_sentences)]
        # a reported reason, then the words that give it; a quotation, then the rest of it
        if _CAUSE_ASKED.search(question) or best.span.text.startswith(_QUOTES):
            chosen[0] = _with_quotes(best, candidates)
        # the two sides of a disagreement, if relevant articles take them: the other side of a
        # chosen sentence, else the best two close sentences that take opposite sides
        # (for a when- or how-many-question, only as close as any further sentence must be: a
        # figure is in many)
        if ((asks_stance(question) or expected_kind(question) in _FIGURES)
                and not any(_contradicts(question, a, b, self.t) for a in chosen for b in chosen)):
            share = 0.6 if asks_stance(question) else self.t.keep_ratio
            close = [c for c in candidates if c.score >= share * best.score]
            opposed = partial(_contradicts, question, t=self.t)
            sides = next(([x, c] for c in close for x in chosen if opposed(c, x)), None) or next(
                ([a, b] for i, a in enumerate(close) for b in close[i + 1:] if opposed(a, b)), None)
            if sides:
                rest = [c for c in chosen if all(c is not side for side in sides)]
                chosen = sides + rest[: max(0, self.max_sentences - 2)]
        return chosen


def _pointed_at(ordered: Sequence[tuple[Span, np.ndarray]], covers: list[frozenset], i: int) -> frozenset:
    """The question's terms in what sentence `i` points back at: the sentence before it, or the
    list before it with the lead-in that introduces the list."""
    out, j = set(covers[i - 1]), i - 1
    while (j > 0 and _BULLET.match(ordered[j][0].text) and ordered[j - 1][0].doc_id == ordered[j][0].doc_id
           and ordered[j][0].start - ordered[j - 1][0].end <= 2):
        j -= 1
        out |= covers[j]
    return frozenset(out)


def _shape_first(question: str, candidates: list[_Candidate], share: float) -> None:
    """A why-question wants the cause (and "what does X require?" the obligation, a who-question
    a name): when the best sentence gives none and one scoring `share` of it does, that one
    leads. The aftermath often repeats the question's words ("responded by removing X from Y")
    where the cause does not ("X was dropped after ..."); "the ambassador acknowledged ..." is
    close in meaning to "who is the ambassador?" and names no one. "What is X?" wants the
    sentence that says what X is (see below)."""
    markers = wanted(question)
    name = defined(question)
    if name:
        # "what is X?": the first line under a heading X ("rustfmt" over "A tool for formatting
        # Rust code."), else of the sentences close enough that have X as subject, the first in
        # its text: a text says what a thing is before it says more about it
        titled = [c for c in candidates if _heading_over(c).strip("`").lower() == name.lower()]
        close = titled or [c for c in candidates if c.score >= share * candidates[0].score
                           and defines(c.span.text, question)]
        if close:
            first = min(close, key=lambda c: c.span.start)
            candidates.insert(0, candidates.pop(next(i for i, c in enumerate(candidates) if c is first)))
        return
    if markers is not None:
        def fits(c: _Candidate) -> bool:
            return says(markers, c.span.text, question)
    elif asks_person(question):
        def fits(c: _Candidate) -> bool:
            return names_person(c.span.text, question)
    else:
        return
    if fits(candidates[0]):
        return
    k = next((i for i, c in enumerate(candidates[1:], 1)
              if c.score >= share * candidates[0].score and fits(c)), None)
    if k is not None:
        candidates.insert(0, candidates.pop(k))


def _names_a_group(cands: list[_Candidate], j: int) -> bool:
    """`cands[j]` is a short line with no stop that heads the bullets right under it
    ("Operationally" before "- shared data ...")."""
    text = cands[j].span.text.strip()
    return (len(text.split()) <= 4 and not text.endswith((".", "!", "?", ";", ","))
            and j + 1 < len(cands) and cands[j + 1].span.doc_id == cands[j].span.doc_id
            and cands[j + 1].span.start - cands[j].span.end == 1 and bool(_BULLET.match(cands[j + 1].span.text)))


def _is_heading(text: str, any_case: bool = False) -> bool:
    """A section heading: a short line (a word or several), capitalised (unless `any_case`), with
    no closing stop."""
    text = text.strip()
    return (1 <= len(text.split()) <= 14 and (any_case or text[:1].isupper()) and not _BULLET.match(text)
            and not text.rstrip("”’\"')").endswith((".", "!", "?", ":", ";", ",")))


def _heading_over(c: _Candidate) -> str:
    """The heading right over `c` (a blank line between them at most), or ""."""
    hit = c.hit
    if hit.doc_id != c.span.doc_id or not hit.start <= c.span.start <= hit.end:
        return ""
    before = hit.text[:c.span.start - hit.start]
    if not before.endswith("\n"):
        return ""
    lines = before.rstrip("\n").split("\n")
    line = lines[-1].strip() if len(lines) > 1 or hit.start == 0 else ""
    blank = len(before) - len(before.rstrip("\n")) <= 2
    return line if blank and _is_heading(line, any_case=True) else ""     # "rustfmt": a title in lower case


def _headings_hand_on(cands: list[_Candidate]) -> list[_Candidate]:
    """A heading is no answer on its own ("Strategic Implications for NATO"): when it scores
    above the sentence right under it, which begins what it announces, that sentence takes its
    score and the heading keeps half."""
    out = list(cands)
    for i, c in enumerate(out[:-1]):
        after = out[i + 1]
        if (_is_heading(c.span.text) and after.span.doc_id == c.span.doc_id
                and 0 <= after.span.start - c.span.end <= 2 and c.score > after.score):
            out[i + 1] = replace(after, score=c.score)
            out[i] = replace(c, score=c.score * 0.5)
    return out


def _merge_lists(cands: list[_Candidate], coverage) -> list[_Candidate]:
    """Fold each lead-in sentence ending in ':' and the bullets right after it into one passage (a
    short note on an item's line, "(Optional)", stays with its item)."""
    out: list[_Candidate] = []
    i = 0
    while i < len(cands):
        lead = cands[i]
        j = i + 1
        items: list[_Candidate] = []
        while (lead.span.text.endswith(":") and j < len(cands)
               and cands[j].span.doc_id == lead.span.doc_id):
            c, last = cands[j], (items[-1] if items else lead)
            if items and len(c.span.text.split()) <= 8 and _between(last.hit, last.span, c.span) is not None:
                items[-1] = _joined(last, c)        # a short note on an item's line: "(Optional)"
            elif (c.span.start - last.span.end == 1
                  and (_BULLET.match(c.span.text) or _names_a_group(cands, j))):
                items.append(c)
            else:
                break
            j += 1
        if j == i + 1 and (joined := _introduced(lead, cands[j:j + _CODE_LINES], coverage)):
            out.append(joined[0])     # "X made it explicit:" and the quote (or command) after it
            i = j + joined[1]
            continue
        if items and out and _announces(out[-1], lead):
            lead = _joined(lead, out.pop())   # "... the following libraries. However, ...:" and its list
        if items:
            members = [lead, *items]
            covered = frozenset().union(*(m.covered for m in members))
            semantic = max(m.semantic for m in members)
            vec = np.mean([m.vec for m in members], axis=0)
            vec = vec / (np.linalg.norm(vec) or 1.0)
            score = max(m.score for m in members) + 0.35 * (coverage(covered) - max(coverage(m.covered) for m in members))
            span = Span(lead.span.doc_id, lead.span.start, members[-1].span.end,
                        "\n".join(m.span.text for m in members))
            out.append(replace(lead, span=span, vec=vec, semantic=semantic, covered=covered, score=score,
                               coverage=coverage(covered),
                               bullets=tuple(_BULLET.sub("", m.span.text) if _BULLET.match(m.span.text)
                                             else m.span.text.rstrip(":") + ":" for m in members[1:])))
        else:
            out.append(lead)
        i = j
    return out


_ANNOUNCES = re.compile(r"\b(?:the following|as follows|below)\b", re.I)


def _announces(before: _Candidate, lead: _Candidate) -> bool:
    """`before`, the sentence right before a list's lead-in in its paragraph, announces that
    list ("... vendored versions of the following libraries."): the list's lead-in begins there."""
    return (before.span.doc_id == lead.span.doc_id == lead.hit.doc_id and not before.bullets
            and bool(_ANNOUNCES.search(before.span.text))
            and _between(lead.hit, before.span, lead.span) is not None)


def _with_introduced(ordered: Sequence[tuple[Span, np.ndarray]], i: int) -> str:
    """The text of sentence `i`, with the line it introduces when it ends in ':' ("run the
    following command:" and the command)."""
    span = ordered[i][0]
    if span.text.endswith(":") and i + 1 < len(ordered):
        nxt = ordered[i + 1][0]
        if nxt.doc_id == span.doc_id and nxt.start - span.end == 1:
            return span.text + "\n" + nxt.text
    return span.text


def _introduced(lead: _Candidate, after: Sequence[_Candidate], coverage,
                colon: bool = True) -> tuple[_Candidate, int] | None:
    """A lead-in ending in ':' joined with what it introduces on the next line (a quotation, a
    statement, a command; a block of code lines or list items, all of `after` that run on), as one passage
    (its text is the article's, separators included), and how many lines it took; None when
    the next line is not right after it (`colon` False: a lead-in with no colon, and a blank
    line between them allowed). Like a list, it gains the share of the question's
    terms that only some of its lines hold."""
    hit = lead.hit
    if (not after or (colon and not lead.span.text.endswith(":")) or after[0].span.doc_id != lead.span.doc_id
            or not 1 <= after[0].span.start - lead.span.end <= (1 if colon else 2)   # a blank line at most
            or hit.doc_id != lead.span.doc_id):
        return None
    taken = [after[0]]
    while (len(taken) < len(after) and after[len(taken)].span.start - taken[-1].span.end == 1
           and _block_line(taken[-1]) is not None
           and _block_line(after[len(taken)]) == _block_line(taken[-1])):
        taken.append(after[len(taken)])
    hits = [hit, *(c.hit for c in taken)]      # a list may run on into the next passage
    while taken and not (text := article_text(hits, lead.span.doc_id, lead.span.start,
                                              taken[-1].span.end)[1]):
        taken.pop()
    if not taken:
        return None
    members = [lead, *taken]
    covered = frozenset().union(*(m.covered for m in members))
    vec = np.sum([m.vec for m in members], axis=0)
    return replace(lead, span=Span(lead.span.doc_id, lead.span.start, taken[-1].span.end, text),
                   vec=vec / (np.linalg.norm(vec) or 1.0), semantic=max(m.semantic for m in members),
                   covered=covered, coverage=coverage(covered),
                   score=max(m.score for m in members) + 0.35 * (coverage(covered)
                                                                 - max(m.coverage for m in members))), len(taken)


def _block_line(c: _Candidate) -> str | None:
    """"code" for a code line, "item" for a list item, None for any other line."""
    return "code" if _CODE.fullmatch(c.span.text) else "item" if _BULLET.match(c.span.text) else None


def _with_neighbour(best: _Candidate, candidates: list[_Candidate], weights: dict[str, float],
                    share: float) -> _Candidate:
    """`best` joined with the sentence right before or after it in its paragraph when that one
    holds `share` or more of the question's weight in terms `best` lacks (of the terms some
    retrieved sentence holds: a word no source has cannot be missed): the best match often
    restates the question's subject and its neighbour says the rest ("framed not only as a
    transactional matter but as a signal of reliability")."""
    near = _adjacent(best, candidates)
    if not near:
        return best
    total = sum(weights[t] for t in frozenset().union(*(c.covered for c in candidates))) or 1.0

    def gain(c: _Candidate) -> float:
        return sum(weights[t] for t in c.covered - best.covered) / total

    other = max(near, key=gain)
    return _joined(best, other) if gain(other) >= share else best


def _with_cause(question: str, best: _Candidate, candidates: list[_Candidate]) -> _Candidate:
    """For a question that wants a cause, an obligation or a condition (answer_type.wanted),
    `best` that gives none (it restates what is asked: "Cats sleep more than dogs.") joined with
    the sentence right after it when that one gives it ("One explanation is ..."). For any why-
    or how-question, `best` that only restates what is asked ("X should not be enabled as a
    whole.", answer_type.restates) is joined with the sentence right after it, whatever that
    says: the why or the how comes next."""
    markers = wanted(question)
    why_or_how = bool(_CAUSE_ASKED.search(question)) and not expected_kind(question)
    if (markers is None and not why_or_how) or says(markers, best.span.text, question):
        return best
    after = [c for c in _adjacent(best, candidates) if c.span.start > best.span.start]
    if after and (says(markers, after[0].span.text, question)
                  or (why_or_how and restates(best.span.text, question))):
        return _joined(best, after[0])
    if not after and not best.span.text.rstrip("”’\"')").endswith((".", "!", "?", ":")):
        # a line with no stop ("- We are limited to Bash 3.2"), and its reason on the next one
        nxt = sorted((c for c in candidates if c.span.doc_id == best.span.doc_id
                      and c.span.start > best.span.end), key=lambda c: c.span.start)[:1]
        if nxt and says(markers, nxt[0].span.text, question):
            joined = _introduced(best, nxt, lambda covered: best.coverage, colon=False)
            return joined[0] if joined else best
    return best


def _with_code(question: str, best: _Candidate, candidates: list[_Candidate]) -> _Candidate:
    """For "how do I ...?", `best` that gives no command, with the block of code lines or the
    steps (list items) right under it, after a blank line at most ("Rich can be installed in the
    REPL." and "`>>> pretty.install()`"; "This is the easiest way to backport a fix." and "- Clone
    ...", "- Apply ...")."""
    if not asks_procedure(question) or says(wanted(question), best.span.text, question) or best.bullets:
        return best
    after = sorted((c for c in candidates if c.span.doc_id == best.span.doc_id
                    and c.span.start > best.span.end and (c.bullets or _block_line(c))),
                   key=lambda c: c.span.start)
    if after and after[0].bullets:          # a list merged under its own lead-in: not this one's
        return best
    joined = _introduced(best, after[:_CODE_LINES], lambda covered: best.coverage, colon=False)
    if joined is None or not _BULLET.match(joined[0].span.text.split("\n")[-1]):
        return joined[0] if joined else best
    lines = joined[0].span.text.split("\n")
    return replace(joined[0], bullets=tuple(_BULLET.sub("", line) for line in lines if _BULLET.match(line)))


def _adjacent(best: _Candidate, candidates: list[_Candidate]) -> list[_Candidate]:
    """The sentences right before and after `best` in its paragraph (not list items)."""
    hit = best.hit
    if (best.bullets or hit.doc_id != best.span.doc_id
            or not hit.start <= best.span.start <= best.span.end <= hit.end):
        return []
    return [c for c in candidates if c.span.doc_id == best.span.doc_id and c is not best and not c.bullets
            and (_between(hit, best.span, c.span) is not None or _between(hit, c.span, best.span) is not None)]


def _between(hit: Hit, a: Span, b: Span) -> str | None:
    """The blank between `a` and `b` when b follows a in the same line of `hit`, else None."""
    gap = hit.text[a.end - hit.start:b.start - hit.start]
    fits = hit.start <= a.start and a.end <= b.start and b.end <= hit.end
    return gap if fits and not gap.strip() and "\n" not in gap else None


def _joined(best: _Candidate, other: _Candidate) -> _Candidate:
    first, last = sorted((best, other), key=lambda c: c.span.start)
    text = first.span.text + _between(best.hit, first.span, last.span) + last.span.text
    vec = best.vec + other.vec
    return replace(best, span=Span(best.span.doc_id, first.span.start, last.span.end, text),
                   vec=vec / (np.linalg.norm(vec) or 1.0), covered=best.covered | other.covered)


def _with_quotes(best: _Candidate, candidates: list[_Candidate], most: int = 2) -> _Candidate:
    """`best` with up to `most` quotations that follow it in the same paragraph ("Others warn of
    the risks. 'It is a strategic asset,' said one."): the reason in the speaker's words."""
    hit, text, end = best.hit, best.span.text, best.span.end
    if hit.doc_id != best.span.doc_id:
        return best
    following = sorted((c for c in candidates if c.span.doc_id == hit.doc_id and c.span.start > end),
                       key=lambda c: c.span.start)
    quotes = []
    for c in following[:most]:
        between = hit.text[end - hit.start:c.span.start - hit.start]
        if (not hit.start <= end <= c.span.end <= hit.end
                or "\n" in between or between.strip() or not c.span.text.startswith(_QUOTES)):
            break
        quotes.append(c)
        text, end = text + between + c.span.text, c.span.end
    if not quotes:
        return best
    vec = best.vec + sum(q.vec for q in quotes)
    return replace(best, span=Span(best.span.doc_id, best.span.start, end, text),
                   vec=vec / (np.linalg.norm(vec) or 1.0),
                   covered=best.covered.union(*(q.covered for q in quotes)))


def _stance(text: str) -> int:
    """+1 a thing is to be given up/returned, -1 kept, 0 neither or both; a negation in the
    few words before the verb flips it ("will not abandon" keeps)."""
    release, keep = _verb(_RELEASE, text), _verb(_KEEP, text)
    if bool(release) == bool(keep):
        return 0
    verb = release or keep
    stance = 1 if release else -1
    window = " ".join(text[: verb.start()].split()[-4:])
    return -stance if _NEGATION.search(window) else stance


def _verb(pattern: re.Pattern, text: str) -> re.Match | None:
    """The first match of `pattern` used as a verb: "the return of X" names an idea, it does not
    say that X is returned."""
    return next((m for m in pattern.finditer(text)
                 if not _DETERMINER.search(text[: m.start()])), None)


def asks_stance(question: str) -> bool:
    """The question asks whether something is kept or given up ("Is X returning Y?", "What is X's
    position on Y?"; not why or how, nor who, when, which or how many: "On which site did X
    announce Y's return?" is no such question): only then do articles that take opposite stances
    disagree about the answer."""
    return not _CAUSE_ASKED.search(question) and not expected_kind(question) and bool(
        _STANCE_ASKED.search(question)
        or (_YES_NO.search(question) and (_RELEASE.search(question) or _KEEP.search(question))))


def _same_claim(a: _Candidate, b: _Candidate, t: Thresholds) -> bool:
    """Close in meaning and with the same numbers: "bought in 2015" and "bought in 2016" are two
    claims, and one does not support the other."""
    return (float(a.vec @ b.vec) >= t.duplicate_cos
            and set(_NUMBER.findall(a.span.text)) == set(_NUMBER.findall(b.span.text)))


def _contradicts(question: str, a: _Candidate, b: _Candidate, t: Thresholds) -> bool:
    """Two articles say opposite things about the same subject: for a when- or how-many-question,
    years or numbers that differ, where both sentences tell of the event asked about (each holds
    `conflict_coverage` of the question's terms, and every one the other holds: not "the deal
    was signed in 2017" against "deliveries began in 2019" for "when was the deal signed?"); for
    a question whether something is kept or given up, opposite stances."""
    if a.span.doc_id == b.span.doc_id or float(a.vec @ b.vec) < t.conflict_cos:
        return False
    kind = expected_kind(question)
    if kind in _FIGURES:
        asked = _figures(question, kind)
        fa, fb = (_figures(c.span.text, kind) - asked for c in (a, b))
        return (bool(fa) and bool(fb) and not fa & fb and min(a.coverage, b.coverage) >= t.conflict_coverage
                and (a.covered <= b.covered or b.covered <= a.covered))
    return asks_stance(question) and _stance(a.span.text) * _stance(b.span.text) == -1


_FIGURES = ("time", "number")   # the kinds of answer two articles can give different figures for


def _figures(text: str, kind: str) -> set[str]:
    """The years a when-question ("time") asks for, or the other numbers a how-many-question does."""
    found = years(text)
    return found if kind == "time" else set(_NUMBER.findall(text)) - found


def _compose(question: str, chosen: list[_Candidate], candidates: list[_Candidate],
             t: Thresholds) -> Answer:
    citations: list[Citation] = []

    def cite(c: _Candidate) -> int:
        for existing in citations:
            if (existing.doc_id, existing.start) == (c.span.doc_id, c.span.start):
                return existing.n
        citations.append(Citation(n=len(citations) + 1, doc_id=c.span.doc_id, title=c.hit.title,
                                  snippet=c.span.text, start=c.span.start, end=c.span.end,
                                  score=round(c.score, 4)))
        return citations[-1].n

    sides = next(([a, b] for i, a in enumerate(chosen) for b in chosen[i + 1:]
                  if _contradicts(question, a, b, t)), None)
    if sides:   # the two sides first, then what else was chosen
        chosen = sides + [c for c in chosen if all(c is not side for side in sides)]
    parts = []
    for c in chosen:
        marks = [cite(c)]
        for other in candidates:   # the same claim in other articles: cite them too
            if len(marks) >= 3:
                break
            cited_docs = {x.doc_id for x in citations if x.n in marks}
            if other.span.doc_id not in cited_docs and _same_claim(other, c, t):
                marks.append(cite(other))
        parts.append(_as_answer_sentence(c) + " " + "".join(f"[{n}]" for n in marks))
    text = (DIFFER if sides else "") + " ".join(parts)
    return Answer(question=question, text=text, citations=tuple(citations))


def _as_answer_sentence(c: _Candidate) -> str:
    lines = c.span.text.split("\n")
    text = "\n".join(lines[:len(lines) - len(c.bullets)]) if c.bullets else c.span.text   # the lead-in
    text = _BULLET.sub("", text.strip())
    text = re.sub(r"^[A-Z][A-Za-z .'-]{1,40},\s+[A-Z][a-z]+ \d{1,2}(?:, \d{4})?\s*[-–—]\s*", "", text)
    if c.bullets:   # a group's label ("Operationally:") runs on into its first item
        items = "; ".join(b.rstrip(" .;") for b in c.bullets)      # items that end in "." too
        text += " " + re.sub(r":; ", ": ", items) + "."
    text = re.sub(r"(?<=[\w)\]])\n+(?=[A-Z“\"‘])", ". ", text)   # a line with no stop, and the next one
    return re.sub(r"\n+", " ", text)


def joined(question: str, answers: Sequence[Answer], each: int) -> Answer | None:
    """The answers to the parts of a question that asks two things, as one answer: up to `each`
    sentences of every part that does not abstain, in order, citations renumbered; a sentence
    whose passages an earlier part already cites (or cites within a longer passage) is left out
    (the part's next one comes instead). None when every part abstains."""
    citations: list[Citation] = []
    pieces: list[str] = []
    for answer in (a for a in answers if not a.abstained):
        number: dict[int, int] = {}
        added = 0
        for c in answer.citations:
            same = next((x for x in citations if x.doc_id == c.doc_id                 # the same passage,
                         and x.start <= c.start and c.end <= x.end), None)           # or one that holds it
            number[c.n] = same.n if same else -c.n       # negative: new in this part
        for piece, marks in _PIECE.findall(answer.text):
            ns = [number.get(int(n), 0) for n in re.findall(r"\d+", marks)]
            if added >= each or all(n > 0 for n in ns):
                continue                                  # enough, or said already by an earlier part
            added += 1
            out = []
            for n in ns:
                if n < 0:
                    c = next(c for c in answer.citations if c.n == -n)
                    citations.append(replace(c, n=len(citations) + 1))
                    number[c.n] = n = len(citations)
                out.append(f"[{n}]")
            pieces.append(piece.strip() + " " + "".join(dict.fromkeys(out)))
    if not pieces:
        return None
    return Answer(question=question, text=" ".join(pieces), citations=tuple(citations))
