"""Turn text into search terms: lower-case, English-stemmed, stop words removed.

Shared by the lexical index and by anything that compares question terms with passages, so both
sides always agree. Accents are folded ("Erdoğan" and "Erdogan" are one term), and so are
country spellings ("U.S.", "American" -> "us"). Designators are joined ("F-35", "F 35" -> "f35";
"S-400" -> "s400"), so a missing hyphen in the source does not hide a match.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# Common spellings of the same country, folded to one term ("American law" finds "US law").
_ALIASES = ((re.compile(r"\bU\.S\.A?\.?(?=\W|$)|\bUnited States(?: of America)?\b|\bAmerica(?:n|ns)?\b"), "US"),
            (re.compile(r"\bU\.K\.?(?=\W|$)|\bUnited Kingdom\b|\bBritain\b|\bBritish\b"), "UK"),
            (re.compile(r"\bTürkiye\b|\bTurkiye\b"), "Turkey"))
_DESIGNATOR = re.compile(r"\b([a-z])[- ](\d{1,4})\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[^\W\d_a-z]+")   # after folding: a-z, or another script
_IDENTIFIER = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")         # "max_retries", "PYENV_ROOT"
_MARKS = re.compile(r"[\u0300-\u036f]")                # accents, once split from their letters
_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})
# what makes two indexes' terms differ: an index built with another version is rebuilt
VERSION = 3   # 2: accents folded ("Erdoğan" -> "erdogan"), letters beyond a-z kept; 3: identifiers
STOPWORDS = frozenset(STOPWORDS_EN) | {
    "s", "t", "also", "said", "says", "would", "could", "what", "who", "whom", "which", "when",
    "where", "why", "how", "does", "did", "do", "doing", "done", "much", "many"}
_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def fold(text: str) -> str:
    """`text` with country spellings folded ("United States" -> "US"), case kept."""
    for pattern, name in _ALIASES:
        text = pattern.sub(name, text)
    return text


def plain(text: str) -> str:
    """Lower case with accents folded: "Erdoğan" and "Erdogan" are one word."""
    if text.isascii():
        return text.lower()
    bare = _MARKS.sub("", unicodedata.normalize("NFKD", text.lower().translate(_LETTERS)))
    # other scripts' marks join their letters again; lower case once more ("™" came apart as "TM")
    return unicodedata.normalize("NFC", bare).lower()


def words(text: str) -> list[str]:
    """Lower-case word tokens, accents folded, designators joined, possessives dropped; no
    stemming. An identifier written with underscores is a word of its own, besides its parts
    ("MAX_RETRIES" -> "max", "retries", "max_retries"): a question naming it finds it alone."""
    return list(_words(text))


def terms(text: str) -> list[str]:
    """Stemmed content terms, in order, with repeats (what BM25 indexes)."""
    return list(_terms(text))


# A question's reading tokenizes the same retrieved sentences many times over: the last few
# thousand texts are remembered (a warm query spent a fifth of its time here).
@lru_cache(maxsize=4096)
def _words(text: str) -> tuple[str, ...]:
    text = _DESIGNATOR.sub(r"\1\2", plain(fold(text)))
    out = [w.split("'")[0].split("’")[0] for w in _TOKEN.findall(text)]
    if "_" in text:
        out += _IDENTIFIER.findall(text)
    return tuple(out)


@lru_cache(maxsize=4096)
def _terms(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit()))
