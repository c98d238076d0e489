"""Eval metrics that need no LLM: retrieval, answer overlap, citations, abstention, latency.

Pure functions on plain values (ranked id lists, strings, vectors, booleans), so each can be
tested on tiny hand-made inputs. The two that need a model take the embedding function as an
argument (`embed(texts) -> rows L2-normalised`). Nothing here runs the assistant.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

Embed = Callable[[Sequence[str]], np.ndarray]


# -- retrieval ------------------------------------------------------------------------------
def dedupe(ranked: Iterable[str]) -> list[str]:
    """Ranked ids with repeats removed (a document ranks where its best passage ranks)."""
    seen: set[str] = set()
    return [x for x in ranked if not (x in seen or seen.add(x))]


def hit_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    rel = set(relevant)
    return float(any(x in rel for x in dedupe(ranked)[:k]))


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel & set(dedupe(ranked)[:k])) / len(rel)


def mrr(ranked: Sequence[str], relevant: Iterable[str], k: int | None = None) -> float:
    rel = set(relevant)
    for i, x in enumerate(dedupe(ranked)[:k]):
        if x in rel:
            return 1.0 / (i + 1)
    return 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, float] | Iterable[str], k: int) -> float:
    """nDCG with linear gains (as trec_eval/BEIR): `relevant` maps id -> grade, or is a set (grade 1)."""
    gains = dict(relevant) if isinstance(relevant, Mapping) else {x: 1.0 for x in relevant}
    dcg = sum(gains.get(x, 0.0) / math.log2(i + 2) for i, x in enumerate(dedupe(ranked)[:k]))
    ideal = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


# -- answers ----------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation to spaces, whitespace collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)          # 1,000 -> 1000
    text = re.sub(r"([$%€£])", r" \1 ", text)              # "$600" -> "$ 600"
    text = re.sub(r"[^\w$%€£.']+|(?<!\d)\.|\.(?!\d)|'", " ", text)
    return " ".join(text.split())


def contains_fact(answer: str, variants: Sequence[str]) -> bool:
    """True when any variant occurs in the answer (after normalising both), starting at a word
    start. A variant may be a word stem ("interoperab" matches "interoperability"), except when it
    ends in a number or a short word (<= 3 letters), which must end at a word end ("40" is not
    found in "400", "X" is not found in "Xbox")."""
    hay = f" {normalise(answer)} "
    for variant in variants:
        needle = normalise(variant)
        if not needle:
            continue
        last = needle.split()[-1]
        whole = any(ch.isdigit() for ch in last) or len(last) <= 3
        if f" {needle}{' ' if whole else ''}" in hay:
            return True
    return False


def key_fact_recall(answer: str, key_facts: Sequence[Sequence[str]]) -> float:
    """Share of key facts (each a list of accepted variants) the answer states."""
    if not key_facts:
        return 1.0
    return sum(contains_fact(answer, variants) for variants in key_facts) / len(key_facts)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style bag-of-tokens F1 after normalising (articles dropped)."""
    drop = {"a", "an", "the"}
    pred = [t for t in normalise(prediction).split() if t not in drop]
    ref = [t for t in normalise(reference).split() if t not in drop]
    if not pred or not ref:
        return float(pred == ref)
    common: dict[str, int] = {}
    for t in pred:
        common[t] = common.get(t, 0) + 1
    overlap = 0
    for t in ref:
        if common.get(t, 0) > 0:
            overlap += 1
            common[t] -= 1
    if overlap == 0:
        return 0.0
    p, r = overlap / len(pred), overlap / len(ref)
    return 2 * p * r / (p + r)


def semantic_similarity(prediction: str, reference: str, embed: Embed) -> float:
    """Cosine similarity of the two texts' embeddings (rows are L2-normalised)."""
    vectors = embed([prediction, reference])
    return float(np.clip(vectors[0] @ vectors[1], -1.0, 1.0))


# -- citations (ALCE-style, with a local support check) ---------------------------------------
_MARKS = re.compile(r"\[(\d+)\]")


def answer_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into sentences, each with the citation numbers it carries.

    A sentence's citations are the [n] marks after it (before the next sentence starts)."""
    out: list[tuple[str, list[int]]] = []
    # no split after an initial ("U.S. Ambassador", "Washington, D.C. The")
    for piece in re.split(r"(?<=\])\s+(?=[^\[])|(?<=[.!?])(?<![A-Z]\.)\s+(?=[A-Z\"“(])", text.strip()):
        marks = [int(m) for m in _MARKS.findall(piece)]
        sentence = _MARKS.sub("", piece).strip()
        if sentence and re.search(r"\w", sentence):
            out.append((sentence, marks))
    return out


def citation_scores(text: str, passages: Mapping[int, str],
                    supports: Callable[..., bool], question: str = "") -> tuple[float, float]:
    """ALCE citation recall and precision of one answer.

    recall: share of sentences whose cited passages, together, support the sentence.
    precision: share of citations that are needed: a citation counts when its passage alone
    supports the sentence, or when removing it makes the others stop supporting it.
    `supports(sentence, passages, question)` is the support check (see `SupportCheck`): as in
    AIS, an answer is read as the answer to its question.
    Uncited sentences of under four content words (connectives such as "Reports differ.") are
    not claims and are skipped. An answer with no claims scores (1.0, 1.0)."""
    sentences = [(s, marks) for s, marks in answer_sentences(text)
                 if marks or len(_content_words(s)) >= 4]   # "Reports differ." is no claim
    if not sentences:
        return 1.0, 1.0
    supported, good, total = 0, 0, 0
    for sentence, marks in sentences:
        cited = [passages[n] for n in marks if n in passages]
        ok = bool(cited) and supports(sentence, cited, question)
        supported += ok
        for i, n in enumerate(marks):
            total += 1
            if n not in passages:
                continue
            alone = supports(sentence, [passages[n]], question)
            others = [passages[m] for j, m in enumerate(marks) if j != i and m in passages]
            needed = ok and not (others and supports(sentence, others, question))
            good += alone or needed
    return supported / len(sentences), (good / total if total else 1.0)


