"""The local backend on OpenVINO GenAI: the same GGUF, run in this process by OpenVINO.

On a CPU that computes in bf16 (Intel AMX or AVX-512 BF16), OpenVINO reads a prompt several
times as fast as the llama.cpp wheel, which has AVX2 kernels only (`rag bench llm` runs both);
`rag.llm.runtime_for` picks it there. Its decoding is slower per step, so it guesses the next
few tokens from the prompt (prompt lookup: an answer quotes its passages) and checks them in one
step; greedy decoding keeps only what the model itself writes.

The GGUF is converted once into OpenVINO's own format in the model cache, atomically: a
half-written conversion is never used. The model is loaded once per
process and answers one question at a time, like the llama.cpp backend; others queue for at most
`busy_wait_s`. OpenVINO runs outside the GIL, so health checks and extractive answers stay
responsive while it generates.
"""

from __future__ import annotations

import hashlib
import importlib.util
import queue
import shutil
import tempfile
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from rag.errors import LLMUnavailable
from rag.llm import gguf
from rag.llm.local import InProcess, loaded, threads_for
from rag.llm.records import Completion, Message

if TYPE_CHECKING:
    from rag.settings import Settings

LOOKUP_TOKENS = 3       # tokens guessed from the prompt and checked in one step (docs/llm.md)
LOOKUP_NGRAM = 3        # the longest run of tokens matched against the prompt
HEARTBEAT_S = 0.25      # while the prompt is read, a "" delta this often: a chance to stop
_END = object()


def installed() -> bool:
    return importlib.util.find_spec("openvino_genai") is not None


@lru_cache(maxsize=1)
def computes_in_bf16() -> bool:
    """Does OpenVINO run this CPU in bf16 (the fast path: AMX or AVX-512 BF16)? Asked once."""
    try:
        import openvino as ov

        return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:      # noqa: BLE001 - no OpenVINO, or no CPU plugin: not the fast path
        return False


