"""Saved conversations over the HTTP API of a real `rag serve` with a token: saving an exchange
with `conversation_id`, then listing, reading and deleting it; 404s for unknown and malformed ids,
401 without the token, 405 for a wrong method, 503 for a store that cannot be read."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest

from evals.perf_common import free_port
from tests.serving import copy_home, start

TOKEN = "conversations-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = "What does US law require?"
FOLLOW_UP = "What did Tom Barrack say about the S-400?"


@pytest.fixture(scope="module")
def server(corpus_assistant, tmp_path_factory):
    """A `rag serve` (extractive) that needs a token, on a copy of the corpus index."""
    home = copy_home(corpus_assistant.settings.home, tmp_path_factory.mktemp("conversations") / "home")
    served = start(home, free_port(), env={"RAG_UI_TOKEN": TOKEN})
    yield served
    served.stop()


def call(method: str, url: str, body: dict | None = None, headers: dict | None = AUTH) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, method=method,
                                 headers={**({"Content-Type": "application/json"} if data else {}),
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def listed(server) -> list[dict]:
    status, body = call("GET", server.url + "/v1/conversations")
    assert status == 200 and body["object"] == "list"
    return body["data"]


def test_an_exchange_saved_with_conversation_id_can_be_listed_read_and_deleted(server):
    from openai import OpenAI

    status, first = call("POST", server.url + "/api/ask", {"question": QUESTION, "conversation_id": "new"})
    assert status == 200, first
    cid = first.pop("conversation_id")
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    client = OpenAI(base_url=server.url + "/v1", api_key=TOKEN, max_retries=0)
    second = client.chat.completions.create(
        model="newsrag", messages=[{"role": "user", "content": FOLLOW_UP}],
        extra_body={"conversation_id": cid})
    assert second.model_extra["conversation_id"] == cid
    chunks = list(client.chat.completions.create(
        model="newsrag", stream=True, messages=[{"role": "user", "content": QUESTION}],
        extra_body={"conversation_id": cid}))
    stop = next(c for c in chunks if c.choices and c.choices[0].finish_reason == "stop")
    assert stop.model_extra["conversation_id"] == cid
    assert all("conversation_id" not in (c.model_extra or {}) for c in chunks if c is not stop)

    summary = next(c for c in listed(server) if c["id"] == cid)
    assert summary["title"] == QUESTION and "turns" not in summary
    status, saved = call("GET", f"{server.url}/v1/conversations/{cid}")
    assert status == 200 and saved["id"] == cid and saved["title"] == QUESTION
    assert [t["question"] for t in saved["turns"]] == [QUESTION, FOLLOW_UP, QUESTION]
    kept = saved["turns"][0]["answer"]
    assert kept["citations"] and kept["citations"] == first["citations"]
    assert {k: v for k, v in kept.items() if k != "timings_ms"} == \
        {k: v for k, v in first.items() if k != "timings_ms"}
    assert saved["turns"][1]["answer"]["answer"] == second.choices[0].message.content
    assert saved["turns"][2]["answer"]["citations"] == stop.model_extra["citations"]

    status, gone = call("DELETE", f"{server.url}/v1/conversations/{cid}")
    assert status == 200 and gone == {"id": cid, "object": "conversation.deleted", "deleted": True}
    assert cid not in [c["id"] for c in listed(server)]
    status, body = call("GET", f"{server.url}/v1/conversations/{cid}")
    assert status == 404 and body["error"]["code"] == "conversation_not_found"


def test_without_conversation_id_nothing_is_saved(server):
    before = listed(server)
    status, reply = call("POST", server.url + "/api/ask", {"question": QUESTION})
    assert status == 200 and "conversation_id" not in reply
    status, reply = call("POST", server.url + "/v1/chat/completions",
                         {"messages": [{"role": "user", "content": QUESTION}]})
    assert status == 200 and "conversation_id" not in reply
    assert listed(server) == before


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions"])
@pytest.mark.parametrize("value, status, fragment", [
    (42, 400, "conversation_id must be"),
    (["new"], 400, "conversation_id must be"),
    ("0" * 32, 404, "no saved conversation"),
    ("../conversations.sqlite3", 404, "no saved conversation"),
])
def test_a_bad_or_unknown_conversation_id_is_refused_and_nothing_is_saved(server, path, value, status,
                                                                          fragment):
    before = listed(server)
    body = ({"question": QUESTION} if path == "/api/ask"
            else {"messages": [{"role": "user", "content": QUESTION}], "stream": True})
    got, reply = call("POST", server.url + path, {**body, "conversation_id": value})
    assert got == status
    assert fragment in reply["error"]["message"] and "\n" not in reply["error"]["message"]
    assert listed(server) == before


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("cid", ["0" * 32, "not-an-id", "..", "%2e%2e", "..%2F..%2Fconversations.sqlite3",
                                 "%2Fetc%2Fpasswd", "' OR 1=1 --", "f" * 300])
def test_unknown_and_malformed_ids_are_a_404_in_openai_shape(server, method, cid):
    status, body = call("POST", server.url + "/api/ask", {"question": QUESTION, "conversation_id": "new"})
    assert status == 200
    status, reply = call(method, f"{server.url}/v1/conversations/{urllib.request.quote(cid, safe='%')}")
    assert status == 404
    error = reply["error"]
    assert set(error) == {"message", "type", "param", "code"} and "\n" not in error["message"]
    assert error["code"] in ("conversation_not_found", "not_found")
    if "%2F" not in cid:   # one path segment: the conversation route answers
        assert error["code"] == "conversation_not_found" and "no saved conversation" in error["message"]
    assert (server.home / "conversations.sqlite3").stat().st_size > 0
    assert body["conversation_id"] in [c["id"] for c in listed(server)]


@pytest.mark.parametrize("method, path", [("GET", "/v1/conversations"),
                                          ("GET", "/v1/conversations/" + "0" * 32),
                                          ("DELETE", "/v1/conversations/" + "0" * 32)])
@pytest.mark.parametrize("headers", [None, {"Authorization": "Bearer wrong-token-wrong"}])
def test_conversations_need_the_token(server, method, path, headers):
    status, reply = call(method, server.url + path, headers=headers)
    assert status == 401 and reply["error"]["code"] == "invalid_api_key"


def test_deleting_needs_the_token_and_keeps_the_conversation_without_it(server):
    status, body = call("POST", server.url + "/api/ask", {"question": QUESTION, "conversation_id": "new"})
    cid = body["conversation_id"]
    status, _ = call("DELETE", f"{server.url}/v1/conversations/{cid}", headers=None)
    assert status == 401
    assert call("GET", f"{server.url}/v1/conversations/{cid}")[0] == 200


@pytest.mark.parametrize("method, path, allowed", [
    ("PUT", "/v1/conversations/" + "0" * 32, "DELETE, GET"),
    ("POST", "/v1/conversations", "GET"),
    ("DELETE", "/v1/models", "GET"),
])
def test_a_wrong_method_is_a_405_that_names_the_right_ones(server, method, path, allowed):
    status, reply = call(method, server.url + path)
    assert status == 405
    assert reply["error"]["message"].endswith(f"takes {allowed}, not {method}")


def test_a_store_that_cannot_be_read_is_a_503_with_the_fix(server):
    status, _ = call("POST", server.url + "/api/ask", {"question": QUESTION, "conversation_id": "new"})
    assert status == 200
    store = server.home / "conversations.sqlite3"
    kept = store.read_bytes()
    try:
        store.write_bytes(b"not a database at all" * 100)
        for method, path, body in [("GET", "/v1/conversations", None),
                                   ("GET", "/v1/conversations/" + "0" * 32, None),
                                   ("POST", "/api/ask", {"question": QUESTION, "conversation_id": "new"})]:
            status, reply = call(method, server.url + path, body)
            assert status == 503, (method, path)
            message = reply["error"]["message"]
            assert "move" in message and "\n" not in message and "Traceback" not in message
            assert reply["error"]["code"] == "conversation_store_unavailable"
    finally:
        store.write_bytes(kept)
    assert listed(server)
