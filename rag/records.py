"""Records that cross rag's seams: a retrieved Hit, a Citation, and the Answer; `article_text`
reads an article's text off the hits that hold it.

`Answer.to_dict()` is the one JSON shape used by `rag ask --json`, the HTTP API and eval runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    date: str
    text: str
    start: int
    end: int
    score: float                  # fused score (higher is better)
    dense: float = 0.0            # cosine similarity, 0 when only BM25 found it
    lexical: float = 0.0          # BM25 score, 0 when only the vectors found it


def article_text(hits: Sequence[Hit], doc_id: str, start: int, end: int) -> tuple[int, str]:
    """(start, the cleaned article text from `start` to `end`), pieced together from the
    retrieved chunks of `doc_id` (which overlap or touch); (0, "") where they leave a gap."""
    at, text = -1, ""
    for s, t in sorted((h.start, h.text) for h in hits if h.doc_id == doc_id):
        if at >= 0 and s <= at + len(text):
            text += t[at + len(text) - s:]
        elif at <= start and end <= at + len(text):
            break
        else:
            at, text = s, t
    if 0 <= at <= start and end <= at + len(text):
        return start, text[start - at:end - at]
    return 0, ""


@dataclass(frozen=True)
class Citation:
    n: int                        # the [n] marker in the answer text, 1-based
    doc_id: str
    title: str
    snippet: str                  # == cleaned article text[start:end]
    start: int
    end: int
    score: float

    def to_dict(self) -> dict:
        return {"n": self.n, "doc_id": self.doc_id, "title": self.title, "snippet": self.snippet,
                "start": self.start, "end": self.end, "score": round(self.score, 4)}

    @classmethod
    def from_dict(cls, d: dict) -> "Citation":
        return cls(n=int(d["n"]), doc_id=str(d["doc_id"]), title=str(d.get("title", "")),
                   snippet=str(d["snippet"]), start=int(d["start"]), end=int(d["end"]),
                   score=float(d.get("score", 0.0)))


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    mode: str = "extractive"
    notice: str = ""              # e.g. "LLM unreachable: answered extractively"
    query: str = ""               # the question as answered: a follow-up resolved, typos read
    scope: str = ""               # the title of the one article the question named and was asked of
    timings_ms: dict[str, float] = field(default_factory=dict)
    usage: dict[str, float] = field(default_factory=dict)
    draft: bool = False           # the instant extractive answer shown while an LLM writes
    read: tuple[Citation, ...] = ()   # the passages an LLM was shown, numbered as in its prompt

    def to_dict(self) -> dict:
        out = {"question": self.question, "answer": self.text, "abstained": self.abstained,
               "mode": self.mode, "citations": [c.to_dict() for c in self.citations],
               "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()}}
        if self.notice:
            out["notice"] = self.notice
        if self.query and self.query != self.question:
            out["query"] = self.query
        if self.scope:
            out["scope"] = self.scope
        if self.usage:
            out["usage"] = self.usage
        if self.draft:
            out["draft"] = True
        if self.read:
            out["read"] = [c.to_dict() for c in self.read]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Answer":
        """The inverse of `to_dict` (a saved answer read back)."""
        return cls(question=str(d["question"]), text=str(d["answer"]),
                   citations=tuple(Citation.from_dict(c) for c in d.get("citations", ())),
                   abstained=bool(d.get("abstained", False)), mode=str(d.get("mode", "extractive")),
                   notice=str(d.get("notice", "")), query=str(d.get("query", "")),
                   scope=str(d.get("scope", "")),
                   timings_ms=dict(d.get("timings_ms", {})), usage=dict(d.get("usage", {})),
                   draft=bool(d.get("draft", False)),
                   read=tuple(Citation.from_dict(c) for c in d.get("read", ())))
