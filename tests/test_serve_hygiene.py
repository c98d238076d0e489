"""What a real `rag serve` refuses and sends: no server file it did not receive as an upload,
no state-changing request from another site's page or another host name, JSON routes only
for JSON, bounded bodies, one-line JSON errors for bad text and unknown routes, security
headers on every response, a busy port named before anything starts, and nothing left behind
(nor lost) by a server killed during an upload."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from evals.perf_common import free_port
from tests.serving import (RAG, ROOT, copy_home, file_data, gradio_join, gradio_result,
                           gradio_upload, start)

QUESTION = "What does US law require?"
ALLOWED = "http://tools.example:8080"       # the one origin the module's server is told to trust
JSON = {"Content-Type": "application/json"}
ASK = json.dumps({"question": QUESTION}).encode()
CHAT = json.dumps({"model": "newsrag", "messages": [{"role": "user", "content": QUESTION}]}).encode()
FERRY = ("Gull Island, May 2 - The Harbour Line ferry to Gull Island started service this week. "
         "The ferry carries 300 passengers and crosses the bay in 25 minutes.")


@pytest.fixture(scope="module")
def server(corpus_assistant, tmp_path_factory):
    home = copy_home(corpus_assistant.settings.home, tmp_path_factory.mktemp("hygiene") / "home")
    served = start(home, free_port(), "--allow-origin", ALLOWED)
    yield served
    served.stop()


def call(url: str, body: bytes | None = None, *, method: str = "POST",
         headers: dict | None = None) -> tuple[int, dict, dict]:
    """(status, headers, JSON body or {}) of one request; an HTTP error status is returned."""
    req = urllib.request.Request(url, body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, head, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as exc:
        status, head, raw = exc.code, exc.headers, exc.read()
    try:
        data = json.loads(raw)
    except ValueError:
        data = {}
    return status, {k.lower(): v for k, v in head.items()}, data


def documents(served) -> int:
    return call(served.url + "/healthz", method="GET")[2]["documents"]


def one_line_error(status: int, body: dict, expected: int) -> str:
    assert status == expected, body
    message = body["error"]["message"]
    assert message and "\n" not in message and "Traceback" not in message
    return message


# -- files ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [str(ROOT / "README.md"),                  # any file on the server
                                  "/tmp/gradio/../.." + str(ROOT / "docs" / "cli.md")])   # out of the upload folder
def test_the_upload_event_reads_no_server_file_it_did_not_receive(server, path):
    before = documents(server)
    result = gradio_result(server.url, gradio_join(server.url, "rag-upload", "upload", [[file_data(path)]]))
    assert result["success"] is False
    assert documents(server) == before
    _, _, answer = call(server.url + "/api/ask", json.dumps({"question": "How do I run make test?"}).encode(),
                        headers=JSON)
    assert {c["doc_id"] for c in answer["citations"]} <= {d.stem for d in (ROOT / "corpus").glob("*.txt")}
    assert not (server.home / "uploads").exists() or not any((server.home / "uploads").iterdir())


def test_a_file_sent_as_an_upload_is_still_taken(server, tmp_path):
    article = tmp_path / "ferry.txt"
    article.write_text(FERRY, encoding="utf-8")
    received = gradio_upload(server.url, article)
    result = gradio_result(server.url, gradio_join(server.url, "rag-upload", "upload",
                                                   [[file_data(received, "ferry.txt")]]))
    assert "Added ferry.txt as ferry" in result["output"]["data"][0]
    assert (server.home / "uploads" / "ferry.txt").read_text(encoding="utf-8") == FERRY


# -- who may send, and what ---------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:3000", "null"])
@pytest.mark.parametrize("path, body", [("/api/ask", ASK), ("/v1/chat/completions", CHAT)])
def test_a_page_of_another_origin_cannot_send_a_question(server, origin, path, body):
    status, headers, reply = call(server.url + path, body, headers={**JSON, "Origin": origin})
    assert "cross_origin_refused" == reply["error"]["code"]
    one_line_error(status, reply, 403)
    assert "access-control-allow-origin" not in headers


def test_the_servers_own_page_and_a_configured_origin_may_send(server):
    port = server.url.rsplit(":", 1)[1]
    for origin in (f"http://127.0.0.1:{port}", ALLOWED):
        status, headers, reply = call(server.url + "/api/ask", ASK, headers={**JSON, "Origin": origin})
        assert status == 200 and reply["citations"]
    assert headers["access-control-allow-origin"] == ALLOWED


@pytest.mark.parametrize("origin, allowed", [("http://localhost:3000", False),
                                             ("http://evil.example", False), (ALLOWED, True)])
@pytest.mark.parametrize("path", ["/api/ask", "/gradio_api/queue/join", "/config"])
def test_cors_lets_only_a_configured_origin_read(server, origin, allowed, path):
    status, headers, _ = call(server.url + path, method="OPTIONS",
                              headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type"})
    assert (headers.get("access-control-allow-origin") == origin) == allowed
    assert headers.get("access-control-allow-credentials") != "true"
    _, headers, _ = call(server.url + "/config", method="GET", headers={"Origin": origin})
    assert (headers.get("access-control-allow-origin") == origin) == allowed


def test_a_request_naming_another_host_is_refused(server):
    """A page whose DNS name was rebound to 127.0.0.1 sends its own name as Host."""
    status, _, reply = call(server.url + "/api/ask", ASK, headers={**JSON, "Host": "evil.example:80"})
    assert "answers to" in one_line_error(status, reply, 400)
    for host in ("evil.example", "[::1"):
        status, _, reply = call(server.url + "/", method="GET", headers={"Host": host})
        one_line_error(status, reply, 400)


@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded",
                                  "multipart/form-data; boundary=x", None])
@pytest.mark.parametrize("path, body", [("/api/ask", ASK), ("/v1/chat/completions", CHAT),
                                        ("/gradio_api/queue/join", b'{"data": []}')])
def test_json_routes_take_only_json(server, path, body, kind):
    conn = http.client.HTTPConnection(server.url.split("//")[1], timeout=30)
    conn.putrequest("POST", path)      # no Content-Type at all when kind is None
    if kind:
        conn.putheader("Content-Type", kind)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    r = conn.getresponse()
    assert "application/json" in one_line_error(r.status, json.loads(r.read()), 415)


@pytest.mark.parametrize("path", ["/api/ask", "/v1/chat/completions", "/gradio_api/queue/join"])
def test_a_body_over_the_limit_is_413_and_a_body_of_unknown_length_411(server, path):
    conn = http.client.HTTPConnection(server.url.split("//")[1], timeout=30)
    conn.putrequest("POST", path)      # 10 MB announced: the answer comes before the body is sent
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(10 * 2**20))
    conn.endheaders()
    r = conn.getresponse()
    assert "limit" in one_line_error(r.status, json.loads(r.read()), 413)
    conn = http.client.HTTPConnection(server.url.split("//")[1], timeout=30)
    conn.request("POST", path, iter([ASK]), headers={**JSON, "Transfer-Encoding": "chunked"},
                 encode_chunked=True)
    r = conn.getresponse()
    one_line_error(r.status, json.loads(r.read()), 411)


@pytest.mark.parametrize("path, body", [
    ("/api/ask", b'{"question": "What \\ud800 law?"}'),                     # unpaired surrogate
    ("/api/ask", b'{"question": "What \xff law?"}'),                         # not UTF-8
    ("/api/ask", b'{"question": "And the US?", "history": [["Who \\udc80?", "x"]]}'),
    ("/api/ask", b'["What does US law require?"]'),                          # not an object
    ("/api/ask", b"[" * 200_000),                                            # nested past any limit
    ("/api/ask", b'{"question": "What?", "doc_ids": ["nope"]}'),             # no such article
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "Who \\udfff?"}]}'),
    ("/v1/chat/completions", b'{"messages": [{"role": "user", "content": "Who?"}], "stream": true, '
                             b'"doc_ids": ["nope"]}'),
])
def test_bad_text_is_a_one_line_json_400(server, path, body):
    status, _, reply = call(server.url + path, body, headers=JSON)
    one_line_error(status, reply, 400)


@pytest.mark.parametrize("method, path, status", [("GET", "/v1/nope", 404), ("POST", "/v1/embeddings", 404),
                                                  ("GET", "/v1/chat/completions", 405),
                                                  ("POST", "/v1/models", 405), ("GET", "/api/nope", 404)])
def test_unknown_api_routes_get_a_json_error_in_openai_shape(server, method, path, status):
    got, headers, reply = call(server.url + path, b"{}" if method == "POST" else None, method=method,
                               headers=JSON)
    one_line_error(got, reply, status)
    assert headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/config"), ("GET", "/healthz"),
                                          ("POST", "/api/ask"), ("GET", "/v1/nope"),
                                          ("GET", "/gradio_api/file=/etc/hostname"),
                                          ("POST", "/gradio_api/queue/join")])
def test_every_response_carries_the_security_headers(server, method, path):
    _, headers, _ = call(server.url + path, ASK if method == "POST" else None, method=method,
                         headers=JSON)
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'self'" in headers["content-security-policy"]


# -- starting and stopping -------------------------------------------------------------------------
@pytest.mark.parametrize("args, needle", [([], "already in use"),
                                          (["--allow-origin", "evil.example"], "not an origin")])
def test_serve_refuses_in_one_line_before_it_starts(corpus_assistant, args, needle):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([str(RAG), "--home", str(corpus_assistant.settings.home), "serve",
                               "--port", str(port), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and needle in done.stderr
    assert "http://" not in done.stderr      # no banner for a server that never ran


def _kill_during_upload(served, article: Path, stored: Path, changed=lambda p: p.exists()) -> None:
    """Start uploading `article`, and kill the server (SIGKILL) as soon as `stored` shows it."""
    received = gradio_upload(served.url, article)
    gradio_join(served.url, "rag-upload", "upload", [[file_data(received, article.name)]])
    deadline = time.time() + 60
    while not changed(stored):
        assert time.time() < deadline, "the upload never reached the uploads folder"
        time.sleep(0.005)
    served.proc.kill()
    served.proc.wait()


def _upload(served, article: Path) -> str:
    received = gradio_upload(served.url, article)
    session = gradio_join(served.url, "rag-upload", "upload", [[file_data(received, article.name)]])
    return gradio_result(served.url, session)["output"]["data"][0]


def test_a_server_killed_during_an_upload_leaves_no_file_and_loses_nothing(corpus_assistant, tmp_path):
    home = copy_home(corpus_assistant.settings.home, tmp_path / "home")
    uploads = home / "uploads"
    long = " ".join(f"Harbour report {i}: inspectors counted {i * 7} boats near pier {i % 50} and "
                    f"{i % 13} cranes at dock {i % 9}." for i in range(3000))
    ferry, big, replacement = tmp_path / "ferry.txt", tmp_path / "big.txt", tmp_path / "new" / "ferry.txt"
    ferry.write_text(FERRY, encoding="utf-8")
    big.write_text(long, encoding="utf-8")
    replacement.parent.mkdir()
    replacement.write_text(long, encoding="utf-8")

    served = start(home, free_port())
    try:
        assert "Added ferry.txt" in _upload(served, ferry)
        _kill_during_upload(served, big, uploads / "big.txt")
        served = start(home, free_port())           # a new upload, cut off: it is undone
        assert sorted(p.name for p in uploads.iterdir()) == ["ferry.txt"]
        assert documents(served) == 6
        _kill_during_upload(served, replacement, uploads / "ferry.txt",
                            lambda p: p.stat().st_size != len(FERRY))
        served = start(home, free_port())           # a replacement, cut off: the old file is back
        assert sorted(p.name for p in uploads.iterdir()) == ["ferry.txt"]
        assert (uploads / "ferry.txt").read_text(encoding="utf-8") == FERRY
        _, _, answer = call(served.url + "/api/ask", json.dumps(
            {"question": "How many passengers does the Gull Island ferry carry?"}).encode(), headers=JSON)
        assert "300 passengers" in answer["answer"] and answer["citations"][0]["doc_id"] == "ferry"
        assert documents(served) == 6
    finally:
        served.stop()
