"""A real HTTP server on 127.0.0.1 that speaks OpenAI's `/v1/chat/completions` (and, when a
test gives it an `embed` function, `/v1/embeddings`), for tests.

It is the one stand-in the tests allow: the code under test talks to it over a real socket with
the real `openai` client, exactly as it would talk to OpenAI, vLLM, llama.cpp or Ollama. Each test
scripts the replies, in order, as `Reply` records: a text (sent as one JSON reply, or as SSE chunks
when the request says `stream: true`), an HTTP status, a stall, a stream cut half-way, or a body
that is not valid JSON. Every request is recorded (path, headers, parsed JSON body) so tests can
assert on what the server received. It does not interpret prompts: it only replays the script.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest


@dataclass(frozen=True)
class Reply:
    text: str = ""
    status: int = 200
    stall_s: float = 0.0          # wait this long before answering (a stall) ...
    stall_after: int = 0          # ... or, streamed, after this many text chunks
    cut_after: int = 0            # drop the connection after this many text chunks (streamed) or body bytes ...
    cut_cleanly: bool = False     # ... or end the body properly, but with no finish reason or [DONE]
    raw: str | None = None        # send this body as-is (e.g. malformed JSON, a bad SSE event)
    headers: dict[str, str] = field(default_factory=dict)
    usage: tuple[int, int] | None = None   # (prompt, completion) tokens to report, if any
    chunk_chars: int = 6          # streamed: characters per SSE chunk
    chunk_delay_s: float = 0.001  # streamed: pause between chunks (a model writing)


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    peer: int = 0                 # the client's port: one connection reused keeps one port

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body.get("messages", [])

    @property
    def prompt(self) -> str:
        """All message contents joined (what the model was shown)."""
        return "\n".join(str(m.get("content", "")) for m in self.messages)


class OpenAIStub:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.embed: Callable[[list[str]], list[list[float]]] | None = None  # serves /v1/embeddings
        self.disconnects: list[float] = []   # monotonic times a streaming client went away
        stub = self

        class Handler(_Handler):
            owner = stub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL to configure, e.g. OPENAI_BASE_URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: "Reply | str | Callable[[Request], Reply | str]") -> "OpenAIStub":
        """Replace the script: the next requests get these replies, in order. A callable gets
        the request and returns the reply (e.g. to quote a source from the prompt)."""
        with self._lock:
            self._script = list(replies)
            self.requests.clear()
        return self

    def _next(self, request: Request) -> Reply:
        with self._lock:
            if not self._script:
                return Reply(status=500, raw=json.dumps({"error": {"message": "stub: no scripted reply"}}))
            reply = self._script.pop(0)
        if callable(reply):
            reply = reply(request)
        return Reply(text=reply) if isinstance(reply, str) else reply

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIStub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:   # keep test output quiet
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {"_unparsed": raw}
        stub = self.owner
        request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                          self.client_address[1])
        with stub._lock:
            stub.requests.append(request)
        if self.path.rstrip("/").endswith("/embeddings") and stub.embed is not None:
            texts = body["input"] if isinstance(body.get("input"), list) else [body.get("input", "")]
            data = [{"object": "embedding", "index": i, "embedding": list(map(float, v))}
                    for i, v in enumerate(stub.embed(texts))]
            return self._json(200, {"object": "list", "data": data, "model": body.get("model", ""),
                                    "usage": {"prompt_tokens": 0, "total_tokens": 0}})
        reply = stub._next(request)
        if reply.stall_s and not reply.stall_after and stub._stop.wait(reply.stall_s):
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            return self._json(404, {"error": {"message": f"stub: unknown path {self.path}"}})
        if reply.raw is not None:   # streamed requests get it as the event-stream body
            kind = "text/event-stream" if body.get("stream") else "application/json"
            return self._send(reply.status, reply.raw.encode(), kind, reply.headers)
        if reply.status != 200:
            return self._json(reply.status, {"error": {"message": f"stub status {reply.status}",
                                                       "type": "stub_error"}}, reply.headers)
        model = body.get("model", "")
        finish = "stop"
        cap = body.get("max_tokens")
        if isinstance(cap, int) and len(reply.text.split()) > cap:   # as a server caps generation
            usage = (reply.usage[0], cap) if reply.usage else None
            reply = replace(reply, text=" ".join(reply.text.split()[:cap]), usage=usage)
            finish = "length"
        if body.get("stream"):
            return self._stream(reply, model, finish, bool((body.get("stream_options") or {}).get("include_usage")))
        prompt_tokens, completion_tokens = reply.usage or (0, 0)
        out = {"id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
               "model": model,
               "choices": [{"index": 0, "finish_reason": finish,
                            "message": {"role": "assistant", "content": reply.text}}]}
        if reply.usage:
            out["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                            "total_tokens": prompt_tokens + completion_tokens}
        if reply.cut_after:   # announce the whole body, send its start, hang up
            data = json.dumps(out).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:reply.cut_after])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self._json(200, out, reply.headers)

    # -- writing ------------------------------------------------------------------------------
    def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers or {})

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        if "Content-Type" not in headers:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, reply: Reply, model: str, finish: str, include_usage: bool) -> None:
        try:
            self._stream_now(reply, model, finish, include_usage)
        except (BrokenPipeError, ConnectionResetError):
            self.owner.disconnects.append(time.monotonic())
            self.close_connection = True

    def _stream_now(self, reply: Reply, model: str, finish: str, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = [reply.text[i:i + reply.chunk_chars]
                  for i in range(0, len(reply.text), reply.chunk_chars)] or [""]

        def event(payload: dict | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            self._chunk(f"data: {data}\n\n".encode())

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0,
                    "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        event(chunk({"role": "assistant", "content": ""}))
        for i, piece in enumerate(pieces):
            if reply.cut_after and i >= reply.cut_after and reply.cut_cleanly:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            if reply.cut_after and i >= reply.cut_after:
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)   # drop the connection mid-body, no final chunk
                return
            if reply.stall_after and i == reply.stall_after and self.owner._stop.wait(reply.stall_s):
                return
            event(chunk({"content": piece}))
            time.sleep(reply.chunk_delay_s)
        event(chunk({}, finish))
        if include_usage and reply.usage:
            event({"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
                   "choices": [], "usage": {"prompt_tokens": reply.usage[0], "completion_tokens": reply.usage[1],
                                            "total_tokens": sum(reply.usage)}})
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    """A fresh stub server per test (import this fixture into a test module to use it)."""
    stub = OpenAIStub()
    yield stub
    stub.close()
