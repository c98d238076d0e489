"""The OpenAI-compatible server backend: one plain call and one streamed call, nothing more.

It talks to any server that speaks `/v1/chat/completions` (OpenAI, vLLM, llama.cpp server, Ollama,
LM Studio) through the `openai` client, with every setting passed explicitly: base URL, model
name (any name; nothing is checked against a list), timeout. Retries with exponential backoff
happen only where they make sense (HTTP 429 and 5xx, before any text arrived), and every call is
bounded by `max_wait_s` in total, so nothing hangs. Every failure becomes `LLMUnavailable` with a
one-line message naming the cause and what to check; the API key is read from the environment at
the moment of the call and never appears in a message, a log line or a returned value.

It does not build prompts, count tokens or judge answers (see rag/prompt.py and rag/generative.py).
Closing the stream's iterator closes the HTTP response, which stops the server's generation.
"""

from __future__ import annotations

import json
import random
import socket
import time
from typing import TYPE_CHECKING, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from rag.errors import ConfigError, LLMUnavailable
from rag.llm.records import Completion, Message
from rag.settings import api_key

if TYPE_CHECKING:
    from rag.settings import Settings

NO_KEY = "no-key-set"
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504})


class ChatLLM:
    def __init__(self, base_url: str, model: str, *, api_key_env: str = "OPENAI_API_KEY",
                 timeout_s: float = 30.0, max_retries: int = 2, max_wait_s: float = 120.0,
                 backoff_s: float = 0.5) -> None:
        if not model:
            raise ConfigError("no LLM model is set: set RAG_LLM_MODEL (e.g. gpt-4o-mini, llama3.1)")
        if timeout_s <= 0 or max_wait_s <= 0:
            raise ConfigError(f"LLM timeouts must be > 0, got timeout {timeout_s} and max wait {max_wait_s}")
        self.base_url = base_url.rstrip("/") or "https://api.openai.com/v1"
        self.model, self.api_key_env = model, api_key_env
        self.timeout_s, self.max_retries = float(timeout_s), max(0, int(max_retries))
        self.max_wait_s, self.backoff_s = float(max_wait_s), backoff_s
        self.where = _display_url(self.base_url)
        import openai

        # one client for the process: its connections are kept alive between questions, and
        # the first question does not pay for importing and building it (the key is set per call)
        self._client = openai.OpenAI(base_url=self.base_url, api_key=NO_KEY, max_retries=0,
                                     timeout=self.timeout_s)
        self._client.chat.completions   # imports openai's resources now (~0.5 s), not on a question

    @classmethod
    def from_settings(cls, settings: "Settings") -> "ChatLLM":
        return cls(settings.llm_base_url, settings.llm_model, api_key_env=settings.llm_api_key_env,
                   timeout_s=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
                   max_wait_s=settings.llm_max_wait_s)

    def __repr__(self) -> str:
        return f"ChatLLM({self.where!r}, model={self.model!r})"

    # -- the two calls ------------------------------------------------------------------------
    def complete(self, messages: Sequence[Message], *, max_tokens: int = 512,
                 temperature: float = 0.0) -> Completion:
        """One reply, whole. Raises LLMUnavailable."""
        deadline = time.monotonic() + self.max_wait_s
        reply, attempts = self._open(messages, max_tokens, temperature, deadline, stream=False)
        try:
            if isinstance(reply, str) or not reply.choices:
                raise ValueError("no choices")
            choice = reply.choices[0]
            text = choice.message.content or ""
            if not isinstance(text, str):
                raise ValueError("content is not text")
            usage = getattr(reply, "usage", None)
            return Completion(text=text, finish_reason=str(choice.finish_reason or ""),
                              prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                              completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                              attempts=attempts)
        except (AttributeError, TypeError, ValueError, IndexError):
            raise LLMUnavailable(f"the LLM at {self.where} sent a malformed reply (not an OpenAI "
                                 "chat completion): check that it speaks the OpenAI API") from None

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 512,
               temperature: float = 0.0) -> Iterator[str | Completion]:
        """Yield text deltas as they arrive, then one Completion with the whole text.

        Raises LLMUnavailable, also after some deltas were yielded (a stream cut half-way, a
        stall longer than the timeout, malformed events), so callers must not trust the deltas
        alone."""
        import httpx

        deadline = time.monotonic() + self.max_wait_s
        stream, attempts = self._open(messages, max_tokens, temperature, deadline, stream=True)
        parts: list[str] = []
        finish, usage = "", None
        try:
            for chunk in stream:
                if time.monotonic() > deadline:
                    raise LLMUnavailable(f"the LLM at {self.where} took longer than {self.max_wait_s:g}s "
                                         "in total: raise RAG_LLM_MAX_WAIT_S or use a faster model")
                if isinstance(chunk, str):
                    raise ValueError("event is not JSON")
                usage = getattr(chunk, "usage", None) or usage
                for choice in chunk.choices or ():
                    delta = getattr(choice.delta, "content", None) if choice.delta else None
                    if delta:
                        if not isinstance(delta, str):
                            raise ValueError("delta is not text")
                        parts.append(delta)
                        yield delta
                    if choice.finish_reason:
                        finish = str(choice.finish_reason)
        except LLMUnavailable:
            raise
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise LLMUnavailable(f"the LLM's stream from {self.where} stopped half-way "
                                 f"({type(exc).__name__}): try again, or check the server") from None
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            raise LLMUnavailable(f"the LLM at {self.where} sent a malformed stream event (not valid "
                                 "JSON): check that it speaks the OpenAI API") from None
        except Exception as exc:   # the openai client's own errors (timeouts mid-stream)
            raise self._explain(exc, attempts) from None
        finally:
            stream.close()
        if not finish:
            kind = getattr(getattr(stream, "response", None), "headers", {}).get("content-type", "")
            if "event-stream" not in kind:   # an error or login page, not a stream that broke
                raise LLMUnavailable(f"the LLM at {self.where} answered a streamed request with "
                                     f"{kind.split(';')[0] or 'no content type'}, not an event stream: "
                                     "check OPENAI_BASE_URL / RAG_LLM_BASE_URL (a proxy's page?)")
            raise LLMUnavailable(f"the LLM's stream from {self.where} stopped half-way (it ended "
                                 "without a finish reason): try again, or check the server")
        yield Completion(text="".join(parts), finish_reason=finish,
                         prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
                         completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
                         attempts=attempts)

    # -- retries ------------------------------------------------------------------------------
    def _open(self, messages: Sequence[Message], max_tokens: int, temperature: float,
              deadline: float, *, stream: bool):
        """Send the request, retrying 429/5xx with backoff inside the deadline.
        Returns (reply or stream, attempts)."""
        import openai

        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LLMUnavailable(f"the LLM at {self.where} did not answer within "
                                     f"{self.max_wait_s:g}s in total ({attempt - 1} attempts): "
                                     "check the server, or raise RAG_LLM_MAX_WAIT_S")
            try:
                extra = {"stream_options": {"include_usage": True}} if stream else {}
                # local servers need no key, but the client insists on one: send a placeholder then
                client = self._client.with_options(api_key=api_key(self.api_key_env) or NO_KEY,
                                                   timeout=min(self.timeout_s, remaining))
                reply = client.chat.completions.create(
                    model=self.model, messages=list(messages), max_tokens=max_tokens,
                    temperature=temperature, stream=stream, **extra)
                return reply, attempt
            except openai.APIStatusError as exc:
                wait = self._backoff(attempt, exc.response.headers.get("retry-after"))
                if (exc.status_code in RETRYABLE and attempt <= self.max_retries
                        and time.monotonic() + wait < deadline):
                    time.sleep(wait)
                    continue
                raise self._explain(exc, attempt) from None
            except Exception as exc:
                raise self._explain(exc, attempt) from None

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        wait = self.backoff_s * 2 ** (attempt - 1) * (1 + 0.25 * random.random())
        try:
            return max(wait, float(retry_after)) if retry_after else wait
        except ValueError:   # an HTTP date: fall back to our own schedule
            return wait

    # -- errors for people --------------------------------------------------------------------
    def _explain(self, exc: BaseException, attempts: int) -> LLMUnavailable:
        import httpx
        import openai

        where = self.where
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if isinstance(exc, LLMUnavailable):
            return exc
        if isinstance(exc, openai.APIStatusError):
            code = exc.status_code
            if code in (401, 403):
                return LLMUnavailable(f"the LLM at {where} refused the API key (HTTP {code}): "
                                      f"check {self.api_key_env}")
            if code == 404:
                return LLMUnavailable(f"the LLM at {where} answered HTTP 404 for model {self.model!r}: "
                                      "check RAG_LLM_MODEL, and that the base URL ends in /v1")
            if code == 429:
                return LLMUnavailable(f"the LLM at {where} is rate-limiting (HTTP 429){tries}: "
                                      "wait a minute, or check your plan's limits")
            if code >= 500:
                return LLMUnavailable(f"the LLM at {where} failed with HTTP {code}{tries}: "
                                      "the server has a problem; try again later")
            return LLMUnavailable(f"the LLM at {where} rejected the request (HTTP {code}): "
                                  "check RAG_LLM_MODEL and RAG_LLM_CONTEXT_WINDOW")
        if (isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException))
                or _caused_by(exc, TimeoutError)):
            return LLMUnavailable(f"the LLM at {where} did not answer within {self.timeout_s:g}s "
                                  "(timeout): check the server, or raise RAG_LLM_TIMEOUT_S")
        if isinstance(exc, openai.APIConnectionError):
            host = urlsplit(self.base_url).hostname or where
            if _caused_by(exc, socket.gaierror) or "name or service not known" in _chain_text(exc):
                return LLMUnavailable(f"cannot resolve the LLM host {host!r} (DNS failure): "
                                      "check OPENAI_BASE_URL / RAG_LLM_BASE_URL")
            if _caused_by(exc, ConnectionRefusedError) or "connection refused" in _chain_text(exc):
                return LLMUnavailable(f"cannot connect to the LLM at {where} (connection refused): "
                                      "is the server running? check OPENAI_BASE_URL / RAG_LLM_BASE_URL")
            if any(m in _chain_text(exc) for m in ("complete message body", "incomplete chunked read")):
                return LLMUnavailable(f"the LLM at {where} stopped its reply half-way (the connection "
                                      "closed before the whole body came): try again, or check the server")
            return LLMUnavailable(f"cannot reach the LLM at {where} (connection error): "
                                  "check OPENAI_BASE_URL / RAG_LLM_BASE_URL and your network")
        if isinstance(exc, (json.JSONDecodeError, ValueError)):
            return LLMUnavailable(f"the LLM at {where} sent a malformed reply (not valid JSON): "
                                  "check that it speaks the OpenAI API")
        return LLMUnavailable(f"the LLM call to {where} failed ({type(exc).__name__}): "
                              "check OPENAI_BASE_URL / RAG_LLM_BASE_URL")


def _caused_by(exc: BaseException, kind: type) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, kind):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _chain_text(exc: BaseException) -> str:
    parts, seen = [], 0
    while exc is not None and seen < 10:
        parts.append(str(exc).lower())
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return " ".join(parts)


def _display_url(url: str) -> str:
    """The URL without user info, query or fragment (where a key could hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", "")) or "the configured URL"
