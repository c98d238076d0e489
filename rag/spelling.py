"""Typos in a question, read as the indexed word one edit away ("requre" -> "require").

A misspelt word matches no indexed term: the answerer counts it as a term no sentence holds, and
the sentence model reads the question's meaning without it, so the answer abstains. The
answerers read the corrected question (retrieval searches what was typed: rag.assistant). A
word is corrected only when all of these hold: it is lower
case (a name the index lacks stays as asked: "no indexed article mentions Atlantis"), at least
six letters, neither indexed nor sharing a stem with an indexed word, not a common English word
(`is_common`: one token of the LLM tokeniser), and one edit (a letter added, dropped, changed or
two swapped) away from an indexed word seen at least twice, or its stem one edit from that
word's stem and the word two at most ("requre" for "requires", not "disagreeing" for
"disagreement"). The most frequent such word wins.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping

from index.terms import stem

_WORD = re.compile(r"\b[a-z]{6,}\b")


class Speller:
    def __init__(self, vocab: Mapping[str, int], is_common: Callable[[str], bool],
                 min_count: int = 2) -> None:
        """`vocab`: the index's words (lower case, accents folded) and how often each occurs."""
        self.vocab, self.is_common, self.min_count = vocab, is_common, min_count
        self._stems: dict[str, str] | None = None

    def correct(self, text: str) -> str:
        return _WORD.sub(lambda m: self._word(m.group(0)), text)

    def _word(self, word: str) -> str:
        if word in self.vocab or self.is_common(word):
            return word
        stems = self._stems
        if stems is None:                  # built at the first word the index does not hold
            stems = self._stems = self._by_stem()
        if stem(word) in stems:
            return word
        near = [w for w in _one_edit(word) if self.vocab.get(w, 0) >= self.min_count]
        if not near:                       # "requre" for "requires": the stems are one edit apart,
            near = [stems[s] for s in _one_edit(stem(word))   # and the words at most two
                    if s in stems and _distance(word, stems[s]) <= 2]
        return max(near, key=lambda w: (self.vocab[w], w), default=word)

    def _by_stem(self) -> dict[str, str]:
        """Each stem of a word seen `min_count` times or more, and its most frequent word."""
        best: dict[str, str] = {}
        for w, n in self.vocab.items():
            if n >= self.min_count:
                s = stem(w)
                if s not in best or (n, w) > (self.vocab[best[s]], best[s]):
                    best[s] = w
        return best


def _one_edit(word: str) -> set[str]:
    """Every string one edit from `word`: a letter dropped, two neighbours swapped, a letter
    changed or added."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in letters}
            | {a + c + b for a, b in splits for c in letters}) - {word}


def _distance(a: str, b: str) -> int:
    """Edits from `a` to `b` (letters dropped, added, changed, or neighbours swapped)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
