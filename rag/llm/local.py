"""The local backend: a GGUF model run in this process by llama.cpp (xllamacpp).

The model is loaded once per process and shared by every Assistant and thread. It answers one
question at a time (one llama.cpp slot: on a laptop CPU two at once would each go at half
speed); others queue for at most `busy_wait_s`, then get LLMUnavailable saying the model is busy.
The slot keeps its KV cache between questions, so the fixed system prompt that starts every
prompt is read once (`warm` reads it at load). llama.cpp runs outside the GIL: the rest of the
process (health checks, extractive answers) stays responsive while it generates.

llama.cpp also opens an HTTP listener on 127.0.0.1 that nothing here uses: it is locked with a
random API key that never leaves this process, and its extra endpoints are off.
"""

from __future__ import annotations

import os
import queue
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from rag.errors import LLMUnavailable
from rag.llm import gguf
from rag.llm.records import Completion, Message

if TYPE_CHECKING:
    from rag.settings import Settings

_END = object()
# llama.cpp reads the prompt this many tokens at a time, and between them a stopped stream can end
# it: a step of the bundled 1.5B model takes 1.2-1.3 s on 2 cores; 64 would be under a second but
# reads about 6% slower (docs/llm.md)
PROMPT_STEP = 96
_loaded: dict[tuple, object] = {}      # every in-process model of either runtime, by its key
_loading = threading.Lock()


class _Model:
    """One loaded llama.cpp server and the slot that guards it."""

    def __init__(self, path: Path, threads: int, context: int, repack: bool) -> None:
        import xllamacpp as xl

        params = xl.CommonParams()
        params.model.path = str(path)
        params.n_ctx = context
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.n_batch = params.n_ubatch = PROMPT_STEP
        params.no_extra_bufts = not repack   # llama.cpp's repacked weights: see Settings.llm_repack
        params.warmup = False
        params.verbosity = -1
        params.api_keys = [secrets.token_hex(16)]
        params.endpoint_props = params.endpoint_slots = params.endpoint_metrics = False
        try:
            self.server = xl.Server(params)
        except Exception as exc:
            raise LLMUnavailable(f"llama.cpp could not load {path} ({exc}): check that it is a chat "
                                 "model in GGUF format, or set RAG_LLM_GGUF to another") from None
        self.slot = threading.Semaphore(1)
        self.warm_prefix: str | None = None


def loaded(key: tuple, load: Callable[[], object]):
    """The model loaded under `key` in this process, loaded by `load()` the first time."""
    with _loading:
        if key not in _loaded:
            _loaded[key] = load()
        return _loaded[key]


def unload_all() -> None:
    """Forget every loaded model (llama.cpp and OpenVINO); each is freed once no backend holds it.
    A benchmark comparing settings calls this between them: two models in one process slow each
    other."""
    with _loading:
        _loaded.clear()


def threads_for(setting: int) -> int:
    """0 means every core this process may use (llama.cpp's own default is half of them)."""
    if setting > 0:
        return setting
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 8))
    except AttributeError:
        return max(1, min(os.cpu_count() or 1, 8))


class InProcess:
    """What both in-process runtimes share: `_m`, the loaded model, has a one-question `slot` and
    the `warm_prefix` it was warmed with."""
    model: str
    threads: int
    busy_wait_s: float

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model!r}, threads={self.threads})"

    def warm(self, system: str) -> None:
        """Answer one word after `system` now: llama.cpp keeps the system prompt cached, OpenVINO
        compiles its kernels, and the first question waits for neither."""
        if self._m.warm_prefix != system:
            self.complete([{"role": "system", "content": system}, {"role": "user", "content": "Hi"}],
                          max_tokens=1)
            self._m.warm_prefix = system

    def _take_slot(self) -> None:
        """The model's one slot, waited for at most busy_wait_s; the caller releases it."""
        if not self._m.slot.acquire(timeout=self.busy_wait_s):
            raise LLMUnavailable(f"the local model is busy with other questions (waited "
                                 f"{self.busy_wait_s:g}s): try again in a moment, or use --mode extractive")


