"""Split cleaned text into sentences, as (start, end) character offsets.

Rule-based on purpose: fast, deterministic, and exact about offsets. A line break always ends a
sentence (cleaning has already joined lines that break mid-sentence); inside a line, a sentence
ends at . ! ? (plus closing quotes) followed by space and an upper-case letter, digit or quote,
unless the full stop belongs to a known abbreviation or an initial, or numbers a list item ("2.
Ships pay ...").

Linear in the length of the text, however long its lines: a run of punctuation is matched once
(possessive, and only from its first character) and an abbreviation is looked for only in the
few characters before the full stop.
"""

from __future__ import annotations

import re

_END = re.compile(r"(?<![.!?…])[.!?…]++[\"”’')\]]*+(?=\s++[\"“‘'(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"(?:\b(?:U\.S|U\.K|U\.N|E\.U|Mr|Mrs|Ms|Dr|Gen|Sen|Rep|Lt|Col|Gov|St|Jr|"
                     r"Inc|Co|No|vs|etc|e\.g|i\.e|approx|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|"
                     r"Oct|Nov|Dec)|\b[A-Z])\.$")
_ITEM_NUMBER = re.compile(r"\s*\d{1,2}[.)]")
_ABBREV_CHARS = len("approx.")   # the longest abbreviation, with its full stop


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of `text`, shifted by `offset`; whitespace is never inside a span's ends."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start = pos
        for match in _END.finditer(line):
            stop = match.start() + 1
            if match.group(0) == "." and _ABBREV.search(line, max(0, stop - _ABBREV_CHARS), stop):
                continue
            if _ITEM_NUMBER.fullmatch(line, 0, match.end()):
                continue      # "1. It's reversible": the number of a list item, not a sentence
            _add(spans, text, pos + start - pos, pos + match.end(), offset)
            start = pos + match.end()
        _add(spans, text, start, pos + len(line), offset)
        pos += len(line) + 1
    return spans


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int, offset: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start + offset, end + offset))
