"""The offline answerer: pick the sentences of the retrieved passages that best answer.

No LLM. Each candidate sentence is scored by semantic similarity to the question (stored
sentence embeddings), IDF-weighted coverage of the question's terms, and the rank of the passage
it came from. Then up to `max_sentences` are chosen greedily: near-duplicates are skipped, a
sentence must add coverage or a second article's view, and agreeing articles are cited together.
When chosen sentences from different articles contradict each other (same topic, opposite
negation), the answer says so and keeps both, each with its citation. When nothing is close
enough, or the question hinges on terms the corpus never uses, it abstains and cites nothing.
It does not parse files or talk to stores: it gets hits and sentences and returns an Answer.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from index.records import Span
from index.terms import terms, words
from rag.records import Answer, Citation, Hit

ABSTAIN_TEXT = "The corpus does not contain an answer to this question."
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|can't|won't|isn't|aren't|wasn't|doesn't|didn't|"
                       r"refus\w*|reject\w*|ruled out|rules out|barred|unwilling)\b|n't\b", re.I)


@dataclass(frozen=True)
class Thresholds:
    """Answerability calibration, grid-searched on evals/gold.jsonl (see docs/evals.md)."""
    min_score: float = 0.38        # best combined score below this: abstain
    min_semantic: float = 0.35     # best sentence similarity below this: abstain
    unknown_share: float = 0.5     # share of question-term weight the corpus never uses ...
    unknown_semantic: float = 0.55 # ... abstains unless the best similarity reaches this
    keep_ratio: float = 0.75       # a further sentence must score this share of the best
    duplicate_cos: float = 0.86    # two sentences this similar are the same claim
    conflict_cos: float = 0.5      # same-topic threshold for a contradiction


@dataclass
class _Candidate:
    span: Span
    vec: np.ndarray
    hit: Hit
    semantic: float
    coverage: float
    covered: frozenset
    score: float


class ExtractiveAnswerer:
    def __init__(self, df: dict[str, int], n_chunks: int, *, max_sentences: int = 4,
                 thresholds: Thresholds = Thresholds()) -> None:
        self.df, self.n = df, max(n_chunks, 1)
        self.max_sentences, self.t = max_sentences, thresholds

    def answer(self, question: str, vector: np.ndarray, hits: Sequence[Hit],
               sentences: Sequence[tuple[Span, np.ndarray]]) -> Answer:
        weights = {t: self._idf(t) for t in set(terms(question))}
        candidates = self._score(weights, vector, hits, sentences)
        if self._abstain(weights, candidates):
            return Answer(question=question, text=ABSTAIN_TEXT, abstained=True)
        chosen = self._choose(candidates)
        return _compose(question, chosen, candidates, self.t)

    # -- scoring ----------------------------------------------------------------------------
    def _idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5))

    def _score(self, weights: dict[str, float], vector: np.ndarray, hits: Sequence[Hit],
               sentences: Sequence[tuple[Span, np.ndarray]]) -> list[_Candidate]:
        rank = {(h.doc_id, h.start, h.end): i for i, h in enumerate(hits)}
        total = sum(weights.values()) or 1.0
        out = []
        for span, vec in sentences:
            hit_index = min(i for (doc, s, e), i in rank.items()
                            if doc == span.doc_id and s <= span.start and span.end <= e)
            covered = frozenset(weights) & set(terms(span.text))
            coverage = sum(weights[t] for t in covered) / total
            semantic = float(vector @ vec)
            score = 0.55 * semantic + 0.35 * coverage + 0.10 / (1 + hit_index)
            n_words = len(words(span.text))
            if n_words < 6 or not span.text.rstrip("”’\"')").endswith((".", "!", "?")):
                score *= 0.7   # headings, list fragments and stubs rarely answer on their own
            out.append(_Candidate(span, vec, hits[hit_index], semantic, coverage, covered, score))
        return sorted(out, key=lambda c: -c.score)

    def _abstain(self, weights: dict[str, float], candidates: list[_Candidate]) -> bool:
        if not candidates or not weights:
            return not candidates
        best_score = candidates[0].score
        best_semantic = max(c.semantic for c in candidates)
        unknown = sum(w for t, w in weights.items() if self.df.get(t, 0) == 0)
        unknown_share = unknown / (sum(weights.values()) or 1.0)
        return (best_score < self.t.min_score or best_semantic < self.t.min_semantic
                or (unknown_share >= self.t.unknown_share and best_semantic < self.t.unknown_semantic))

    # -- choosing ---------------------------------------------------------------------------
    def _choose(self, candidates: list[_Candidate]) -> list[_Candidate]:
        best = candidates[0]
        chosen = [best]
        covered = set(best.covered)
        for cand in candidates[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if any(_same_claim(cand, c, self.t) for c in chosen):
                continue
            conflict = any(_contradicts(cand, c, self.t) for c in chosen)
            strong = cand.score >= self.t.keep_ratio * best.score
            new_terms = bool(cand.covered - covered)
            new_article = cand.span.doc_id not in {c.span.doc_id for c in chosen}
            if (strong and (new_terms or new_article)) or (conflict and cand.score >= 0.7 * best.score):
                chosen.append(cand)
                covered |= cand.covered
        return chosen


def _same_claim(a: _Candidate, b: _Candidate, t: Thresholds) -> bool:
    return float(a.vec @ b.vec) >= t.duplicate_cos


def _contradicts(a: _Candidate, b: _Candidate, t: Thresholds) -> bool:
    return (a.span.doc_id != b.span.doc_id and float(a.vec @ b.vec) >= t.conflict_cos
            and bool(_NEGATION.search(a.span.text)) != bool(_NEGATION.search(b.span.text)))


def _compose(question: str, chosen: list[_Candidate], candidates: list[_Candidate],
             t: Thresholds) -> Answer:
    citations: list[Citation] = []
    parts: list[str] = []

    def cite(c: _Candidate) -> int:
        for existing in citations:
            if (existing.doc_id, existing.start) == (c.span.doc_id, c.span.start):
                return existing.n
        citations.append(Citation(n=len(citations) + 1, doc_id=c.span.doc_id, title=c.hit.title,
                                  snippet=c.span.text, start=c.span.start, end=c.span.end,
                                  score=c.score))
        return citations[-1].n

    for c in chosen:
        marks = [cite(c)]
        # the same claim reported by other articles: cite them too (agreement across sources)
        for other in candidates:
            if len(marks) >= 3:
                break
            if (other.span.doc_id not in {c.span.doc_id} | {x.doc_id for x in citations if x.n in marks}
                    and _same_claim(other, c, t)):
                marks.append(cite(other))
        parts.append(_as_answer_sentence(c.span.text) + " " + "".join(f"[{n}]" for n in marks))
    disagree = any(_contradicts(a, b, t) for i, a in enumerate(chosen) for b in chosen[i + 1:])
    text = ("Reports differ. " if disagree else "") + " ".join(parts)
    return Answer(question=question, text=text, citations=tuple(citations))


def _as_answer_sentence(sentence: str) -> str:
    sentence = re.sub(r"^[-•*–]\s+", "", sentence.strip())
    sentence = re.sub(r"^[A-Z][A-Za-z .'-]{1,40},\s+[A-Z][a-z]+ \d{1,2}(?:, \d{4})?\s*[-–—]\s*", "", sentence)
    return sentence
