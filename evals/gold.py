"""Load and validate a gold question set (JSON Lines, one question per line).

Each line has: id, type, question, history [[question, answer], ...], answerable, gold_answer,
key_facts [[variant, ...], ...], articles [doc id, ...], quotes {doc id: verbatim quote}, and
split ("dev" or "test"): prompts and thresholds are tuned on dev only; reports give test. The
split was made once (alternating within each question type, by id) and is kept in the file;
q66-q86 were added later to dev only, written from the articles without sight of the test split,
and kept only where they shared no supporting quote or key facts with a test question.
Validation is structural only (fields, types, ids unique, an answerable question has facts,
articles and one quote per article); that every quote occurs in its cleaned article is checked
by a test against the real index, because only the index knows the cleaned text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

DEFAULT_SET = Path(__file__).resolve().parent / "gold.jsonl"


class BadGoldSet(RagError):
    """The gold set file is missing or malformed."""


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    type: str
    question: str
    history: tuple[tuple[str, str], ...]
    answerable: bool
    gold_answer: str
    key_facts: tuple[tuple[str, ...], ...]
    articles: tuple[str, ...]
    quotes: dict[str, str]
    split: str = ""


SPLITS = ("dev", "test", "all")


def load_gold(path: str | Path = DEFAULT_SET, split: str = "all") -> list[GoldQuestion]:
    """The questions of `split` ("dev", "test" or "all")."""
    if split not in SPLITS:
        raise BadGoldSet(f"split {split!r} does not exist: use one of {', '.join(SPLITS)}")
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise BadGoldSet(f"gold set {path} does not exist: pass --set PATH to a .jsonl file") from None
    out: list[GoldQuestion] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadGoldSet(f"{path}:{n}: not valid JSON ({exc.msg}): fix the line") from None
        q = _parse(row, f"{path}:{n}")
        if q.id in seen:
            raise BadGoldSet(f"{path}:{n}: id {q.id!r} is used twice: give each question its own id")
        seen.add(q.id)
        out.append(q)
    if not out:
        raise BadGoldSet(f"gold set {path} has no questions")
    if split != "all":
        out = [q for q in out if q.split == split]
        if not out:
            raise BadGoldSet(f"gold set {path} has no {split} questions: give each line a \"split\"")
    return out


def _parse(row: dict, where: str) -> GoldQuestion:
    def need(name: str, kind):
        if name not in row or not isinstance(row[name], kind):
            raise BadGoldSet(f"{where}: field {name!r} is missing or not {getattr(kind, '__name__', kind)}")
        return row[name]

    question = need("question", str).strip()
    if not question:
        raise BadGoldSet(f"{where}: the question is empty")
    history = need("history", list) if "history" in row else []
    if not all(isinstance(t, list) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in history):
        raise BadGoldSet(f"{where}: history must be a list of [question, answer] pairs")
    answerable = need("answerable", bool)
    facts = need("key_facts", list) if "key_facts" in row else []
    if not all(isinstance(f, list) and f and all(isinstance(v, str) and v for v in f) for f in facts):
        raise BadGoldSet(f"{where}: key_facts must be a list of non-empty lists of variants")
    articles = need("articles", list) if "articles" in row else []
    quotes = need("quotes", dict) if "quotes" in row else {}
    if answerable:
        if not facts or not articles:
            raise BadGoldSet(f"{where}: an answerable question needs key_facts and articles")
        missing = [a for a in articles if not quotes.get(a)]
        if missing:
            raise BadGoldSet(f"{where}: no supporting quote for article(s) {', '.join(missing)}")
    return GoldQuestion(id=str(need("id", str)), type=need("type", str), question=question,
                        history=tuple((a, b) for a, b in history), answerable=answerable,
                        gold_answer=str(row.get("gold_answer", "")),
                        key_facts=tuple(tuple(f) for f in facts), articles=tuple(articles),
                        quotes=dict(quotes), split=str(row.get("split", "")))


def with_typo(question: str) -> str:
    """`question` with one typo: in its longest lower-case word of six letters or more, the first
    two different letters from the middle on swapped ("require" -> "reuqire", "ambassador" ->
    "ambasasdor"); unchanged when it has no such word."""
    found = re.findall(r"\b[a-z]{6,}\b", question)
    if not found:
        return question
    word = max(found, key=len)
    i = next((j for j in range(len(word) // 2 - 1, len(word) - 1) if word[j] != word[j + 1]), None)
    if i is None:
        return question
    return re.sub(rf"\b{word}\b", word[:i] + word[i + 1] + word[i] + word[i + 2:], question, count=1)
