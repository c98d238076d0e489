"""Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, Ollama, ...).

The key is read from the environment when a request is made and never stored or logged.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from index.embed import normalise
from rag.errors import EmbeddingUnavailable
from rag.settings import api_key


class OpenAIEmbedder:
    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY",
                 batch_size: int = 64, timeout_s: float = 30.0) -> None:
        self.base_url, self.model, self.batch_size = base_url, model, batch_size
        self.api_key_env, self.timeout_s = api_key_env, timeout_s
        self.model_id = f"openai:{model}"
        self.dim = 0  # learned from the first reply

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        client = openai.OpenAI(base_url=self.base_url, api_key=api_key(self.api_key_env) or "none",
                               timeout=self.timeout_s, max_retries=2)
        rows: list[list[float]] = []
        try:
            for i in range(0, len(texts), self.batch_size):
                reply = client.embeddings.create(model=self.model, input=list(texts[i:i + self.batch_size]))
                rows.extend(item.embedding for item in sorted(reply.data, key=lambda d: d.index))
        except openai.AuthenticationError:
            raise EmbeddingUnavailable(f"embedding endpoint {self.base_url} refused the key: "
                                       f"check {self.api_key_env}") from None
        except openai.APIError as exc:
            raise EmbeddingUnavailable(f"embedding endpoint {self.base_url} failed "
                                       f"({type(exc).__name__}); check RAG_EMBED_BASE_URL") from None
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = normalise(np.array(rows, dtype=np.float32))
        self.dim = vectors.shape[1]
        return vectors
