"""The LLM answerer: prompt -> LLM (a server or the local model) -> verified Answer, plain or streamed.

Given the retrieved hits (and their stored sentences), it builds the numbered-source prompt
(prompt.py: the best sentences within a token budget, or whole chunks), calls the LLM (rag/llm/),
and checks every sentence and citation of the reply (citations.py). What the user gets:
- a verified answer (mode "llm"), with a notice when citations or sentences had to be dropped;
- an abstention (abstained, no citations) when the model says the sources lack the answer;
- the extractive answer (mode "extractive", itself an abstention when the offline answerer
  finds nothing) with a one-line notice naming the cause when nothing the model wrote survives
  verification (invented names, numbers, unsupported claims), when the model gives part of a
  list that the offline answer gives whole, describes its passages ("the passage states
  that ...") instead of answering, wrote more sentences that no passage supports than ones that
  are, or wrote a sentence no passage supports and what is left once it is cut is not close to
  the question (unless the offline answer abstains), or when the LLM fails
  (unreachable, busy, bad key, timeout, cut stream, malformed reply). An unverified LLM answer
  is never returned.
It also rewrites a follow-up into a standalone search query. It does not retrieve, and knows
nothing of Chroma or the catalog: the Assistant passes hits, sentences and a fallback in.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from typing import Callable, Iterator, Sequence

import numpy as np

from index.records import Span
from rag.answer_type import (asks_named_person, expected_kind, holds_role, left_out, names_person, places,
                             supplies, where)
from rag.citations import Passage, Thresholds, describe, parse_markers, strip_markers, verify
from rag.errors import LLMUnavailable
from rag.llm import ChatModel, Completion
from rag.parts import question_parts
from rag.prices import cost_usd
from rag.prompt import NOT_FOUND, Prompt, Tokens, build_evidence_prompt, build_prompt, rewrite_messages
from rag.records import Answer, Citation, Hit, article_text

History = Sequence[tuple[str, str]]
ABSTAIN_TEXT = NOT_FOUND         # what the prompt tells the model to say, so a stream ends as it began
_NOT_FOUND = re.compile(
    r"\b(?:sources?|passages?|articles?|context|documents?|provided (?:text|information))\b[^.]{0,40}?"
    r"\b(?:do(?:es)?n[o’']?t|do(?:es)? not|did not|never)\s+(?:contain|mention|say|include|provide|"
    r"discuss|specify|state|address|cover|answer)"
    r"|\bnot (?:in|found in|mentioned in|covered by|contained in) the (?:sources?|passages?|articles?)"
    r"|\bno (?:information|mention|details?) (?:about|of|on|regarding)"
    r"|\bI (?:cannot|can't|can not|don't|do not) (?:know|find|answer)", re.I)
# what the evidence prompt calls its sources: an answer that speaks of them ("the passage states
# that ...") is describing what it read, not answering, unless a passage it cites uses the word
_PASSAGE = re.compile(r"\bpassages?\b", re.I)


class GenerativeAnswerer:
    def __init__(self, llm: ChatModel, embedder, *, context_window: int = 8192,
                 max_answer_tokens: int = 256, price: tuple[float, float] | None = None,
                 thresholds: Thresholds = Thresholds(),
                 weight: Callable[[str], float] | None = None, prompt: str = "evidence",
                 evidence_tokens: int = 320) -> None:
        """`weight(term)` (IDF over the index) lets rare terms count more in support checks;
        `prompt` is "evidence" (the best sentences, within `evidence_tokens`) or "chunks"."""
        self.llm, self.embedder, self.weight = llm, embedder, weight
        self.context_window, self.max_answer_tokens = context_window, max_answer_tokens
        self.prompt_style, self.evidence_tokens = prompt, evidence_tokens
        self.price, self.thresholds = price, thresholds
        self.tokens = Tokens(llm.model)

    # -- follow-ups ---------------------------------------------------------------------------
    def rewrite(self, question: str, history: History) -> tuple[str, Completion]:
        """A standalone search query for a follow-up ("" when the reply is unusable).
        Raises LLMUnavailable."""
        messages = rewrite_messages(question, history, model=self.llm.model,
                                    budget=self.context_window // 2)
        completion = self.llm.complete(messages, max_tokens=96)
        completion = replace(completion, prompt_tokens=completion.prompt_tokens
                             or self.tokens.messages(messages))
        query = completion.text.strip().splitlines()[0] if completion.text.strip() else ""
        query = re.sub(r"^(?:standalone )?(?:search )?query:\s*", "", query, flags=re.I).strip(" \"'“”")
        if not query or len(query) > 3 * len(question) + 200:
            query = ""
        return query, completion

    # -- answering ----------------------------------------------------------------------------
    def prompt(self, question: str, hits: Sequence[Hit], ranked: Sequence[Span],
               sentences: Sequence[tuple[Span, np.ndarray]], history: History) -> Prompt:
        if self.prompt_style == "evidence":
            return build_evidence_prompt(question, hits, ranked, [s for s, _ in sentences], history,
                                         model=self.llm.model, budget=self.evidence_tokens)
        return build_prompt(question, hits, history, model=self.llm.model,
                            context_window=self.context_window, max_answer_tokens=self.max_answer_tokens)

    def run(self, question: str, hits: Sequence[Hit], sentences: Sequence[tuple[Span, np.ndarray]],
            history: History, fallback: Callable[[], Answer], *, ranked: Sequence[Span] = (),
            stream: bool = False, spent: Sequence[Completion] = ()) -> Iterator[str | Answer]:
        """Yield text deltas (only when `stream`) as the LLM writes, then the final Answer.

        `ranked` are the sentences best first (the evidence prompt reads them); `fallback`
        computes the extractive answer; `spent` are earlier calls (the rewrite) whose tokens
        count towards this answer's usage. Closing the iterator stops the LLM."""
        timings: dict[str, float] = {}
        if not hits:
            yield self.fallback(fallback, "no passage matched, so the LLM was not asked", (), spent)
            return
        parts = question_parts(question) if self.prompt_style == "evidence" else [question]
        prompt = self.prompt(parts[0], hits, ranked, sentences, history)
        started = time.perf_counter()
        completion: Completion | None = None
        try:
            if stream:
                deltas = self._chat(prompt.messages, parts[1:])
                try:
                    for item in deltas:
                        if isinstance(item, Completion):
                            completion = item
                        else:
                            if item and "first_token" not in timings:
                                timings["first_token"] = (time.perf_counter() - started) * 1e3
                            yield item
                finally:
                    deltas.close()      # a consumer that stops reading stops the LLM
            else:
                completion = self._chat_once(prompt.messages, parts[1:])
        except LLMUnavailable as exc:
            yield self.fallback(fallback, str(exc), (prompt,), spent)
            return
        timings["llm"] = (time.perf_counter() - started) * 1e3
        t0 = time.perf_counter()
        answer = self._judge(question, completion, prompt, hits, sentences, fallback, spent)
        timings["verify"] = (time.perf_counter() - t0) * 1e3
        yield replace(answer, timings_ms={**answer.timings_ms, **timings}, read=shown(prompt, hits))

    def _chat(self, messages: list, more: Sequence[str]) -> Iterator[str | Completion]:
        """Stream the answer to `messages`, then to each further part of the question, asked
        as the next turn of the same chat (the model keeps the passages it has read), as one
        reply: the deltas, then one Completion."""
        replies: list[Completion] = []
        for part in ["", *more]:
            if part:
                messages = _next_turn(messages, replies[-1], part)
                yield " "
            deltas = self.llm.stream(messages, max_tokens=self.max_answer_tokens)
            try:
                for item in deltas:
                    if isinstance(item, Completion):
                        replies.append(item)
                    else:
                        yield item
            finally:
                deltas.close()
        yield _joined(replies)

    def _chat_once(self, messages: list, more: Sequence[str]) -> Completion:
        replies = [self.llm.complete(messages, max_tokens=self.max_answer_tokens)]
        for part in more:
            messages = _next_turn(messages, replies[-1], part)
            replies.append(self.llm.complete(messages, max_tokens=self.max_answer_tokens))
        return _joined(replies)

    def _judge(self, question: str, completion: Completion, prompt: Prompt, hits: Sequence[Hit],
               sentences: Sequence[tuple[Span, np.ndarray]], fallback: Callable[[], Answer],
               spent: Sequence[Completion]) -> Answer:
        passages = [Passage(s.n, s.hit, s.text, tuple(sorted(
            ((span, vec) for span, vec in sentences
             if span.doc_id == s.hit.doc_id and s.hit.start <= span.start and span.end <= s.end),
            key=lambda sv: sv[0].start)), article=article_text(hits, s.hit.doc_id, s.hit.start, s.end))
            for s in prompt.sources]
        text = join_initials(completion.text.strip(), " ".join(s.text for s in prompt.sources))
        # where the offline answerer finds the question unanswerable, a claim gets no credit for
        # the words it shares with the question ("X won the 2022 World Cup" needs them in a source)
        draft = fallback()
        strict = draft.abstained
        checked = verify(text, question, passages, self.embedder, self.thresholds, self.weight,
                         strict=strict)
        usage = self._usage(prompt, completion, spent)
        if not checked.citations:
            if _NOT_FOUND.search(text) or not text:
                return Answer(question=question, text=ABSTAIN_TEXT, abstained=True, mode="llm",
                              usage=usage)
            why = describe(checked.problems) if parse_markers(text) else "it cited no source"
            return self.fallback(fallback, "nothing the LLM wrote could be verified against the "
                                           f"sources ({why or 'unsupported'})", (prompt,), spent, completion)
        kind, plain = expected_kind(question), strip_markers(checked.text)
        if not supplies(kind, plain, question):
            return self.fallback(fallback, f"the LLM's answer names no {kind}, which the question "
                                           "asks for", (prompt,), spent, completion)
        if asks_named_person(question) and not names_person(plain, question):
            return self.fallback(fallback, "the LLM's answer names no person, which the question asks for",
                                 (prompt,), spent, completion)
        if kind == "place" and not where(plain, question) & set().union(
                *(where(c.snippet, question) | places(c.snippet) for c in checked.citations)):
            return self.fallback(fallback, "no passage the LLM cited gives the place it names",
                                 (prompt,), spent, completion)
        if not any(holds_role(c.snippet, question) for c in checked.citations):
            return self.fallback(fallback, "no passage the LLM cited names the role the question asks "
                                           "about", (prompt,), spent, completion)
        if not strict and left_out(question, plain, strip_markers(draft.text)):
            return self.fallback(fallback, "the LLM's answer left out items of a list the sources give",
                                 (prompt,), spent, completion)
        if _PASSAGE.search(plain) and not any(_PASSAGE.search(c.snippet) for c in checked.citations):
            return self.fallback(fallback, "the LLM's answer describes its passages instead of "
                                           "answering", (prompt,), spent, completion)
        if checked.removed * 2 > checked.claims:
            return self.fallback(fallback, "most of the LLM's answer was cut, as no source supports it "
                                           f"({describe(checked.problems)})", (prompt,), spent, completion)
        if checked.removed and not strict and not self._about(question, checked.text, self.thresholds.cut):
            # a sentence no source supports was cut, and what is left is beside the point
            return self.fallback(fallback, "what is left of the LLM's answer once the sentences no source "
                                           "supports are cut is not about the question", (prompt,),
                                 spent, completion)
        if strict and not self._about(question, checked.text, self.thresholds.on_topic):
            return self.fallback(fallback, "the LLM's answer is not about the question", (prompt,),
                                 spent, completion)
        notes = []
        if checked.problems:
            notes.append("citations checked: " + describe(checked.problems))
        if completion.finish_reason == "length":
            notes.append(f"the answer was cut at {self.max_answer_tokens} tokens (RAG_LLM_MAX_TOKENS)")
        return Answer(question=question, text=checked.text, citations=checked.citations, mode="llm",
                      notice="; ".join(notes), usage=usage)

    def _about(self, question: str, text: str, least: float) -> bool:
        """The answer's cosine to the question is at least `least` (a model that cannot answer
        may recite passages verbatim, which the citation check alone accepts)."""
        q, a = self.embedder.embed([question, strip_markers(text)])
        return float(q @ a) >= least

    def fallback(self, fallback: Callable[[], Answer], cause: str, prompts: Sequence[Prompt],
                  spent: Sequence[Completion], completion: Completion | None = None) -> Answer:
        answer = fallback()
        usage = self._usage(prompts[0], completion, spent) if prompts else self._usage(None, None, spent)
        cause = " ".join(cause.split()).rstrip(".")
        return replace(answer, mode="extractive", notice=f"{cause}; answered extractively instead",
                       usage=usage)

    def usage_of(self, spent: Sequence[Completion]) -> dict[str, float]:
        """The usage of earlier calls (a follow-up's rewrite) for an answer the LLM did not write."""
        return self._usage(None, None, spent)

    def _usage(self, prompt: Prompt | None, completion: Completion | None,
               spent: Sequence[Completion]) -> dict[str, float]:
        """Tokens as the server reported them, else as tiktoken counts them; cost when priced."""
        prompt_tokens = sum(c.prompt_tokens for c in spent)
        completion_tokens = sum(c.completion_tokens or self.tokens.count(c.text) for c in spent)
        if prompt is not None:
            prompt_tokens += (completion.prompt_tokens if completion and completion.prompt_tokens
                              else prompt.tokens)
            if completion is not None:
                completion_tokens += completion.completion_tokens or self.tokens.count(completion.text)
        usage: dict[str, float] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                   "llm_calls": len(spent) + (prompt is not None)}
        cached = sum(c.cached_tokens for c in (*spent, *([completion] if completion else [])))
        if cached:
            usage["cached_tokens"] = cached
        cost = cost_usd(prompt_tokens, completion_tokens, self.price)
        if cost is not None:
            usage["cost_usd"] = round(cost, 6)
        return usage


