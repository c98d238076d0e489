"""The bundled 1.5B model on a small slice of the gold set's test split, with floors: the real
model, the real index, the real verifier, as `rag eval --mode llm` runs them (about two minutes on
2 cores), so it is marked slow; the full report is `rag eval --mode llm --report docs/eval/llm`.
The floors sit a little under what the same slice scores in docs/eval/llm/run.json: they catch a
broken model, prompt or verifier, not a tuned score."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import BIN

pytestmark = pytest.mark.slow
LIMIT = 10


def test_the_bundled_model_answers_a_test_slice_above_its_floors(corpus_assistant):
    env = {k: v for k, v in os.environ.items() if k != "RAG_LLM_GGUF"}   # the bundled model
    done = subprocess.run([str(BIN / "rag"), "--home", str(corpus_assistant.settings.home), "eval",
                           "--mode", "llm", "--split", "test", "--limit", str(LIMIT), "--no-llamaindex",
                           "--json", "--fail-under", "accuracy=0.5",
                           "--fail-under", "citations_in_gold=0.6"],
                          capture_output=True, text=True, env=env, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(done.stdout)
    assert record["run"]["questions"] == LIMIT and "local: qwen2.5-coder-1.5b" in record["run"]["llm"]
    llm, extractive = record["metrics"]["overall"], record["extractive"]["metrics"]["overall"]
    assert llm["accuracy"] >= extractive["accuracy"] - 0.2     # never much worse than the instant draft
    # the verifier sends some answers back to the draft (13 of 29 on the whole test split, 2026-12-03)
    assert sum(q["mode"] == "llm" for q in record["questions"]) >= LIMIT // 3
