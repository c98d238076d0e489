"""What crosses the LLM room's interface: chat messages in, a Completion out."""

from __future__ import annotations

from dataclasses import dataclass

Message = dict[str, str]


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str = ""       # "stop", "length", ...; "" when the backend did not say
    prompt_tokens: int = 0        # as reported by the backend; 0 when it did not report usage
    completion_tokens: int = 0
    attempts: int = 1
    cached_tokens: int = 0        # prompt tokens the backend reused from its cache (local model)