def _next_turn(messages: list, reply: Completion, part: str) -> list:
    return [*messages, {"role": "assistant", "content": reply.text}, {"role": "user", "content": f"Question: {part}"}]


def _joined(replies: Sequence[Completion]) -> Completion:
    """The replies to the parts of one question, as one reply."""
    if len(replies) == 1:
        return replies[0]
    cut = next((r.finish_reason for r in replies if r.finish_reason == "length"), replies[-1].finish_reason)
    return Completion(text=" ".join(r.text.strip() for r in replies), finish_reason=cut,
                      prompt_tokens=sum(r.prompt_tokens for r in replies),
                      completion_tokens=sum(r.completion_tokens for r in replies),
                      attempts=max(r.attempts for r in replies),
                      cached_tokens=sum(r.cached_tokens for r in replies))


def shown(prompt: Prompt, hits: Sequence[Hit]) -> tuple[Citation, ...]:
    """The passages the LLM was shown, each as the article's own text where the retrieved chunks
    hold it (the prompt joins a passage's sentences with single spaces)."""
    out = []
    for s in prompt.sources:
        start, text = article_text(hits, s.hit.doc_id, s.hit.start, s.end)
        if not text:
            start, text = s.hit.start, s.text
        out.append(Citation(n=s.n, doc_id=s.hit.doc_id, title=s.hit.title, snippet=text,
                            start=start, end=start + len(text), score=s.hit.score))
    return tuple(out)


_SPACED_INITIALS = re.compile(r"\b(?:[A-Z]\. ){1,3}[A-Z]\.")


def join_initials(text: str, sources: str) -> str:
    """"U. S." back to "U.S." where the sources write it so (some small models space out
    initials they read unspaced)."""
    def join(m: re.Match) -> str:
        joined = m.group(0).replace(" ", "")
        return joined if joined in sources else m.group(0)

    return _SPACED_INITIALS.sub(join, text)
