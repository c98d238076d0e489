"""The embedding seam: `Embedder.embed(texts) -> (n, dim) float32 array, rows L2-normalised`.

Backends are small adapters in their own files (embed_onnx.py, embed_local.py, embed_openai.py); `make_embedder`
picks one from settings. Heavy imports (torch, sentence-transformers) happen only when a backend
is built, never when this module is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np

if TYPE_CHECKING:
    from rag.settings import Settings


class Embedder(Protocol):
    model_id: str   # recorded in the index; a different id refuses to query it
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def make_embedder(settings: "Settings") -> Embedder:
    if settings.embed_backend == "openai":
        from index.embed_openai import OpenAIEmbedder

        return OpenAIEmbedder(settings.embed_base_url, settings.embed_model,
                              api_key_env=settings.embed_api_key_env,
                              batch_size=settings.embed_batch_size)
    if settings.embed_precision == "torch":
        from index.embed_local import LocalEmbedder

        return LocalEmbedder(settings.embed_model, batch_size=settings.embed_batch_size)
    from index.embed_onnx import OnnxEmbedder

    return OnnxEmbedder(settings.embed_model, precision=settings.embed_precision,
                        cache=settings.models_dir, batch_size=settings.embed_batch_size)


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
