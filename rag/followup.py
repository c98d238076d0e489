"""Offline follow-up resolution: turn "What did he tell Reuters?" into a standalone query.

Uses only the chat history, no model: a personal pronoun is replaced by the most recent person
name in the history. Any other follow-up (a personal pronoun when the history names nobody by a
full name, a pronoun like "it"/"they", or a short elliptical question such as "And the US?")
gets the key words of the previous question, and of the first sentence of its answer, appended.
A question that stands on its own is returned unchanged.
"""

from __future__ import annotations

import re
from typing import Sequence

from index.terms import STOPWORDS, words
from rag.answer_type import not_a_person
from rag.extractive import DIFFER

History = Sequence[tuple[str, str]]

_PERSON_PRONOUN = re.compile(r"\b(he|she|him|her|his|hers)\b", re.I)
_OTHER_REFERENCE = re.compile(r"\b(it|its|they|them|their|theirs|this|that|these|those|there|"
                              r"the same|then)\b", re.I)
_NAME = re.compile(r"\b([A-Z][a-zà-ÿğışçöü]+(?:\s+[A-Z][a-zà-ÿğışçöü]+){1,5})\b")
_MARKS = re.compile(rf"\[\d+\]|^{re.escape(DIFFER.strip())}\s*")
_FIRST_SENTENCE = re.compile(r".*?[.!?](?=\s)|.*", re.S)
# words that open a name phrase without being the name: question words, titles, and a nationality
# or place word right before a title ("French Foreign Minister Ana Roy")
_QUESTION_WORDS = {"Who", "What", "When", "Where", "Why", "How", "Which", "The", "And", "But", "Did",
                   "Does", "Is", "Are", "Was", "Were", "Has", "Have", "Tell", "According"}
_TITLES = {"President", "Vice", "Prime", "Minister", "Foreign", "Defense", "Defence", "Interior",
           "Finance", "Trade", "Ambassador", "Secretary", "Senator", "Senate", "Representative",
           "General", "Admiral", "Colonel", "Chancellor", "King", "Queen", "Prince", "Princess",
           "Chief", "Director", "Governor", "Mayor", "Judge", "Justice", "Spokesman", "Spokeswoman",
           "Spokesperson", "Envoy", "Commander", "Chairman", "Chairwoman", "Chair", "Mr", "Mrs", "Ms",
           "Dr", "Professor", "Sir", "Lord", "Lady", "Pope", "Sheikh", "Deputy", "Acting", "Former"}


def standalone_query(question: str, history: History = ()) -> str:
    if not history:
        return question
    person = _last_person(history)
    pronoun = _PERSON_PRONOUN.search(question)
    if person and pronoun:
        def swap(match: re.Match) -> str:
            word = match.group(1).lower()
            return f"{person}'s" if word in ("his", "hers") or (word == "her" and _possessive(match)) else person
        return _PERSON_PRONOUN.sub(swap, question, count=1)
    content = [w for w in words(question) if w not in STOPWORDS]
    if pronoun or _OTHER_REFERENCE.search(question) or len(content) <= 2:
        last_question, last_answer = history[-1]
        said = _FIRST_SENTENCE.match(_MARKS.sub("", last_answer).strip() + " ").group(0)
        context = " ".join(dict.fromkeys(_key_words(last_question) + _key_words(said)[:8]))
        return f"{question} ({context})" if context else question
    return question


def _key_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w’'-]+", text)
            if w.lower() not in STOPWORDS and w.lower() not in {"what", "who", "how", "why"}]


def _last_person(history: History) -> str:
    for user, assistant in reversed(history):
        for text in (user, assistant):
            names = [_person(m) for m in _NAME.finditer(text)]
            names = [n for n in names if n]
            if names:
                return names[0]
    return ""


def _person(match: re.Match) -> str:
    """The person a run of capitalised words names, without the titles and the nationality or
    place before them ("Ambassador to Norland Ada Vale" -> "Ada Vale"); "" for a place or an
    institution ("Defense Ministry", "Eastern Sea") or a single word."""
    parts = match.group(1).split()
    if not_a_person(parts):
        return ""
    before = match.string[:match.start()].split()
    if len(parts) >= 3 and before and before[-1] in ("to", "of", "in", "from", "for"):
        parts = parts[1:]   # "Ambassador to Norland Ada Vale": the place ends the phrase before
    while parts and (parts[0] in _QUESTION_WORDS or parts[0] in _TITLES
                     or (len(parts) > 1 and parts[1] in _TITLES)):   # "Norlandic Foreign ..."
        parts = parts[1:]
    return " ".join(parts) if len(parts) >= 2 else ""


def _possessive(match: re.Match) -> bool:
    rest = match.string[match.end():].lstrip()
    following = rest.split(" ", 1)[0].lower().strip("?.,!") if rest else ""
    return bool(following) and following not in STOPWORDS | {"say", "tell", "told", "said"}
