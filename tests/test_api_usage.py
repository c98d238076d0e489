"""Token usage over the HTTP API of a real `rag serve` whose LLM is a real local HTTP server
speaking the OpenAI protocol (tests/openai_stub.py): the server's counts reach `usage`, plain and
streamed, and `stream_options: {"include_usage": true}` works as OpenAI's does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from openai_stub import OpenAIStub, Reply

from evals.perf_common import free_port
from tests.serving import copy_home, start

QUESTION = "What does US law require?"
SAID = "US law requires Turkey to give up the S-400 to rejoin the F-35 programme [1]."
COUNTS = (321, 17)
USAGE = {"prompt_tokens": 321, "completion_tokens": 17, "total_tokens": 338}


@pytest.fixture(scope="module")
def llm(corpus_assistant, tmp_path_factory):
    """(the server, its LLM): a `rag serve` in llm mode on a copy of the corpus index."""
    stub = OpenAIStub()
    home = copy_home(corpus_assistant.settings.home, tmp_path_factory.mktemp("usage") / "home")
    served = start(home, free_port(), env={"OPENAI_BASE_URL": stub.url, "RAG_LLM_MODEL": "m"})
    yield served, stub
    served.stop()
    stub.close()


def post(url: str, body: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def events(url: str, body: dict) -> list:
    """The server-sent events of a streamed chat completion, parsed ("[DONE]" kept as text)."""
    req = urllib.request.Request(url + "/v1/chat/completions", json.dumps(body).encode(),
                                 method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        lines = [line.decode()[len("data: "):].strip() for line in r if line.startswith(b"data: ")]
    return [line if line == "[DONE]" else json.loads(line) for line in lines]


def ask(**extra) -> dict:
    return {"model": "newsrag-llm", "messages": [{"role": "user", "content": QUESTION}], **extra}


def test_a_plain_llm_answer_reports_the_tokens_the_llm_server_counted(llm):
    served, stub = llm
    stub.script(Reply(SAID, usage=COUNTS))
    status, reply = post(served.url + "/v1/chat/completions", ask())
    assert status == 200, reply
    assert len(stub.requests) == 1
    assert reply["usage"] == USAGE


def test_a_streamed_llm_answer_with_include_usage_ends_with_a_usage_chunk(llm):
    served, stub = llm
    stub.script(Reply(SAID, usage=COUNTS))
    got = events(served.url, ask(stream=True, stream_options={"include_usage": True}))
    assert got[-1] == "[DONE]"
    *chunks, last = got[:-1]
    assert all("usage" in c and c["usage"] is None for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"] is not None
    assert last["choices"] == [] and last["usage"] == USAGE
    assert last["object"] == "chat.completion.chunk" and last["id"] == chunks[0]["id"]
    assert stub.requests[0].body["stream_options"] == {"include_usage": True}


def test_without_include_usage_a_stream_carries_no_usage(llm):
    served, stub = llm
    stub.script(Reply(SAID, usage=COUNTS))
    got = events(served.url, ask(stream=True))
    assert got[-1] == "[DONE]" and got[-2]["choices"][0]["finish_reason"] == "stop"
    assert not any("usage" in c for c in got[:-1])


def test_the_openai_client_reads_the_usage_chunk_and_an_extractive_answer_costs_no_tokens(llm):
    from openai import OpenAI

    served, stub = llm
    stub.script()
    client = OpenAI(base_url=served.url + "/v1", api_key="unused", max_retries=0)
    chunks = list(client.chat.completions.create(
        model="newsrag-extractive", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": QUESTION}]))
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 0
    assert all(c.usage is None for c in chunks[:-1])
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]).strip()
    assert stub.requests == []


@pytest.mark.parametrize("extra, fragment, param", [
    ({"stream": True, "stream_options": "include_usage"}, "stream_options must be an object",
     "stream_options"),
    ({"stream": True, "stream_options": [True]}, "stream_options must be an object", "stream_options"),
    ({"stream": True, "stream_options": {"include_usage": "yes"}}, "must be true or false",
     "stream_options.include_usage"),
    ({"stream_options": {"include_usage": True}}, 'only allowed with "stream": true', "stream_options"),
    ({"stream": False, "stream_options": {"include_usage": True}}, 'only allowed with "stream": true',
     "stream_options"),
])
def test_bad_stream_options_are_a_400_before_the_llm_is_asked(llm, extra, fragment, param):
    served, stub = llm
    stub.script(Reply(SAID, usage=COUNTS))
    status, reply = post(served.url + "/v1/chat/completions", ask(**extra))
    assert status == 400
    error = reply["error"]
    assert fragment in error["message"] and "\n" not in error["message"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert stub.requests == []
