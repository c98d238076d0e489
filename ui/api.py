"""The HTTP API: an OpenAI-compatible chat endpoint, a JSON ask endpoint, saved conversations,
models, health.

- `POST /v1/chat/completions` (plain and `stream=true`): the last user message is the question,
  earlier user/assistant turns are the history. The reply is a standard `chat.completion`
  (or `chat.completion.chunk` events) whose content is the answer text with `[n]` markers, plus
  two extra top-level fields: `citations` (a list of `Citation.to_dict()`) and `rag`
  (`abstained`, `mode`, `notice`, `query`, `timings_ms`). When streaming they come in the final
  chunk, the one with `finish_reason: "stop"`, whose `rag.answer` is the verified text (the
  streamed content is the model's raw text). In llm mode the first chunk after the role carries
  `rag_draft`: the instant extractive answer with its citations, shown until the LLM's text
  replaces it. A client that disconnects stops the generation. Extra request fields: `k`, `doc_ids`,
  `conversation_id`. `usage` counts the LLM's tokens for this answer (the server's report, else
  tiktoken's count; 0 for an extractive answer). With `stream_options: {"include_usage": true}`
  (only with `stream: true`, as OpenAI rules) every chunk carries `"usage": null` and one more
  chunk before `[DONE]` has `"choices": []` and the usage.
- `GET /v1/models`: `newsrag`, `newsrag-extractive` and, when an LLM is configured,
  `newsrag-llm`; the model picks the answer mode.
- `POST /api/ask` takes `{"question", "history", "k", "doc_ids", "mode"}` and returns exactly
  `Answer.to_dict()`, the object `rag ask --json` prints.
- Saving: a request to either with `conversation_id` (a saved conversation's id, or "new" to start
  one titled with the question) saves the question and its final Answer as a turn, and the reply
  (streamed: its `finish_reason: "stop"` chunk) carries `conversation_id`. Without it nothing is
  saved. The history still comes from the request, not from the saved turns.
- `GET /v1/conversations` (newest first, without turns), `GET /v1/conversations/{id}` (with its
  turns, each answer as `Answer.to_dict()`), `DELETE /v1/conversations/{id}`: the conversations
  the web UI keeps (rag/conversations.py), for other front ends. They know no users: whoever has
  the token sees them all.
- `GET /healthz`: always open; says whether the index can answer.

Errors use OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with the library's
one-line message. It does not do embeddings, completions (legacy), tools or images, and it does
not rename conversations or edit their turns.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any, Callable, Iterator

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.responses import JSONResponse, StreamingResponse

from rag.conversations import Conversations
from rag.errors import (BadQuestion, ConfigError, ConversationNotFound, ConversationStoreError,
                        DocumentNotFound, IndexDiverged, IndexNotBuilt, LLMUnavailable, RagError)
from rag.records import Answer
from ui.auth import Auth
from ui.service import Service

MODEL = "newsrag"
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_HISTORY_TURNS = 20
NEW_CONVERSATION = "new"
log = logging.getLogger("rag.serve")


class APIError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code
        self.param = param


def add_routes(app: FastAPI, service: Service, auth: Auth) -> None:
    def require_token(request: Request) -> None:
        if not auth.check_bearer(request.headers.get("authorization")):
            raise APIError(401, "missing or wrong token: send `Authorization: Bearer <token>` with "
                                "the server's RAG_UI_TOKEN", "authentication_error", "invalid_api_key")

    app.add_exception_handler(APIError, _api_error)
    api = APIRouter(dependencies=[Depends(require_token)])

    @app.get("/healthz")
    def healthz() -> dict:
        docs = service.docs()
        return {"status": "ok", "index": "ready" if docs else "empty", "documents": len(docs)}

    @api.get("/v1/models")
    def models() -> dict:
        names = [MODEL] + [f"{MODEL}-{m}" for m in reversed(service.modes)]
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 0,
                                            "owned_by": "newsrag"} for n in names]}

    @api.post("/v1/chat/completions")
    def chat_completions(body: dict = _json_body()) -> Any:
        model = str(body.get("model") or MODEL)
        mode = _mode_for(model, service.modes)
        question, history = _conversation(body.get("messages"))
        options = _options(body, mode)
        include_usage = _include_usage(body)
        save = _saver(service.conversations, body.get("conversation_id"))
        created, cid = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.get("stream"):
            pieces = service.stream(question, history=history, **options)
            first = _guarded(lambda: next(pieces))   # fail before the 200 if the question is bad
            events = _sse(first, pieces, cid, created, model, include_usage=include_usage, save=save)
            return StreamingResponse(_closing(events), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        answer = _guarded(lambda: service.ask(question, history=history, **options))
        return {"id": cid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": answer.text}}],
                "usage": _usage(answer),
                **_extras(answer), **_saved(save, answer)}

    @api.post("/api/ask")
    def ask(body: dict = _json_body()) -> dict:
        question = body.get("question")
        if not isinstance(question, str):
            raise APIError(400, 'send {"question": "..."}: the question is missing or not text')
        history = _history(body.get("history") or [])
        mode = body.get("mode")
        if mode is not None and mode not in service.modes:
            raise APIError(400, f"mode {mode!r} is not available here; use one of {service.modes}")
        options = _options(body, mode)
        save = _saver(service.conversations, body.get("conversation_id"))
        answer = _guarded(lambda: service.ask(question, history=history, **options))
        return {**answer.to_dict(), **_saved(save, answer)}

    @api.get("/v1/conversations")
    def list_conversations() -> dict:
        found = _guarded(service.conversations.list)
        return {"object": "list", "data": [c.to_dict(with_turns=False) for c in found]}

    @api.get("/v1/conversations/{conversation_id}")
    def get_conversation(conversation_id: str) -> dict:
        return _guarded(lambda: service.conversations.get(conversation_id)).to_dict()

    @api.delete("/v1/conversations/{conversation_id}")
    def delete_conversation(conversation_id: str) -> dict:
        _guarded(lambda: service.conversations.delete(conversation_id))
        return {"id": conversation_id, "object": "conversation.deleted", "deleted": True}

    app.include_router(api)
    routes: dict[str, tuple[Any, set[str]]] = {}      # path template -> (its regex, its methods)
    for r in (*app.routes, *api.routes):
        if isinstance(r, APIRoute):
            routes.setdefault(r.path, (r.path_regex, set()))[1].update(r.methods)

    @app.api_route("/v1/{rest:path}", methods=_METHODS, include_in_schema=False)
    @app.api_route("/api/{rest:path}", methods=_METHODS, include_in_schema=False)
    def unknown(request: Request) -> None:
        path, method = request.url.path.rstrip("/"), request.method
        for template, (regex, methods) in routes.items():
            if regex.match(request.scope["path"].rstrip("/")) and method not in methods:
                raise APIError(405, f"{template} takes {', '.join(sorted(methods))}, not {method}",
                               code="method_not_allowed")
        raise APIError(404, f"there is no {method} {path[:80]} here; the API is "
                            + ", ".join(f"{'/'.join(sorted(m))} {r}" for r, (_, m) in routes.items()),
                       code="not_found")

    app.add_exception_handler(Exception, _internal_error)


# -- request parsing ---------------------------------------------------------------------------
def _json_body():
    async def parse(request: Request) -> dict:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise APIError(400, "the request body is not valid JSON (in UTF-8)") from None
        except RecursionError:
            raise APIError(400, "the request body nests too deeply to be a request") from None
        if not isinstance(body, dict):
            raise APIError(400, "the request body must be a JSON object")
        return body
    return Depends(parse)


def _mode_for(model: str, modes: list[str]) -> str | None:
    if model == MODEL:
        return None
    if model.startswith(MODEL + "-") and model[len(MODEL) + 1:] in modes:
        return model[len(MODEL) + 1:]
    names = [MODEL] + [f"{MODEL}-{m}" for m in modes]
    raise APIError(404, f"model {model!r} does not exist here; use one of {', '.join(names)}",
                   code="model_not_found")


def _text(content: Any) -> str:
    """OpenAI message content: a string, or a list of parts of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content
                         if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _conversation(messages: Any) -> tuple[str, list[tuple[str, str]]]:
    if not isinstance(messages, list) or not messages:
        raise APIError(400, "messages must be a non-empty list of {role, content} objects")
    turns = [m for m in messages if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
    if not turns or turns[-1].get("role") != "user":
        raise APIError(400, "the last message must come from the user: it is the question")
    history, pending = [], None
    for m in turns[:-1]:
        if m["role"] == "user":
            pending = _text(m.get("content"))
        elif pending is not None:
            history.append((pending, _text(m.get("content"))))
            pending = None
    return _text(turns[-1].get("content")), history[-MAX_HISTORY_TURNS:]


def _history(raw: Any) -> list[tuple[str, str]]:
    """`[[question, answer], ...]` or OpenAI-style `[{role, content}, ...]`."""
    if not isinstance(raw, list):
        raise APIError(400, "history must be a list of [question, answer] pairs or of messages")
    if all(isinstance(t, (list, tuple)) and len(t) == 2 for t in raw):
        return [(str(q), str(a)) for q, a in raw][-MAX_HISTORY_TURNS:]
    if all(isinstance(t, dict) for t in raw):
        return _conversation(raw + [{"role": "user", "content": ""}])[1]
    raise APIError(400, "history must be a list of [question, answer] pairs or of messages")


def _options(body: dict, mode: str | None) -> dict:
    options: dict[str, Any] = {}
    if body.get("k") is not None:
        if not isinstance(body["k"], int) or isinstance(body["k"], bool):
            raise APIError(400, f"k must be a whole number, got {body['k']!r}")
        options["k"] = body["k"]
    if body.get("doc_ids"):
        ids = body["doc_ids"]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise APIError(400, "doc_ids must be a list of article ids (see GET /healthz, `rag docs`)")
        options["doc_ids"] = ids
    if mode:
        options["mode"] = mode
    return options


def _include_usage(body: dict) -> bool:
    """OpenAI's `stream_options: {"include_usage": bool}`, allowed only with `stream: true`."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise APIError(400, 'stream_options must be an object, like {"include_usage": true}; got '
                            f"{_shown(options)}", param="stream_options")
    if not body.get("stream"):
        raise APIError(400, 'stream_options is only allowed with "stream": true',
                       param="stream_options")
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise APIError(400, f"stream_options.include_usage must be true or false, got {_shown(include)}",
                       param="stream_options.include_usage")
    return include


def _saver(conversations: Conversations, conversation_id: Any) -> Callable[[Answer], str] | None:
    """What saves an answer to the conversation a request names (None: it names none). An
    unknown id fails here, before the question is answered."""
    if conversation_id is None:
        return None
    if not isinstance(conversation_id, str):
        raise APIError(400, f'conversation_id must be a saved conversation\'s id (text) or "new", '
                            f"got {_shown(conversation_id)}", param="conversation_id")
    if conversation_id != NEW_CONVERSATION:
        _guarded(lambda: conversations.get(conversation_id))

    def save(answer: Answer) -> str:
        target = (conversations.start(answer.question).id if conversation_id == NEW_CONVERSATION
                  else conversation_id)
        conversations.add_turn(target, answer.question, answer)
        return target
    return save


def _saved(save: Callable[[Answer], str] | None, answer: Answer) -> dict:
    """The reply's `conversation_id` field, once the answer is saved ({} when not asked to)."""
    return {"conversation_id": _guarded(lambda: save(answer))} if save else {}


def _shown(value: Any) -> str:
    return json.dumps(value)[:60]


# -- answers ------------------------------------------------------------------------------------
def _guarded(call):
    """Run `call`, turning the library's typed errors into API errors."""
    try:
        return call()
    except (BadQuestion, ConfigError, DocumentNotFound) as exc:
        raise APIError(400, str(exc)) from None
    except ConversationNotFound as exc:
        raise APIError(404, str(exc), code="conversation_not_found") from None
    except ConversationStoreError as exc:
        raise APIError(503, str(exc), "server_error", "conversation_store_unavailable") from None
    except IndexNotBuilt as exc:
        raise APIError(503, str(exc), "server_error", "index_not_built") from None
    except IndexDiverged as exc:
        raise APIError(503, str(exc), "server_error", "index_diverged") from None
    except LLMUnavailable as exc:
        raise APIError(502, str(exc), "server_error", "llm_unavailable") from None
    except RagError as exc:
        raise APIError(500, str(exc), "server_error") from None


def _extras(answer: Answer) -> dict:
    d = answer.to_dict()
    return {"citations": d["citations"],
            "rag": {"answer": answer.text, "abstained": answer.abstained, "mode": answer.mode,
                    "notice": answer.notice, "query": answer.query, "scope": answer.scope,
                    "timings_ms": d["timings_ms"]}}


def _usage(answer: Answer) -> dict:
    """OpenAI's usage object: the LLM's tokens for this answer (0 for an extractive one)."""
    prompt, completion = int(answer.usage.get("prompt_tokens", 0)), int(answer.usage.get("completion_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


async def _closing(events: Iterator[str]):
    """Serve a blocking event iterator from worker threads, and close it when the client goes
    away (Starlette cancels the response): closing the answer's stream stops the LLM. Without
    this the iterator would wait, suspended, for the garbage collector."""
    import threading

    import anyio

    lock = threading.Lock()            # close() waits for a next() still running in its thread

    def step() -> str | None:
        with lock:
            return next(events, None)

    def close() -> None:
        with lock:
            events.close()

    try:
        while (event := await anyio.to_thread.run_sync(step)) is not None:
            yield event
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(close)


def _sse(first, pieces: Iterator, cid: str, created: int, model: str, *, include_usage: bool = False,
         save: Callable[[Answer], str] | None = None) -> Iterator[str]:
    """The answer as `chat.completion.chunk` events. With `include_usage`, every chunk says
    `"usage": null` and a last one, with no choices, the answer's usage (OpenAI's way); with
    `save`, the final answer is saved before its chunk, which then names the conversation."""
    usage = {"usage": None} if include_usage else {}

    def event(body: dict) -> str:
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def chunk(delta: dict, finish: str | None = None, **extra) -> str:
        return event({"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                      "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **usage,
                      **extra})

    yield chunk({"role": "assistant", "content": ""})
    piece = first
    try:
        while True:
            if isinstance(piece, Answer) and piece.draft:   # no content: clients join content
                yield chunk({}, None, rag_draft={"answer": piece.text, **_extras(piece)})
            elif isinstance(piece, Answer):
                saved = {"conversation_id": save(piece)} if save else {}
                yield chunk({}, "stop", **_extras(piece), **saved)
                if include_usage:
                    yield event({"id": cid, "object": "chat.completion.chunk", "created": created,
                                 "model": model, "choices": [], "usage": _usage(piece)})
                break
            elif piece:
                yield chunk({"content": piece})
            else:                 # the model is still reading: a comment, so a gone client shows
                yield ": reading\n\n"
            piece = next(pieces)
    except StopIteration:
        pass
    except RagError as exc:   # mid-stream: the status is sent already; say it in the stream
        yield f"data: {json.dumps({'error': {'message': str(exc), 'type': 'server_error'}})}\n\n"
    except Exception:
        log.exception("stream failed")
        yield f"data: {json.dumps({'error': {'message': 'internal error; see the server log', 'type': 'server_error'}})}\n\n"
    yield "data: [DONE]\n\n"


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug, not bad input: the traceback goes to the server log (uvicorn writes it)."""
    return await _api_error(request, APIError(500, "internal error; see the server log", "server_error"))


async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    return JSONResponse({"error": {"message": exc.message, "type": exc.kind, "param": exc.param,
                                   "code": exc.code}}, status_code=exc.status)