def converted(path: Path, cache: Path, notify: Callable[[str], None] | None = None) -> Path:
    """The directory holding `path` in OpenVINO's format, converted on first use. It is named by
    the GGUF's name, size and modification time, so an edited file is converted again."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache / "openvino" / f"{path.stem}-{key}"
    if (target / "openvino_model.xml").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if notify:
        notify(f"preparing the local LLM for OpenVINO (once: converting {path.name} into {target.parent})…")
    work = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        (work / "model.gguf").symlink_to(path.resolve())
        import openvino_genai as og

        og.LLMPipeline(str(work / "model.gguf"), "CPU", enable_save_ov_model=True)
        (work / "model.gguf").unlink()
        try:
            work.rename(target)          # atomic: the directory is whole or absent
        except OSError:                  # another process converted it first
            if not (target / "openvino_model.xml").is_file():
                raise
    except Exception as exc:
        raise LLMUnavailable(f"OpenVINO could not convert {path} ({' '.join(str(exc).split())[:160]}): "
                             "check that it is a chat model in GGUF format, or set RAG_LLM_RUNTIME="
                             "llama.cpp") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class _Pipeline:
    """One loaded OpenVINO pipeline and the slot that guards it."""

    def __init__(self, model_dir: Path, threads: int) -> None:
        import openvino_genai as og

        try:
            self.pipe = og.LLMPipeline(str(model_dir), "CPU", prompt_lookup=True,
                                       INFERENCE_NUM_THREADS=threads)
        except Exception as exc:
            raise LLMUnavailable(f"OpenVINO could not load {model_dir} ({' '.join(str(exc).split())[:160]}): "
                                 f"delete that directory to convert the model again") from None
        self.tokenizer = self.pipe.get_tokenizer()
        self.slot = threading.Semaphore(1)
        self.warm_prefix: str | None = None


class OpenVinoLLM(InProcess):
    where = "this process (OpenVINO)"

    def __init__(self, path: Path, cache: Path, *, threads: int = 0, context: int = 4096,
                 busy_wait_s: float = 30.0, max_wait_s: float = 300.0,
                 notify: Callable[[str], None] | None = None) -> None:
        self.path, self.model = Path(path), Path(path).stem
        self.threads, self.context = threads_for(threads), context
        self.busy_wait_s, self.max_wait_s = busy_wait_s, max_wait_s
        model_dir = converted(self.path, cache, notify)
        self._m = loaded(("openvino", str(model_dir), self.threads), lambda: _Pipeline(model_dir, self.threads))

    @classmethod
    def from_settings(cls, settings: "Settings",
                      notify: Callable[[str], None] | None = None) -> "OpenVinoLLM":
        path = gguf.model_file(settings.llm_gguf, settings.models_dir, notify)
        return cls(path, settings.models_dir, threads=settings.llm_threads,
                   context=settings.llm_context_window, busy_wait_s=settings.llm_busy_wait_s,
                   max_wait_s=settings.llm_max_wait_s, notify=notify)

    # -- the two calls ------------------------------------------------------------------------
    def complete(self, messages: Sequence[Message], *, max_tokens: int = 256,
                 temperature: float = 0.0) -> Completion:
        *_, done = self.stream(messages, max_tokens=max_tokens, temperature=temperature)
        return done

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 256,
               temperature: float = 0.0) -> Iterator[str | Completion]:
        """Deltas as the model writes them, then the Completion; "" every HEARTBEAT_S while it
        reads the prompt. Closing the iterator stops it at its next token and frees the model."""
        import openvino_genai as og

        prompt = self._prompt(messages, max_tokens)
        config = og.GenerationConfig()
        config.max_new_tokens, config.apply_chat_template = max_tokens, False
        config.num_assistant_tokens, config.max_ngram_size = LOOKUP_TOKENS, LOOKUP_NGRAM
        if temperature > 0:
            config.do_sample, config.temperature = True, temperature
        events: queue.Queue = queue.Queue()
        stop = threading.Event()
        self._take_slot()

        def on_text(text: str):
            events.put(text)
            return og.StreamingStatus.CANCEL if stop.is_set() else og.StreamingStatus.RUNNING

        def work() -> None:
            try:
                events.put(self._m.pipe.generate([prompt], config, on_text))
            except Exception as exc:      # noqa: BLE001 - handed to the reader below
                events.put(exc)
            finally:
                events.put(_END)
                self._m.slot.release()

        threading.Thread(target=work, name="openvino", daemon=True).start()
        deadline = time.monotonic() + self.max_wait_s
        parts: list[str] = []
        result = None
        try:
            while True:
                try:
                    event = events.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise LLMUnavailable(f"the local model took longer than {self.max_wait_s:g}s: "
                                             "raise RAG_LLM_MAX_WAIT_S, or lower RAG_LLM_MAX_TOKENS") from None
                    yield ""
                    continue
                if event is _END:
                    break
                if isinstance(event, Exception):
                    raise LLMUnavailable(f"the local model failed ({type(event).__name__}): try again") from None
                if isinstance(event, str):
                    if event:
                        parts.append(event)
                        yield event
                else:
                    result = event
        finally:
            stop.set()
        yield _completion("".join(parts), result, max_tokens)

    # -- plumbing -------------------------------------------------------------------------------
    def _prompt(self, messages: Sequence[Message], max_tokens: int) -> str:
        """The chat as the model's template writes it, checked against the context window."""
        prompt = self._m.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True)
        if self._m.tokenizer.encode(prompt).input_ids.get_size() + max_tokens > self.context:
            raise LLMUnavailable("the question and its sources do not fit the local model's context: "
                                 "raise RAG_LLM_CONTEXT_WINDOW, or lower RAG_LLM_EVIDENCE_TOKENS")
        return prompt


def _completion(text: str, result, max_tokens: int) -> Completion:
    metrics = getattr(result, "perf_metrics", None)
    prompt = int(metrics.get_num_input_tokens()) if metrics else 0
    written = int(metrics.get_num_generated_tokens()) if metrics else 0
    return Completion(text=text, finish_reason="length" if written >= max_tokens else "stop",
                      prompt_tokens=prompt, completion_tokens=written)
