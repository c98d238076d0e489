"""The OpenAI-compatible chat adapter against a real local HTTP server: replies, retries, faults."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time

import pytest

from openai_stub import Reply, openai_stub  # noqa: F401  (fixture)
from rag.errors import LLMUnavailable
from rag.llm import ChatLLM, Completion

KEY = "sk-test-7f3a9c-client-DO-NOT-LOG"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]


@pytest.fixture
def llm(openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return ChatLLM(openai_stub.url, "any-model-name", timeout_s=1, max_retries=2, max_wait_s=5,
                   backoff_s=0.05)


def _fails(call) -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(LLMUnavailable) as info:
        result = call()
        if not isinstance(result, Completion):
            list(result)
    return str(info.value), time.monotonic() - started


def test_plain_reply_sends_model_messages_and_bearer_key(llm, openai_stub):
    openai_stub.script("Hello there.")
    completion = llm.complete(MESSAGES, max_tokens=50)
    assert completion.text == "Hello there."
    assert completion.finish_reason == "stop"
    (request,) = openai_stub.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["model"] == "any-model-name"
    assert request.body["messages"] == MESSAGES
    assert request.body["max_tokens"] == 50
    assert not request.body.get("stream")


def test_streamed_reply_arrives_in_several_deltas_then_one_completion(llm, openai_stub):
    openai_stub.script(Reply("The quick brown fox jumps over the lazy dog.", chunk_chars=5))
    items = list(llm.stream(MESSAGES))
    deltas, final = items[:-1], items[-1]
    assert len(deltas) >= 5 and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, Completion)
    assert "".join(deltas) == final.text == "The quick brown fox jumps over the lazy dog."
    assert openai_stub.requests[0].body["stream"] is True


def test_calls_reuse_one_connection_and_read_the_key_at_each_call(llm, openai_stub, monkeypatch):
    openai_stub.script("one", "two", Reply("three", chunk_chars=2))
    assert llm.complete(MESSAGES).text == "one"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-rotated")
    assert llm.complete(MESSAGES).text == "two"
    assert list(llm.stream(MESSAGES))[-1].text == "three"
    first, second, streamed = openai_stub.requests
    assert first.peer == second.peer == streamed.peer      # kept alive, not reopened per call
    assert second.headers["authorization"] == streamed.headers["authorization"] == "Bearer sk-rotated"


def test_server_reported_usage_is_passed_on(llm, openai_stub):
    openai_stub.script(Reply("ok", usage=(321, 7)))
    completion = llm.complete(MESSAGES)
    assert (completion.prompt_tokens, completion.completion_tokens) == (321, 7)


@pytest.mark.parametrize("stream", [False, True])
def test_http_429_is_retried_then_succeeds(llm, openai_stub, stream):
    openai_stub.script(Reply(status=429), "Recovered.")
    if stream:
        *_, completion = llm.stream(MESSAGES)
    else:
        completion = llm.complete(MESSAGES)
    assert completion.text == "Recovered."
    assert completion.attempts == 2
    assert len(openai_stub.requests) == 2


def test_http_500_is_retried_a_bounded_number_of_times_then_named(llm, openai_stub):
    openai_stub.script(*[Reply(status=500)] * 10)
    message, elapsed = _fails(lambda: llm.complete(MESSAGES))
    assert "HTTP 500" in message and "3 attempts" in message
    assert len(openai_stub.requests) == 3          # first try + max_retries
    assert elapsed < 3


def test_retry_after_longer_than_the_total_wait_gives_up_at_once(openai_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    llm = ChatLLM(openai_stub.url, "m", timeout_s=1, max_retries=5, max_wait_s=2)
    openai_stub.script(Reply(status=429, headers={"Retry-After": "30"}), "never reached")
    message, elapsed = _fails(lambda: llm.complete(MESSAGES))
    assert "HTTP 429" in message
    assert elapsed < 1.5 and len(openai_stub.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_says_check_the_key_variable_and_never_shows_the_key(llm, openai_stub, status,
                                                                         caplog):
    caplog.set_level(logging.DEBUG)
    openai_stub.script(Reply(status=status))
    message, _ = _fails(lambda: llm.complete(MESSAGES))
    assert "check OPENAI_API_KEY" in message
    assert KEY not in message and KEY[:12] not in message
    assert KEY not in caplog.text
    assert len(openai_stub.requests) == 1          # a bad key is not retried


def test_unknown_model_404_names_the_model_setting(llm, openai_stub):
    openai_stub.script(Reply(status=404))
    message, _ = _fails(lambda: llm.complete(MESSAGES))
    assert "404" in message and "RAG_LLM_MODEL" in message and "'any-model-name'" in message


@pytest.mark.parametrize("stream", [False, True])
def test_a_stall_longer_than_the_timeout_fails_within_the_timeout(llm, openai_stub, stream):
    openai_stub.script(Reply("late", stall_s=10))
    message, elapsed = _fails(lambda: llm.stream(MESSAGES) if stream else llm.complete(MESSAGES))
    assert "timeout" in message and "RAG_LLM_TIMEOUT_S" in message
    assert elapsed < 2.5


def test_a_stall_in_the_middle_of_a_stream_fails_within_the_timeout(llm, openai_stub):
    openai_stub.script(Reply("This answer starts and then the server goes quiet.", stall_after=2,
                             stall_s=10))
    received = []
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match="timeout"):
        for item in llm.stream(MESSAGES):
            received.append(item)
    assert time.monotonic() - started < 2.5
    assert "".join(received) == "This answer "


def test_a_stream_cut_half_way_raises_after_the_first_deltas(llm, openai_stub):
    openai_stub.script(Reply("This answer is going to be cut off in the middle.", cut_after=3))
    received = []
    with pytest.raises(LLMUnavailable, match="stopped half-way"):
        for item in llm.stream(MESSAGES):
            received.append(item)
    assert received and "".join(received) == "This answer is goi"


def test_a_stream_that_ends_early_without_a_finish_reason_is_not_taken_as_complete(llm, openai_stub):
    openai_stub.script(Reply("This answer ends early without saying so.", cut_after=2, cut_cleanly=True))
    with pytest.raises(LLMUnavailable, match="without a finish reason"):
        list(llm.stream(MESSAGES))


@pytest.mark.parametrize("stream,raw", [
    (False, "{not json"),
    (False, '{"choices": "nope"}'),
    (True, "data: {broken\n\n"),
])
def test_malformed_json_is_a_named_failure(llm, openai_stub, stream, raw):
    openai_stub.script(Reply(raw=raw))
    message, _ = _fails(lambda: llm.stream(MESSAGES) if stream else llm.complete(MESSAGES))
    assert "malformed" in message
    assert len(openai_stub.requests) == 1          # not retried


def test_connection_refused_is_named(monkeypatch):
    with socket.socket() as s:                     # a port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    llm = ChatLLM(f"http://127.0.0.1:{port}/v1", "m", timeout_s=1, max_wait_s=3)
    message, elapsed = _fails(lambda: llm.complete(MESSAGES))
    assert "connection refused" in message and "OPENAI_BASE_URL" in message
    assert elapsed < 3


def test_dns_failure_is_named():
    llm = ChatLLM("http://no-such-host.invalid/v1", "m", timeout_s=1, max_wait_s=3)
    message, elapsed = _fails(lambda: llm.complete(MESSAGES))
    assert "no-such-host.invalid" in message
    assert "DNS" in message or "cannot reach" in message
    assert elapsed < 5


def test_credentials_in_the_base_url_are_not_shown(monkeypatch):
    llm = ChatLLM("http://user:sk-in-url-SECRET@127.0.0.1:9/v1", "m", timeout_s=1, max_wait_s=2)
    message, _ = _fails(lambda: llm.complete(MESSAGES))
    assert "SECRET" not in message and "SECRET" not in repr(llm)


def test_no_key_configured_still_reaches_a_local_server(openai_stub, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai_stub.script("fine")
    assert ChatLLM(openai_stub.url, "m", timeout_s=1).complete(MESSAGES).text == "fine"


def test_a_plain_reply_cut_half_way_is_named_so_not_a_connection_error(llm, openai_stub):
    openai_stub.script(Reply("This whole reply never arrives: the server stops sending.", cut_after=40))
    message, _ = _fails(lambda: llm.complete(MESSAGES))
    assert "half-way" in message and "connection error" not in message


def test_an_html_page_for_a_streamed_request_is_named_so_not_a_cut_stream(llm, openai_stub):
    page = "<!doctype html><html><body><h1>Sign in to the proxy</h1></body></html>"
    openai_stub.script(Reply(raw=page, headers={"Content-Type": "text/html; charset=utf-8"}))
    message, _ = _fails(lambda: llm.stream(MESSAGES))
    assert "text/html" in message and "half-way" not in message


def test_opening_the_client_imports_what_the_first_question_would_need():
    # the first streamed question in a fresh process took 0.5-1.8 s more than the next, all of it
    # importing openai's resource modules: `rag serve` opens the LLM at start, so it pays there
    code = ("import sys; from rag.llm import ChatLLM; ChatLLM('http://127.0.0.1:9/v1', 'm'); "
            "print('openai.resources.chat.completions' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr[-2000:]
