"""Offline follow-up resolution: turn "What did he tell Reuters?" into a standalone query.

Uses only the chat history, no model: a personal pronoun is replaced by the most recent person
name in the history; any other follow-up (a pronoun like "it"/"they", or a short elliptical
question such as "And the US?") gets the previous question's key words appended. A question
that stands on its own is returned unchanged.
"""

from __future__ import annotations

import re
from typing import Sequence

from index.terms import STOPWORDS, words

History = Sequence[tuple[str, str]]

_PERSON_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers)\b", re.I)
_OTHER_REFERENCE = re.compile(r"\b(it|its|they|them|their|theirs|this|that|these|those|there|"
                              r"the same|then)\b", re.I)
_NAME = re.compile(r"\b([A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ]+){1,2})\b")
_NOT_NAMES = {"United States", "White House", "Defense Ministry", "Defence Ministry", "Foreign Minister",
              "Turkish Defense", "Turkish Foreign", "Black Sea", "Middle East", "Eastern Mediterranean"}
_LEADING = {"Who", "What", "When", "Where", "Why", "How", "Which", "The", "And", "But", "Did", "Does",
            "Is", "Are", "Was", "Were", "Has", "Have", "Tell", "US", "Turkish", "Turkey", "President",
            "Ambassador", "Minister", "Foreign", "Defense", "Defence", "Russian", "American"}


def standalone_query(question: str, history: History = ()) -> str:
    if not history:
        return question
    person = _last_person(history)
    if person and _PERSON_PRONOUN.search(question):
        def swap(match: re.Match) -> str:
            word = match.group(1).lower()
            return f"{person}'s" if word in ("his", "hers") or (word == "her" and _possessive(match)) else person
        return _PERSON_PRONOUN.sub(swap, question, count=1)
    content = [w for w in words(question) if w not in STOPWORDS]
    if _OTHER_REFERENCE.search(question) or len(content) <= 2:
        last_question = history[-1][0]
        context = " ".join(w for w in re.findall(r"[\w’'-]+", last_question)
                           if w.lower() not in STOPWORDS and w.lower() not in {"what", "who", "how", "why"})
        return f"{question} ({context})" if context else question
    return question


def _last_person(history: History) -> str:
    for user, assistant in reversed(history):
        for text in (user, assistant):
            names = [_strip_titles(m) for m in _NAME.findall(text)]
            names = [n for n in names if n and n not in _NOT_NAMES]
            if names:
                return names[0]
    return ""


def _strip_titles(name: str) -> str:
    parts = name.split()
    while parts and parts[0] in _LEADING:
        parts = parts[1:]
    return " ".join(parts) if len(parts) >= 2 else ""


def _possessive(match: re.Match) -> bool:
    rest = match.string[match.end():].lstrip()
    following = rest.split(" ", 1)[0].lower().strip("?.,!") if rest else ""
    return bool(following) and following not in STOPWORDS | {"say", "tell", "told", "said"}
