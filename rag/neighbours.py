"""The corpus's words for a question's words that no indexed text uses: its neighbours, the
indexed words whose MiniLM vectors lie within `cos` of its own ("envoy" -> "ambassador",
"quarrel" -> "disputes", "concentrating" -> "focused").

The offline answerer counts such a question term as found in a sentence that has one of its
neighbours, so a question in other words than the article's still finds the sentence that
answers it. A word the corpus uses is matched as it is: given neighbours too, "law" would find
any sentence with "legal" as well as the one with "law". Only the answerer's term coverage uses
them, never retrieval (tried: BM25 with the neighbours added found worse passages). The
corpus's word vectors are stored at ingest; the question's words are embedded when asked.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from index.terms import stem, vocabulary, words

Neighbours = dict[str, frozenset[str]]   # a question term (stemmed) -> its neighbours' terms
_NAME = re.compile(r"(?<=\w[\s,;:(\"“‘'])([A-Z][\w'’-]*)")    # a capitalised word inside the question


class WordNeighbours:
    def __init__(self, words: Sequence[str], vectors: np.ndarray, embed: Callable[[list[str]], np.ndarray],
                 cos: float, memo: int = 1024) -> None:
        self._terms = np.array([stem(w) for w in words], dtype=object)
        self._known = frozenset(self._terms)
        self._vectors, self._embed, self.cos = vectors, embed, cos
        self._find = lru_cache(maxsize=memo)(self._find_now)    # a question is scored more than once

    def __call__(self, question: str) -> Neighbours:
        """Each question word that no indexed text uses, by its term, with its neighbours."""
        if not self._known or self.cos <= 0:
            return {}
        names = set(words(" ".join(_NAME.findall(question))))     # "Greece" is not "Russia"
        return self._find(tuple(sorted(w for w in vocabulary(question)
                                       if stem(w) not in self._known and w not in names)))

    def _find_now(self, asked: tuple[str, ...]) -> Neighbours:
        out: Neighbours = {}
        for word, sims in zip(asked, self._embed(list(asked)) @ self._vectors.T if asked else ()):
            near = frozenset(self._terms[sims >= self.cos])
            if near:
                out[stem(word)] = near
        return out
