"""The program's own offline switches, set once at start-up so users never export anything.

Only defaults are set: a variable the user already exported wins.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

_SWITCHES = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "DO_NOT_TRACK": "1",
    "NNCF_CI": "1",    # NNCF (int8 quantisation, run once) sends no telemetry
}


def apply() -> None:
    for name, value in _SWITCHES.items():
        os.environ.setdefault(name, value)
    if "TIKTOKEN_CACHE_DIR" not in os.environ and (cache := tiktoken_cache()):
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)


def tiktoken_cache() -> Path | None:
    """LlamaIndex ships the cl100k_base and o200k_base encodings; find them without importing it."""
    spec = importlib.util.find_spec("llama_index.core")
    if not spec or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "_static" / "tiktoken_cache"
    return path if path.is_dir() else None
