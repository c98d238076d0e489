"""An optional LLM judge: correctness (against the gold answer) and faithfulness (to the cited
passages), each 0 or 1, asked of the configured OpenAI-compatible LLM.

It adds two numbers to a run when an LLM is configured; it never replaces the local metrics, and
a judge that fails or replies out of format scores None (not counted), never a guess.
"""

from __future__ import annotations

import json
import re

from rag.errors import LLMUnavailable

_PROMPT = """You grade an answer to a question about news articles.
Question: {question}
Gold answer: {gold}
Answer to grade: {answer}
Passages the answer cites:
{passages}

Reply with JSON only: {{"correct": 1 or 0, "faithful": 1 or 0}}.
"correct": the answer states what the gold answer states (wording may differ).
"faithful": every claim in the answer is supported by the cited passages."""


class LLMJudge:
    def __init__(self, llm) -> None:
        self.llm = llm    # anything with complete(messages, max_tokens=...) -> .text

    @classmethod
    def from_settings(cls, settings) -> "LLMJudge":
        from rag.llm import ChatLLM

        return cls(ChatLLM.from_settings(settings))

    def grade(self, question: str, gold: str, answer) -> dict:
        passages = "\n".join(f"[{c.n}] {c.snippet}" for c in answer.citations) or "(none)"
        prompt = _PROMPT.format(question=question, gold=gold or "(the corpus cannot answer this)",
                                answer=answer.text, passages=passages)
        try:
            reply = self.llm.complete([{"role": "user", "content": prompt}], max_tokens=40).text
        except LLMUnavailable:
            return {"llm_correct": None, "llm_faithful": None}
        match = re.search(r"\{.*?\}", reply, re.S)
        try:
            data = json.loads(match.group(0)) if match else {}
        except json.JSONDecodeError:
            data = {}
        return {name: (float(data[key]) if data.get(key) in (0, 1) else None)
                for name, key in (("llm_correct", "correct"), ("llm_faithful", "faithful"))}