class LocalLLM(InProcess):
    where = "this process (llama.cpp)"

    def __init__(self, path: Path, *, threads: int = 0, context: int = 4096,
                 repack: bool = False, busy_wait_s: float = 30.0, max_wait_s: float = 300.0) -> None:
        self.path, self.model = Path(path), Path(path).stem
        self.threads, self.context = threads_for(threads), context
        self.busy_wait_s, self.max_wait_s = busy_wait_s, max_wait_s
        self._m = loaded(("llama.cpp", str(self.path.resolve()), self.threads, self.context, repack),
                         lambda: _Model(self.path, self.threads, self.context, repack))

    @classmethod
    def from_settings(cls, settings: "Settings",
                      notify: Callable[[str], None] | None = None) -> "LocalLLM":
        path = gguf.model_file(settings.llm_gguf, settings.models_dir, notify)
        return cls(path, threads=settings.llm_threads, context=settings.llm_context_window,
                   repack=settings.llm_repack == "on",
                   busy_wait_s=settings.llm_busy_wait_s, max_wait_s=settings.llm_max_wait_s)

    # -- the two calls ------------------------------------------------------------------------
    def complete(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0) -> Completion:
        self._take_slot()
        try:
            reply = self._m.server.handle_chat_completions(self._request(messages, max_tokens, temperature))
        finally:
            self._m.slot.release()
        _raise_if_error(reply)
        try:
            choice = reply["choices"][0]
            return _completion(choice["message"].get("content") or "", choice.get("finish_reason"),
                               reply.get("usage"))
        except (KeyError, IndexError, TypeError, AttributeError):
            raise LLMUnavailable("the local model sent a malformed reply: try again, or set "
                                 "RAG_LLM_GGUF to another model") from None

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
               temperature: float = 0.0) -> Iterator[str | Completion]:
        """Deltas as llama.cpp writes them, then the Completion. While the prompt is read, an
        empty delta after each PROMPT_STEP tokens, so a consumer may stop there too. Closing the
        iterator stops llama.cpp at its next step or token and frees the model for the next
        question."""
        request = {**self._request(messages, max_tokens, temperature), "stream": True,
                   "stream_options": {"include_usage": True}, "return_progress": True}
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        self._take_slot()

        def on_event(event: dict) -> bool:
            events.put(event)
            return stop.is_set()          # True tells llama.cpp to stop generating

        def work() -> None:
            try:
                self._m.server.handle_chat_completions(request, on_event)
            except Exception as exc:      # noqa: BLE001 - handed to the reader below
                events.put(exc)
            finally:
                events.put(_END)
                self._m.slot.release()

        threading.Thread(target=work, name="llama.cpp", daemon=True).start()
        deadline = time.monotonic() + self.max_wait_s
        parts: list[str] = []
        finish, usage = "", None
        try:
            while True:
                try:
                    event = events.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    raise LLMUnavailable(f"the local model took longer than {self.max_wait_s:g}s: raise "
                                         "RAG_LLM_MAX_WAIT_S, or lower RAG_LLM_MAX_TOKENS") from None
                if event is _END:
                    break
                if isinstance(event, Exception):
                    raise LLMUnavailable(f"the local model failed ({type(event).__name__}): try again") from None
                _raise_if_error(event)
                if event.get("prompt_progress") is not None:
                    yield ""              # still reading the prompt: a chance to stop
                usage = event.get("usage") or usage
                for choice in event.get("choices") or ():
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        parts.append(delta)
                        yield delta
                    finish = choice.get("finish_reason") or finish
        finally:
            stop.set()
        yield _completion("".join(parts), finish, usage)

    # -- plumbing -------------------------------------------------------------------------------
    def _request(self, messages: Sequence[Message], max_tokens: int, temperature: float) -> dict:
        return {"messages": list(messages), "max_tokens": max_tokens, "temperature": temperature,
                "cache_prompt": True}


def _raise_if_error(reply: dict) -> None:
    error = reply.get("error") if isinstance(reply, dict) else None
    if error is None and isinstance(reply, dict) and "code" in reply and "message" in reply:
        error = reply
    if error is None:
        return
    message = str(error.get("message") if isinstance(error, dict) else error)
    if "context" in message.lower():
        raise LLMUnavailable("the question and its sources do not fit the local model's context: "
                             "raise RAG_LLM_CONTEXT_WINDOW, or lower RAG_LLM_EVIDENCE_TOKENS")
    raise LLMUnavailable(f"the local model failed: {' '.join(message.split())[:200]}")


def _completion(text: str, finish: str | None, usage: dict | None) -> Completion:
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    return Completion(text=text, finish_reason=str(finish or ""),
                      prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0),
                      cached_tokens=int(details.get("cached_tokens") or 0))
