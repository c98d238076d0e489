"""The LLM room: one small chat protocol, one file per backend.

- remote.py: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Ollama), over HTTP.
- local.py: a GGUF model run in this process by llama.cpp (xllamacpp), loaded once per process.
- openvino.py: the same GGUF run in this process by OpenVINO GenAI: on a CPU that computes in
  bf16 it reads prompts several times as fast (`runtime_for` picks it there; `rag bench llm`).
- gguf.py: finds the model file: the user's own GGUF, or the bundled one assembled from its
  package chunks into the model cache.

Both backends offer the same calls: `complete(messages)` -> Completion, and `stream(messages)`
yielding text deltas and then one Completion; closing the stream's iterator cancels generation.
A delta may be "" (the local model says it is still reading the prompt): a consumer's chance to
stop before the first token.
Failures are `LLMUnavailable` with a one-line message. `open_llm(settings)` picks the backend:
a configured server first, else the local model on the runtime `runtime_for` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Protocol, Sequence

from rag.llm.records import Completion, Message
from rag.llm.remote import ChatLLM

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["ChatLLM", "ChatModel", "Completion", "Message", "open_llm", "local_available", "runtime_for"]


class ChatModel(Protocol):
    model: str          # a name for people and for token counting
    where: str          # where it runs, for messages ("http://host/v1", "this process")

    def complete(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0) -> Completion: ...

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
               temperature: float = 0.0) -> Iterator[str | Completion]: ...


def runtime_for(settings: "Settings") -> str:
    """"openvino" or "llama.cpp": the setting, or for "auto" OpenVINO where it is installed and
    the CPU computes in bf16 (there it reads prompts several times as fast), else llama.cpp."""
    if settings.llm_runtime != "auto":
        return settings.llm_runtime
    from rag.llm import openvino

    return "openvino" if openvino.installed() and openvino.computes_in_bf16() else "llama.cpp"


def local_available(settings: "Settings") -> bool:
    """Can the local backend run? (its runtime installed, and a model file set or bundled.)"""
    from rag.llm import gguf, openvino

    installed = openvino.installed() if runtime_for(settings) == "openvino" else gguf.runtime_installed()
    return settings.llm_gguf != gguf.OFF and installed and (bool(settings.llm_gguf) or gguf.bundled_installed())


def open_llm(settings: "Settings", notify: Callable[[str], None] | None = None) -> ChatModel:
    """The configured server's adapter, else the local model (loaded now)."""
    if settings.llm_configured:
        return ChatLLM.from_settings(settings)
    if runtime_for(settings) == "openvino":
        from rag.llm.openvino import OpenVinoLLM

        return OpenVinoLLM.from_settings(settings, notify=notify)
    from rag.llm.local import LocalLLM

    return LocalLLM.from_settings(settings, notify=notify)
