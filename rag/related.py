"""How close in meaning the question's words are to a sentence's words (term expansion).

A paraphrase shares no term with its answer: "How quickly could the penalties be scrapped?"
against "sanctions could be removed very soon". The sentence model, given one word at a time,
puts "penalties" near "sanctions" and "scrapped" near "removed", and unrelated words far apart.
`WordVectors` embeds each word once per process (cached, bounded) with the index's own model;
`closest` gives, for each of the question's terms, how close the nearest word of each sentence
is. It knows no corpus and no list of synonyms. It does not decide anything: the answerer turns
closeness into partial credit for a question term a sentence lacks.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Sequence

import numpy as np

from index.terms import STOPWORDS, stem, words


class WordVectors:
    """Each word's vector from `embed` (texts -> unit rows), computed once and kept for the
    `most` words used last. Safe to share between threads."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], most: int = 20_000) -> None:
        self._embed, self._most = embed, most
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, words_: Sequence[str]) -> np.ndarray:
        """One row for each of `words_` (at least one word)."""
        with self._lock:
            new = [w for w in dict.fromkeys(words_) if w not in self._cache]
            if new:
                for w, v in zip(new, np.asarray(self._embed(new), dtype=np.float32)):
                    self._cache[w] = v
            rows = []
            for w in words_:
                self._cache.move_to_end(w)
                rows.append(self._cache[w])
            while len(self._cache) > self._most:
                self._cache.popitem(last=False)
            return np.stack(rows)


def _content(text: str) -> list[str]:
    """The words of `text` worth comparing: not stop words, letters only, three or more."""
    return [w for w in dict.fromkeys(words(text)) if w not in STOPWORDS and w.isalpha() and len(w) > 2]


def closest(vectors: WordVectors, terms_: Sequence[str], question: str,
            texts: Sequence[str]) -> list[dict[str, float]]:
    """For each text, {term: cosine of the term's question word and the text's nearest word},
    for the question's words whose terms are in `terms_`."""
    asked: dict[str, str] = {}                       # term -> the question's word for it
    for w in _content(question):
        if stem(w) in terms_:
            asked.setdefault(stem(w), w)
    per_text = [_content(t) for t in texts]
    vocab = list(dict.fromkeys(w for ws in per_text for w in ws))
    if not asked or not vocab:
        return [{} for _ in texts]
    q = vectors(list(asked.values()))
    sims = q @ vectors(vocab).T                      # question words x vocabulary
    column = {w: i for i, w in enumerate(vocab)}
    out = []
    for ws in per_text:
        if not ws:
            out.append({})
            continue
        best = sims[:, [column[w] for w in ws]].max(axis=1)
        out.append({t: float(b) for t, b in zip(asked, best)})
    return out
