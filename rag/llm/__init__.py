"""The LLM room: one small chat protocol, one file per backend.

- remote.py: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Ollama), over HTTP.
- local.py: a GGUF model run in this process by llama.cpp (xllamacpp), loaded once per process.
- gguf.py: finds the model file: the user's own GGUF, or the bundled one assembled from its
  package chunks into the model cache.

Both backends offer the same calls: `complete(messages)` -> Completion, and `stream(messages)`
yielding text deltas and then one Completion; closing the stream's iterator cancels generation.
A delta may be "" (the local model says it is still reading the prompt): a consumer's chance to
stop before the first token.
Failures are `LLMUnavailable` with a one-line message. `open_llm(settings)` picks the backend:
a configured server first, else the local model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

from rag.llm.records import Completion, Message
from rag.llm.remote import ChatLLM

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["ChatLLM", "ChatModel", "Completion", "Message", "open_llm", "local_available"]


class ChatModel(Protocol):
    model: str          # a name for people and for token counting
    where: str          # where it runs, for messages ("http://host/v1", "this process")

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0) -> Completion: ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
               temperature: float = 0.0) -> Iterator[str | Completion]: ...


def local_available(settings: "Settings") -> bool:
    """Can the local backend run? (llama.cpp installed, and a model file set or bundled.)"""
    from rag.llm import gguf

    return settings.llm_gguf != gguf.OFF and gguf.runtime_installed() and (
        bool(settings.llm_gguf) or gguf.bundled_installed())


def open_llm(settings: "Settings", notify: Callable[[str], None] | None = None) -> ChatModel:
    """The configured server's adapter, else the local model (loaded now)."""
    if settings.llm_configured:
        return ChatLLM.from_settings(settings)
    from rag.llm.local import LocalLLM

    return LocalLLM.from_settings(settings, notify=notify)