class SupportCheck:
    """A local entailment stand-in: a passage set supports a sentence when their embeddings are
    close and the passages contain the sentence's content words (numbers must match exactly).

    Not an NLI model: it catches citations to unrelated or off-topic passages and sentences
    whose numbers or names are not in the source, which is what an extractive or lightly
    paraphrasing answerer gets wrong.

    As in AIS ("according to the passage, A answers Q"), a sentence is read as the answer to
    its question. What a wh-question takes for granted is the user's premise, not the answer's
    claim: the passages must hold most of the sentence's words, or most of the words it adds to
    the question, and every number it adds. A yes/no question grants nothing (its words are the
    claim)."""

    def __init__(self, embed: Embed, *, min_cos: float = 0.6, min_overlap: float = 0.6) -> None:
        self.embed, self.min_cos, self.min_overlap = embed, min_cos, min_overlap
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, sentence: str, passages: Sequence[str], question: str = "") -> bool:
        joined = " ".join(passages)
        if normalise(sentence) and normalise(sentence) in normalise(joined):
            return True
        have = set(_content_words(joined))
        words = _content_words(sentence)
        asked = set() if _YES_NO.match(question) else set(_content_words(question))
        added = [w for w in words if w not in asked]
        if any(w not in have for w in added if any(ch.isdigit() for ch in w)):
            return False                   # a number the answer gives must be in the passages
        if not any(self._covered(ws, have) for ws in (words, added) if ws):
            return False
        vs = self.vectors([sentence, *passages])
        return float(max(vs[0] @ v for v in vs[1:])) >= self.min_cos

    def _covered(self, words: Sequence[str], have: set[str]) -> bool:
        return sum(w in have for w in words) / len(words) >= self.min_overlap

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts`, each text embedded once per SupportCheck (a memo)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            for t, v in zip(todo, self.embed(todo)):
                self._cache[t] = v
        return np.stack([self._cache[t] for t in texts])


_YES_NO = re.compile(r"\s*(?:is|are|was|were|am|do|does|did|will|would|can|could|should|shall|may|"
                     r"might|must|has|have|had)\b", re.I)
_STOP = set("a an the of to in on at by for and or but with as from that this these those is are "
            "was were be been being it its he she they them his her their has have had will would "
            "could should can may might not no said says say also than then there which who whom "
            "what when where why how into over about after before under more most such".split())


def _content_words(text: str) -> list[str]:
    return [w for w in normalise(text).split() if w not in _STOP and len(w) > 1 or w.isdigit()]


def share_in(cited_docs: Sequence[str], gold_docs: Iterable[str]) -> float | None:
    """Share of citations pointing into the gold articles (None when nothing is cited)."""
    if not cited_docs:
        return None
    gold = set(gold_docs)
    return sum(d in gold for d in cited_docs) / len(cited_docs)


# -- abstention -------------------------------------------------------------------------------
def abstention(answerable: Sequence[bool], abstained: Sequence[bool]) -> dict[str, float]:
    """Precision/recall of abstaining on unanswerable questions, and false abstentions (the share
    of answerable questions the assistant refused)."""
    pairs = list(zip(answerable, abstained))
    refused = [a for a, ab in pairs if ab]
    unanswerable = [ab for a, ab in pairs if not a]
    answerable_refused = [ab for a, ab in pairs if a]
    tp = sum(1 for a, ab in pairs if ab and not a)
    return {
        "abstain_precision": tp / len(refused) if refused else 1.0,
        "abstain_recall": tp / len(unanswerable) if unanswerable else 1.0,
        "false_abstentions": (sum(answerable_refused) / len(answerable_refused)
                              if answerable_refused else 0.0),
    }


# -- latency ----------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not len(values):
        return 0.0
    return float(np.percentile(np.asarray(values, dtype=float), q))


def latency(timings: Sequence[Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """p50/p95 in ms for every stage that appears in the per-question timings."""
    stages = sorted({s for t in timings for s in t})
    return {s: {"p50": round(percentile([t[s] for t in timings if s in t], 50), 2),
                "p95": round(percentile([t[s] for t in timings if s in t], 95), 2)}
            for s in stages}


# -- how sure a score is ----------------------------------------------------------------------
def wilson(share: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a proportion `share` of `n` trials: where the true rate
    lies, given so few questions (0.69 of 29 could be anything from about 0.51 to 0.83)."""
    if n <= 0:
        return 0.0, 1.0
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def discordant(first: Sequence[bool], second: Sequence[bool]) -> tuple[int, int]:
    """Paired outcomes on the same questions: (right only in the first, right only in the second).
    Only these questions tell the two apart."""
    pairs = list(zip(first, second))
    return sum(a and not b for a, b in pairs), sum(b and not a for a, b in pairs)


def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None
