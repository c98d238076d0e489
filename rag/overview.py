"""Summary requests ("Summarize the articles", "Give me an overview of the ferry talks"),
answered from the articles' own sentences, each cited, with no LLM.

`subject(question)` tells a summary request from a question: None for a question, "" for a
summary of everything indexed, else the topic to summarise. `of_articles` answers with each
article's lead (its first full sentence, where a news article puts its gist), newest first;
`of_topic` with the best sentence of each article the topic's passages come from. A question
asks for one fact; a summary wants one sentence from each article, which neither answerer
would pick. It knows nothing of the index: the Assistant passes documents or ranked sentences in.
"""

from __future__ import annotations

import re
from typing import Sequence

from index.records import Document, Span
from index.sentences import split_sentences
from index.terms import words
from rag.records import Answer, Citation, Hit

MOST = 6                      # articles in one summary

_ASK = r"^\s*(?:(?:please|can you|could you|would you)\s+)?"
_VERB = (r"(?:summari[sz]e|sum up|recap|(?:(?:give|show|write|make)(?: me)? )?(?:a |an )?"
         r"(?:short |brief |quick )?(?:summary|overview|recap|rundown)(?: of)?|tl;? ?dr(?: of)?)")
_SUMMARY = re.compile(_ASK + _VERB + r"\b\s*(?P<rest>.*?)[\s.?!:]*$", re.I | re.S)
_ALL = re.compile(r"^\s*(?:what (?:are|is) (?:the |these |this )?(?:articles?|documents?|sources?|stories|"
                  r"story|news|corpus) about|(?:what(?:'s|’s| is| are)\s+)?(?:the\s+)?(?:latest|newest|recent)"
                  r"(?: news| headlines| stories| articles)?|what(?:'s|’s| is) new|any news)[\s?.!]*$", re.I)
# "the articles", "what the sources say about", "about", "on": the words before the topic
_FRAME = re.compile(r"^(?:(?:what )?(?:the |these |this |those |all (?:the )?|my |our )?"
                    r"(?:articles?|documents?|sources?|news|stories|story|corpus|texts?|files?|coverage|"
                    r"reports?)\b\s*(?:(?:say|says|said|report|reports|write|cover)\s*)?)?"
                    r"(?:about|on|of|regarding)?\s*", re.I)


def subject(question: str) -> str | None:
    """None when `question` is not a summary request, "" for everything, else the topic."""
    if _ALL.match(question):
        return ""
    m = _SUMMARY.match(question)
    if m is None:
        return None
    return _FRAME.sub("", m.group("rest"), count=1).strip()


def lead(text: str) -> tuple[int, int] | None:
    """The first full sentence of `text` (not a heading or a list item), as offsets."""
    for s, e in split_sentences(text):
        if _full(text[s:e]):
            return s, e
    return None


def newest(docs: Sequence, most: int = MOST) -> list:
    """The `most` newest documents (anything with .date and .doc_id): dated ones first."""
    return sorted(docs, key=lambda d: (d.date[:4].isdigit(), d.date, d.doc_id), reverse=True)[:most]


def of_articles(question: str, docs: Sequence[Document], total: int) -> Answer:
    """Each article's lead, cited, in the order given; a notice when `total` articles are more."""
    cited = []
    for doc in docs:
        at = lead(doc.text)
        if at is not None:
            cited.append(Citation(len(cited) + 1, doc.doc_id, doc.title, doc.text[at[0]:at[1]], *at, 1.0))
    notice = (f"the {len(docs)} newest of {total} articles: ask about a topic, or choose articles, "
              "to summarise others") if total > len(docs) else ""
    return _answer(question, cited, notice)


def of_topic(question: str, scored: Sequence[tuple[Span, float]], hits: Sequence[Hit],
             share: float = 0.7) -> Answer:
    """The best full sentence of each article among `hits` (`scored` is best first) that scores
    at least `share` of the best one: an article that only mentions the topic is left out."""
    titles = {h.doc_id: h.title for h in hits}
    best = max((score for span, score in scored if _full(span.text)), default=0.0)
    cited: list[Citation] = []
    for span, score in scored:
        if (span.doc_id in titles and _full(span.text) and score >= share * best
                and span.doc_id not in {c.doc_id for c in cited}):
            cited.append(Citation(len(cited) + 1, span.doc_id, titles[span.doc_id], span.text,
                                  span.start, span.end, 1.0))
            if len(cited) == MOST:
                break
    return _answer(question, cited, "")


def _answer(question: str, cited: Sequence[Citation], notice: str) -> Answer:
    if not cited:
        return Answer(question=question, text="There is nothing indexed to summarise.", abstained=True,
                      notice=notice)
    text = " ".join(f"{' '.join(c.snippet.split())} [{c.n}]" for c in cited)
    return Answer(question=question, text=text, citations=tuple(cited), notice=notice)


def _full(sentence: str) -> bool:
    return len(words(sentence)) >= 6 and sentence.rstrip("”’\"')").endswith((".", "!", "?"))
