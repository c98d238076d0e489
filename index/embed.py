"""The embedding seam: `Embedder.embed(texts) -> (n, dim) float32 array, rows L2-normalised`.

Ingest needs a vector per chunk and per sentence (`embed_in_context`). By default each sentence
is embedded on its own; with `sentence_vectors = "in_chunk"` a sentence's vector is the mean of
its own token states in its chunk's pass ("late chunking"), which backends exposing token states
(the local MiniLM, ONNX or torch) provide as `embed_spans`.

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


Spans = Sequence[tuple[int, int]]   # character offsets into one text


def embed_in_context(embedder: Embedder, texts: Sequence[str], spans: Sequence[Spans], *,
                     alone: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each text's vector, and for each text one vector per span of it (rows L2-normalised):
    pooled from the text's pass when the backend can, or with `alone`, each span embedded on its own."""
    if not alone and hasattr(embedder, "embed_spans"):
        return embedder.embed_spans(texts, spans)
    flat = [text[s:e] for text, ss in zip(texts, spans) for s, e in ss]
    vectors = embedder.embed(list(texts) + flat)
    return vectors[:len(texts)], _split(vectors[len(texts):], spans)


def pool(states: np.ndarray, offsets: Sequence[tuple[int, int]], special: Sequence[int],
         spans: Spans) -> list[np.ndarray | None]:
    """Mean of the token states inside each span (None for a span with no token: truncated)."""
    starts = np.array([a for a, _ in offsets])
    ends = np.array([b for _, b in offsets])
    real = (np.asarray(special) == 0) & (ends > starts)
    out: list[np.ndarray | None] = []
    for s, e in spans:
        inside = real & (starts >= s) & (ends <= e)
        out.append(states[inside].mean(axis=0) if inside.any() else None)
    return out


def _split(vectors: np.ndarray, spans: Sequence[Spans]) -> list[np.ndarray]:
    bounds = np.cumsum([0] + [len(ss) for ss in spans])
    return [vectors[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def finish_spans(embedder: Embedder, texts: Sequence[str], spans: Sequence[Spans],
                 pooled: list[list[np.ndarray | None]]) -> list[np.ndarray]:
    """Normalised span vectors; a span that had no token (beyond the model's limit) is embedded
    on its own."""
    missing = [(i, j) for i, row in enumerate(pooled) for j, v in enumerate(row) if v is None]
    if missing:
        alone = embedder.embed([texts[i][spans[i][j][0]:spans[i][j][1]] for i, j in missing])
        for (i, j), v in zip(missing, alone):
            pooled[i][j] = v
    dim = embedder.dim
    return [normalise(np.stack(row)) if row else np.zeros((0, dim), np.float32) for row in pooled]


def make_embedder(settings: "Settings", on_prepare=None) -> Embedder:
    """The embedder the settings ask for; `on_prepare` hears of a one-time model export (local
    int8 and fp32 only: index.onnx_export.Preparing)."""
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
                        cache=settings.models_dir, batch_size=settings.embed_batch_size,
                        on_prepare=on_prepare)


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
