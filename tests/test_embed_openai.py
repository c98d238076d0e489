"""Embeddings from an OpenAI-compatible endpoint: a real local HTTP server, serving real MiniLM vectors."""

import numpy as np
import pytest

from openai_stub import openai_stub  # noqa: F401  (fixture)
from rag.errors import EmbeddingUnavailable, IndexMismatch


def test_ingest_and_ask_through_an_embeddings_endpoint(openai_stub, embedder, make_assistant, tiny_corpus,
                                                       monkeypatch):
    openai_stub.embed = lambda texts: embedder.embed(texts).tolist()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-embed-key")
    assistant = make_assistant(embed_backend="openai", embed_base_url=openai_stub.url,
                               embed_model="text-embedding-3-small")
    report = assistant.ingest([tiny_corpus])
    assert sorted(report.added) == ["alpha", "beta", "gamma"]
    embed_calls = [r for r in openai_stub.requests if r.path.endswith("/embeddings")]
    assert embed_calls and all(r.body["model"] == "text-embedding-3-small" for r in embed_calls)
    assert all(r.headers["authorization"] == "Bearer sk-test-embed-key" for r in embed_calls)
    answer = assistant.ask("How many homes does the Blue River dam supply?")
    assert any(c.doc_id == "alpha" and "400,000" in c.snippet for c in answer.citations)
    vector = assistant.embedder.embed(["dam"])[0]
    assert np.allclose(vector, embedder.embed(["dam"])[0], atol=1e-5)
    with pytest.raises(IndexMismatch, match="embed_model"):
        make_assistant().ask("How many homes does the dam supply?")


def test_unreachable_embeddings_endpoint_is_a_typed_error(make_assistant, tiny_corpus):
    assistant = make_assistant(embed_backend="openai", embed_base_url="http://127.0.0.1:9/v1",
                               embed_model="m")
    with pytest.raises(EmbeddingUnavailable, match="RAG_EMBED_BASE_URL"):
        assistant.ingest([tiny_corpus])
