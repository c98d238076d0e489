"""`rag ask` in llm mode: streamed text and sources on stdout, the fallback notice as one line on
stderr, `--json` reports the mode actually used; the key is never printed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from openai_stub import Reply, openai_stub  # noqa: F401  (fixture)
from rag.cli import main
from test_llm_answers import KEY, Q, citing


@pytest.fixture
def run(corpus_assistant, openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.url)
    monkeypatch.setenv("RAG_LLM_MODEL", "any-model-name")
    monkeypatch.setenv("RAG_LLM_TIMEOUT_S", "1")
    monkeypatch.setenv("RAG_LLM_MAX_RETRIES", "0")
    home = str(corpus_assistant.settings.home)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["--home", home, "ask", Q, *args])

    return invoke


def test_ask_in_llm_mode_prints_the_streamed_answer_and_its_sources(run, openai_stub):
    model = citing(1, 2, chunk_chars=7)
    openai_stub.script(model)
    result = run("--mode", "llm")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(model.said + "\n")
    assert "Sources:\n[1] " in result.stdout and "\n[2] " in result.stdout
    assert openai_stub.requests[0].body["stream"] is True
    assert KEY not in result.output


def test_ask_json_reports_the_mode_used_and_the_fallback_notice_goes_to_stderr(run, openai_stub):
    openai_stub.script(Reply(status=401))
    result = run("--json")                                  # auto: an LLM is configured
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["mode"] == "extractive"
    assert "check OPENAI_API_KEY" in payload["notice"]
    notes = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and notes[0].startswith("note: ") and "check OPENAI_API_KEY" in notes[0]
    assert KEY not in result.output
