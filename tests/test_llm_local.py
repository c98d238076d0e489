"""The local model end to end, with the real tiny SmolLM2-135M GGUF over the real bundled-corpus
index: auto mode picks it, streams start with the instant extractive draft, every citation that
survives verification points at the exact passage, and a model that cannot load never blocks an
answer. (Its answers are poor: quality is measured with the 1.5B model by `rag eval --mode llm`.)"""

from __future__ import annotations

import subprocess

import pytest

from conftest import BIN, smollm2
from rag import Answer, Assistant
from rag.errors import ConfigError

Q = "What does US law require?"
CITED = "Who is the US ambassador to Turkey?"   # the tiny model answers it with a citation that holds, on both runtimes


@pytest.fixture
def local(corpus_assistant, embedder):
    def make(**overrides) -> Assistant:
        overrides.setdefault("llm_gguf", str(smollm2()))
        return Assistant(home=corpus_assistant.settings.home, embedder=embedder, llm_threads=2,
                         **overrides)
    return make


def test_auto_mode_streams_the_draft_then_the_local_models_verified_answer(local):
    assistant = local()
    assert assistant.answer_mode() == "llm"
    draft, *deltas, answer = assistant.stream(CITED)
    assert isinstance(draft, Answer) and draft.draft and draft.mode == "extractive"
    assert draft.text == assistant.ask(CITED, mode="extractive").text and draft.citations
    assert deltas and all(isinstance(d, str) for d in deltas) and "".join(deltas).strip()
    assert isinstance(answer, Answer) and not answer.draft and answer.mode == "llm"
    assert answer.usage["prompt_tokens"] > 50 and answer.usage["completion_tokens"] > 0
    assert answer.timings_ms["first_token"] <= answer.timings_ms["llm"]
    for c in answer.citations:                       # whatever survived is exactly sourced
        assert assistant.document(c.doc_id).text[c.start:c.end] == c.snippet
    assert answer.abstained or answer.citations


def test_llama_cpp_keeps_the_fixed_system_prompt_cached_between_questions(local):
    assistant = local(llm_runtime="llama.cpp")
    first = assistant.ask("Who is Hakan Fidan?")
    second = assistant.ask("Who is Tom Barrack?")
    assert second.usage.get("cached_tokens", 0) >= 40   # the system prompt was not read again
    # both went to the model (which of its answers pass verification is another test's business)
    assert first.usage["completion_tokens"] > 0 and second.usage["completion_tokens"] > 0


def test_extractive_mode_is_instant_and_never_loads_the_model(local, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model at all")
    assistant = local(llm_gguf=str(broken))
    answer = assistant.ask(Q, mode="extractive")
    assert answer.mode == "extractive" and answer.citations
    assert answer.timings_ms["total"] < 2000


def test_a_model_that_cannot_load_answers_extractively_and_says_why(local, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a model at all")
    draft, answer = local(llm_gguf=str(broken)).stream(Q)
    assert draft.draft
    assert answer.mode == "extractive" and answer.text == draft.text
    assert "not a GGUF model file" in answer.notice and answer.notice.endswith("answered extractively instead")


def test_articles_taking_opposite_stances_are_shown_side_by_side_without_asking_the_model(local):
    question = "Will Turkey hand back its S-400 missiles?"
    assistant = local()
    draft, answer = assistant.stream(question)          # no text deltas: the model is not asked
    assert draft.draft and draft.text.startswith("Reports differ.")      # the premise
    assert answer.mode == "extractive" and answer.text == draft.text
    assert len({c.doc_id for c in answer.citations}) >= 2
    assert answer.notice == "the articles disagree, shown side by side; answered extractively instead"
    assert assistant.ask("Who is Hakan Fidan?").usage["completion_tokens"] > 0   # other questions still are


def test_llm_mode_without_any_llm_is_a_one_line_error_that_names_the_fix(local):
    with pytest.raises(ConfigError, match="make setup.*RAG_LLM_GGUF.*--mode extractive"):
        local(llm_gguf="off").ask(Q, mode="llm")


def test_rag_ask_shows_the_draft_on_stderr_and_the_answer_on_stdout(corpus_assistant):
    import os

    env = {**os.environ, "RAG_LLM_GGUF": str(smollm2()), "RAG_LLM_THREADS": "2"}
    done = subprocess.run([str(BIN / "rag"), "--home", str(corpus_assistant.settings.home), "ask", Q],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("draft (instant, extractive; the LLM is reading): ")
    assert done.stdout.strip() and "Traceback" not in done.stderr


def test_the_streamed_api_sends_the_draft_first_then_the_local_models_answer(corpus_assistant, tmp_path):
    from openai import OpenAI

    from evals.perf_common import free_port
    from tests.serving import copy_home, start

    home = copy_home(corpus_assistant.settings.home, tmp_path / "home")
    served = start(home, free_port(), env={"RAG_LLM_GGUF": str(smollm2()), "RAG_LLM_THREADS": "2"})
    try:
        client = OpenAI(base_url=served.url + "/v1", api_key="unused", max_retries=0)
        assert [m.id for m in client.models.list().data] == ["newsrag", "newsrag-extractive", "newsrag-llm"]
        chunks = list(client.chat.completions.create(model="newsrag", stream=True,
                                                     messages=[{"role": "user", "content": CITED}]))
        extras = [c.model_extra for c in chunks]
        draft = extras[1]["rag_draft"]                   # right after the role chunk, no content
        assert not chunks[1].choices[0].delta.content
        assert draft["rag"]["mode"] == "extractive" and draft["answer"] and draft["citations"]
        final = next(e for c, e in zip(chunks, extras) if c.choices and c.choices[0].finish_reason)
        assert final["rag"]["mode"] == "llm"
        for c in final["citations"]:
            assert corpus_assistant.document(c["doc_id"]).text[c["start"]:c["end"]] == c["snippet"]
        plain = client.chat.completions.create(model="newsrag-llm", messages=[{"role": "user", "content": Q}])
        assert plain.usage.prompt_tokens > 50 and plain.usage.completion_tokens > 0

    finally:
        served.stop()


def test_repacked_weights_are_a_model_of_their_own_and_both_answer(local):
    plain, repacked = local(llm_runtime="llama.cpp").llm(), local(llm_runtime="llama.cpp", llm_repack="on").llm()
    assert plain._m is not repacked._m                # each layout loaded once, kept apart
    messages = [{"role": "user", "content": "Say the word blue."}]
    assert plain.complete(messages, max_tokens=8).text and repacked.complete(messages, max_tokens=8).text
