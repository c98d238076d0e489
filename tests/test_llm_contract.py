"""One contract, three backends: the OpenAI-protocol adapter against a real local HTTP server, and
the two local runtimes (llama.cpp and OpenVINO) running the real tiny SmolLM2-135M GGUF. Each
gives a whole reply with its finish reason and token usage, streams deltas that join to the
reply, obeys the token cap, and stops generating within a second when the reader closes the
stream."""

from __future__ import annotations

import threading
import time

import pytest

from conftest import smollm2
from openai_stub import Reply, openai_stub  # noqa: F401  (fixture)
from rag.errors import LLMUnavailable
from rag.llm import ChatLLM, Completion
from rag.llm.local import LocalLLM
from rag.llm.openvino import OpenVinoLLM

ASK = [{"role": "system", "content": "You are a helpful assistant."},
       {"role": "user", "content": "Describe the four seasons of the year, one after the other, in detail."}]
LONG = " ".join(f"Word{i}" for i in range(400))


def local_llm(runtime: str, cache, **options):
    """The tiny model on `runtime` ("llama.cpp" or "openvino"), converted into `cache` if need be."""
    if runtime == "openvino":
        return OpenVinoLLM(smollm2(), cache, threads=2, context=2048, **options)
    return LocalLLM(smollm2(), threads=2, context=2048, **options)


@pytest.fixture(scope="module", params=["llama.cpp", "openvino"])
def local(request, tmp_path_factory):
    return local_llm(request.param, tmp_path_factory.getbasetemp() / "models")


@pytest.fixture(params=["remote", "local"])
def backend(request, openai_stub, local):
    """(the adapter, a function that readies it to answer at length)"""
    if request.param == "remote":
        llm = ChatLLM(openai_stub.url, "any-model", timeout_s=5, max_wait_s=20)
        return llm, lambda: openai_stub.script(Reply(LONG, usage=(31, 400), chunk_chars=4,
                                                     chunk_delay_s=0.01))
    return local, lambda: None


def test_complete_gives_text_finish_reason_and_usage(backend):
    llm, ready = backend
    ready()
    reply = llm.complete(ASK, max_tokens=24)
    assert isinstance(reply, Completion) and reply.text.strip()
    assert reply.finish_reason in ("stop", "length")
    assert reply.prompt_tokens > 0 and 0 < reply.completion_tokens <= 400


def test_stream_yields_deltas_then_the_completion_they_join_to(backend):
    llm, ready = backend
    ready()
    *deltas, done = llm.stream(ASK, max_tokens=24)
    assert len(deltas) >= 3 and all(isinstance(d, str) for d in deltas)
    assert isinstance(done, Completion) and done.text == "".join(deltas)
    assert done.prompt_tokens > 0 and done.completion_tokens > 0     # usage, streamed too


def test_the_token_cap_ends_the_answer_with_finish_reason_length(backend):
    llm, ready = backend
    ready()
    reply = llm.complete(ASK, max_tokens=5)
    assert reply.finish_reason == "length" and reply.completion_tokens <= 5


def test_closing_the_stream_stops_generation_within_a_second(backend, openai_stub):
    llm, ready = backend
    ready()
    stream = llm.stream(ASK, max_tokens=300)
    assert isinstance(next(stream), str) and isinstance(next(stream), str)
    closed = time.monotonic()
    stream.close()
    if isinstance(llm, ChatLLM):          # the server saw the client go, long before its 400 words
        deadline = closed + 1.0
        while not openai_stub.disconnects and time.monotonic() < deadline:
            time.sleep(0.02)
        assert openai_stub.disconnects and openai_stub.disconnects[0] - closed < 1.0
    else:                                 # the model is free for the next question at once
        reply = llm.complete(ASK, max_tokens=2)
        assert reply.completion_tokens <= 2 and time.monotonic() - closed < 1.0 + 0.5


def test_the_local_model_stops_while_it_is_still_reading_a_long_prompt(local):
    def long(word: str) -> list:   # ~1,300 tokens, none of them read before: long to read on 2 cores
        return [{"role": "user", "content": " ".join(f"{word}{i}" for i in range(350)) + "\nList every item."}]

    read = 0.0   # llama.cpp stops mid-prompt; OpenVINO at its first token, after reading the prompt
    if isinstance(local, OpenVinoLLM):   # (fast where it computes in bf16, seconds on AVX2 alone)
        started = time.monotonic()
        list(local.stream(long("box"), max_tokens=1))
        read = time.monotonic() - started
    started = time.monotonic()
    stream = local.stream(long("item"), max_tokens=300)
    assert next(stream) == ""                      # reading: a chance to stop before any token
    closed = time.monotonic()
    stream.close()
    assert local._m.slot.acquire(timeout=1.0 + read)   # stopped: the model's one slot is free
    freed = time.monotonic()
    local._m.slot.release()
    assert freed - closed < 1.0 + read and freed - started < 2.0 + read
    reply = local.complete(ASK, max_tokens=2)      # and the next question is answered
    assert reply.completion_tokens <= 2 and reply.text


def test_a_second_question_waits_for_the_local_model_then_hears_it_is_busy(local, tmp_path_factory):
    runtime = "openvino" if isinstance(local, OpenVinoLLM) else "llama.cpp"
    impatient = local_llm(runtime, tmp_path_factory.getbasetemp() / "models", busy_wait_s=0.5)
    assert impatient._m is local._m       # the same loaded model
    stream = local.stream(ASK, max_tokens=300)
    next(stream)                          # holds the model's one slot
    try:
        started = time.monotonic()
        with pytest.raises(LLMUnavailable, match="busy") as caught:
            impatient.complete(ASK, max_tokens=2)
        assert 0.4 < time.monotonic() - started < 2.0 and "\n" not in str(caught.value)
    finally:
        stream.close()


def test_the_local_model_leaves_other_threads_running_while_it_generates(local):
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        local.complete(ASK, max_tokens=48)
    finally:
        stop.set()
        ticker.join()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 20 and max(gaps) < 0.5         # the GIL was not held while it generated


def test_a_file_that_is_not_gguf_is_a_one_line_error(tmp_path):
    from rag.llm.gguf import model_file

    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(LLMUnavailable, match="not a GGUF model file: set RAG_LLM_GGUF"):
        model_file(str(bad), tmp_path)
    with pytest.raises(LLMUnavailable, match="does not exist"):
        model_file(str(tmp_path / "missing.gguf"), tmp_path)
