"""The HTTP API of a real `rag serve`: the official openai client (plain and streamed), /api/ask,
models, errors, gradio_client against the chat event, and the token rule beyond 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from evals.perf_common import free_port
from tests.serving import RAG, start

QUESTION = "What does US law require?"


@pytest.fixture(scope="module")
def server(corpus_assistant):
    served = start(corpus_assistant.settings.home, free_port())
    yield served
    served.stop()


def post(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def assert_exact_citations(citations: list[dict], assistant) -> None:
    assert citations
    for c in citations:
        assert assistant.document(c["doc_id"]).text[c["start"]:c["end"]] == c["snippet"]


def test_openai_client_gets_answer_with_exact_citations_in_extra_field(server, corpus_assistant):
    from openai import OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="not-needed", max_retries=0)
    reply = client.chat.completions.create(model="newsrag",
                                           messages=[{"role": "user", "content": QUESTION}])
    content = reply.choices[0].message.content
    assert content and reply.choices[0].finish_reason == "stop"
    citations = reply.model_extra["citations"]
    assert_exact_citations(citations, corpus_assistant)
    assert {f"[{c['n']}]" for c in citations} <= {m for m in
                                                  __import__("re").findall(r"\[\d+\]", content)}
    assert content == corpus_assistant.ask(QUESTION).text
    assert reply.model_extra["rag"]["mode"] == "extractive"


def test_openai_client_stream_joins_to_the_plain_answer_and_ends_with_citations(server, corpus_assistant):
    from openai import OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="not-needed", max_retries=0)
    chunks = list(client.chat.completions.create(
        model="newsrag", stream=True, messages=[{"role": "user", "content": QUESTION}]))
    pieces = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert len(pieces) > 1, "the answer should arrive in several pieces"
    plain = corpus_assistant.ask(QUESTION)
    assert "".join(pieces) == plain.text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert_exact_citations(last.model_extra["citations"], corpus_assistant)
    assert all("citations" not in (c.model_extra or {}) for c in chunks[:-1])


def test_api_ask_returns_the_rag_ask_json_object(server, corpus_assistant):
    status, body = post(server.url + "/api/ask", {"question": QUESTION})
    assert status == 200
    expected = corpus_assistant.ask(QUESTION).to_dict()
    assert set(body) == set(expected)
    body.pop("timings_ms"), expected.pop("timings_ms")
    assert body == expected


@pytest.mark.parametrize("history", [
    [["Who is the US ambassador?", "Tom Barrack is the US ambassador to Turkey."]],
    [{"role": "user", "content": "Who is the US ambassador?"},
     {"role": "assistant", "content": "Tom Barrack is the US ambassador to Turkey."}],
])
def test_api_ask_uses_history_to_resolve_a_follow_up(server, history):
    status, body = post(server.url + "/api/ask", {"question": "What did he say about the S-400?",
                                                  "history": history})
    assert status == 200
    assert "Tom Barrack" in body["query"]
    status, alone = post(server.url + "/api/ask", {"question": "What did he say about the S-400?"})
    assert "query" not in alone


def test_models_lists_newsrag_and_unknown_model_is_a_404_in_openai_shape(server):
    from openai import NotFoundError, OpenAI

    client = OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)
    ids = [m.id for m in client.models.list()]
    assert "newsrag" in ids and "newsrag-extractive" in ids and "newsrag-llm" not in ids
    with pytest.raises(NotFoundError, match="does not exist here"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])


@pytest.mark.parametrize("body, fragment", [
    ({"question": "   "}, "the question is empty"),
    ({"question": "What?", "k": 0}, "top_k"),
    ({"history": []}, "question"),
])
def test_bad_ask_requests_get_a_400_with_a_one_line_message(server, body, fragment):
    status, reply = post(server.url + "/api/ask", body)
    assert status == 400
    assert fragment in reply["error"]["message"] and "\n" not in reply["error"]["message"]


def test_gradio_client_chat_endpoint_returns_cited_answer_and_sources(server):
    from gradio_client import Client

    client = Client(server.url + "/", verbose=False, download_files=False)
    box, chat, sources, _ = client.predict(QUESTION, "extractive", 6, [], "", "", api_name="/chat")
    assert box == ""
    last = chat[-1]
    text = last["content"] if isinstance(last["content"], str) else json.dumps(last["content"])
    assert "rag-cite" in text and "rag-timings" in text
    assert 'class="rag-src"' in sources and "<mark>" in sources


def test_binding_beyond_loopback_without_token_refuses_to_start(corpus_assistant):
    done = subprocess.run([str(RAG), "--home", str(corpus_assistant.settings.home), "serve",
                           "--host", "127.0.0.2", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "RAG_UI_TOKEN": ""})
    assert done.returncode == 1
    assert "RAG_UI_TOKEN" in done.stderr and "--no-auth" in done.stderr
    assert "Traceback" not in done.stderr


def test_beyond_loopback_the_api_and_ui_need_the_token(corpus_assistant, tmp_path):
    token = "s3cret-token-for-tests"
    served = start(corpus_assistant.settings.home, free_port(), host="127.0.0.2",
                   env={"RAG_UI_TOKEN": token})
    try:
        status, body = post(served.url + "/api/ask", {"question": QUESTION})
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        status, _ = post(served.url + "/api/ask", {"question": QUESTION},
                         {"Authorization": "Bearer wrong-token-wrong"})
        assert status == 401
        status, body = post(served.url + "/api/ask", {"question": QUESTION},
                            {"Authorization": f"Bearer {token}"})
        assert status == 200 and body["citations"]
        # the UI's config (what the page needs to run) is only given after login
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(served.url + "/config", timeout=10)
        assert denied.value.code == 401
        from gradio_client import Client

        client = Client(served.url + "/", auth=("anyone", token), verbose=False, download_files=False)
        _, chat, _, _ = client.predict(QUESTION, "extractive", 6, [], "", "", api_name="/chat")
        assert "rag-cite" in json.dumps(chat)
        assert token not in served.log.read_text()
    finally:
        served.stop()


def test_serve_load_benchmark_reports_percentiles_and_no_errors(server, tmp_path):
    from click.testing import CliRunner

    from evals.bench_serve import serve_load

    out = tmp_path / "bench.json"
    result = CliRunner().invoke(serve_load, ["--url", server.url, "--clients", "4", "--questions", "3",
                                             "--no-baseline", "--no-warmup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())["http"]
    assert report["requests"] == 12 and report["errors"] == 0
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]
    assert "p95 ms" in result.output


def test_serve_load_benchmark_counts_failures_as_errors(tmp_path):
    from evals.bench_serve import load

    result, problems = load(f"http://127.0.0.1:{free_port()}", clients=2, per_client=2, timeout=5)
    assert result["errors"] == 4 and result["requests"] == 4 and problems


def test_a_client_that_disconnects_mid_stream_stops_the_llm_within_a_second(corpus_assistant, tmp_path):
    """The server's LLM is a slow real HTTP server (400 words, 50 ms apart): when our client goes
    away after two deltas, the server must close its own stream to the LLM at once."""
    import time

    from openai import OpenAI

    from openai_stub import OpenAIStub, Reply
    from tests.serving import copy_home

    stub = OpenAIStub()
    stub.script(Reply(" ".join(f"word{i}" for i in range(400)), chunk_chars=6, chunk_delay_s=0.05))
    served = start(copy_home(corpus_assistant.settings.home, tmp_path / "home"), free_port(),
                   env={"OPENAI_BASE_URL": stub.url, "RAG_LLM_MODEL": "m", "RAG_LLM_MAX_TOKENS": "1000"})
    try:
        client = OpenAI(base_url=served.url + "/v1", api_key="unused", max_retries=0)
        stream = client.chat.completions.create(model="newsrag-llm", stream=True,
                                                messages=[{"role": "user", "content": QUESTION}])
        seen = 0
        for chunk in stream:
            seen += bool(chunk.choices and chunk.choices[0].delta.content)
            if seen == 2:
                break
        gone = time.monotonic()
        stream.close()
        while not stub.disconnects and time.monotonic() < gone + 5:
            time.sleep(0.02)
        assert stub.disconnects and stub.disconnects[0] - gone < 1.0
    finally:
        served.stop()
        stub.close()


def test_while_the_model_reads_the_stream_sends_comments_that_clients_skip():
    from rag.records import Answer
    from ui.api import _sse

    draft = Answer(question="q", text="instant", draft=True)
    final = Answer(question="q", text="Hello.", mode="llm")
    events = list(_sse(draft, iter(["", "", "Hello.", final]), "id", 0, "newsrag"))
    assert events.count(": reading\n\n") == 2           # a write each time: a gone client shows
    contents = [json.loads(e[6:])["choices"][0]["delta"].get("content") for e in events
                if e.startswith("data: {") and json.loads(e[6:]).get("choices")]
    assert [c for c in contents if c is not None] == ["", "Hello."]   # the role chunk, then text only
