"""`rag ask` in llm mode: the streamed text on a terminal, only the verified answer into a pipe,
then the sources; the fallback notice as one line on stderr, `--json` reports the mode actually
used; the key is never printed."""

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
    monkeypatch.setenv("RAG_LLM_PROMPT", "chunks")
    home = str(corpus_assistant.settings.home)

    def invoke(*args: str):
        return CliRunner().invoke(main, ["--home", home, "ask", Q, *args])

    return invoke


def test_ask_in_llm_mode_into_a_pipe_prints_only_the_verified_answer_and_its_sources(run, openai_stub):
    model = citing(1, 2, chunk_chars=7)
    openai_stub.script(model)
    result = run("--mode", "llm")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(model.said + "\n\nSources:\n[1] ")   # no raw stream, no second copy
    assert "Verified answer" not in result.stdout and "\n[2] " in result.stdout
    assert result.stderr.startswith("draft (instant, extractive")   # the instant answer came first
    assert openai_stub.requests[0].body["stream"] is True
    assert KEY not in result.output


def test_ask_on_a_terminal_shows_the_tokens_as_they_come_then_the_verified_answer(
        corpus_assistant, openai_stub):
    import os
    import pty
    import subprocess
    import time

    from conftest import BIN

    model = citing(1, chunk_chars=4, chunk_delay_s=0.05)
    openai_stub.script(model)
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": openai_stub.url,
           "RAG_LLM_MODEL": "any-model-name", "RAG_LLM_PROMPT": "chunks", "RAG_LLM_MAX_RETRIES": "0"}
    main_fd, tty = pty.openpty()
    proc = subprocess.Popen([str(BIN / "rag"), "--home", str(corpus_assistant.settings.home), "ask", Q,
                             "--mode", "llm"], stdout=tty, stderr=subprocess.PIPE, env=env)
    os.close(tty)
    seen, chunks = b"", []
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            data = os.read(main_fd, 4096)
        except OSError:          # the terminal closed: the process is done
            break
        if not data:
            break
        seen += data
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(main_fd)
    out = seen.decode().replace("\r\n", "\n")
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    before_sources = next(i for i, _ in enumerate(chunks) if b"Sources:" in b"".join(chunks[:i + 1]))
    assert before_sources >= 5                  # the words arrived in pieces, as the model wrote them
    assert out.startswith(model.said + "\n") and "Verified answer" not in out   # verified as written
    assert "\nSources:\n[1] " in out and KEY not in out


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
