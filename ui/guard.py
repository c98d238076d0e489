"""HTTP hygiene for everything the server answers, the API and the Gradio UI alike.

- Security headers on every response: no MIME sniffing, no framing (X-Frame-Options and CSP
  frame-ancestors), no Referer, and a Content-Security-Policy that Gradio's page runs under
  (its scripts and styles are partly inline, so those are allowed; nothing from other origins).
- Which page may send: a state-changing request that comes from a page of another origin
  (its `Origin` header) is refused, unless that origin was configured (`--allow-origin`). A
  server bound to a loopback address also refuses a request that names any other host, since
  that is how a page on another site reaches it after rebinding its DNS name to 127.0.0.1.
- What a request may send: JSON routes take only `application/json` (415), as a page on
  another site cannot send JSON without the browser asking the server first; the upload and
  Gradio's login form take their form types. Bodies are bounded (413): uploads by the upload
  limit, everything else by JSON_LIMIT; a body must declare its length (411).

Errors are one line of JSON in OpenAI's shape. Which origins may *read* responses (CORS) is
Starlette's CORSMiddleware, set up beside this in server.py.
"""

from __future__ import annotations

import json
from typing import Iterable
from urllib.parse import urlsplit

from rag.errors import ConfigError

JSON_LIMIT = 2 * 2**20
UPLOAD_FILES = 10      # one upload request may carry this many files of the largest size
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_MULTIPART, _URLENCODED = "multipart/form-data", "application/x-www-form-urlencoded"
UPLOAD = "/gradio_api/upload"
_FORMS = {UPLOAD: (_MULTIPART,), "/gradio_api/component_server": (_MULTIPART,),
          "/login": (_MULTIPART, _URLENCODED)}     # the page sends FormData, gradio_client a form
_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "media-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
       "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
           (b"referrer-policy", b"no-referrer"), (b"cross-origin-opener-policy", b"same-origin"),
           (b"content-security-policy", CSP.encode()))


def check_origins(origins: Iterable[str]) -> list[str]:
    """Configured origins as `scheme://host[:port]`, or ConfigError naming the bad one."""
    out = []
    for origin in origins:
        parts = urlsplit(origin.strip().rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
            raise ConfigError(f"--allow-origin {origin!r} is not an origin: use scheme://host[:port], "
                              "e.g. https://tools.example.com")
        out.append(f"{parts.scheme}://{parts.netloc.lower()}")
    return out


class Guard:
    """ASGI middleware: the checks and headers above. `loopback`: the server is bound to a
    loopback address, so only loopback names (and the configured origins' hosts) may be asked
    for."""

    def __init__(self, app, *, max_upload_bytes: int, origins: Iterable[str] = (),
                 loopback: bool = False) -> None:
        self.app = app
        self.origins = set(origins)
        self.upload_limit = UPLOAD_FILES * max_upload_bytes + 2**20
        self.hosts = None if not loopback else (
            set(_LOOPBACK_NAMES) | {urlsplit(o).hostname for o in self.origins})

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope, _headers(scope))

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((k, v) for k, v in HEADERS if k not in names)]
            await send(message)

        if refusal:
            status, message, code = refusal
            body = json.dumps({"error": {"message": message, "type": "invalid_request_error",
                                         "param": None, "code": code}}, separators=(",", ":")).encode()
            await send_with_headers({"type": "http.response.start", "status": status,
                                     "headers": [(b"content-type", b"application/json"),
                                                 (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope, headers: dict[str, str]) -> tuple[int, str, str] | None:
        host = headers.get("host", "")
        if self.hosts is not None and _hostname("//" + host) not in self.hosts:
            return (400, f"this server answers to {', '.join(sorted(self.hosts))} only, not to "
                         f"{host[:60]!r}: open it as http://127.0.0.1:PORT, or add the name with "
                         "--allow-origin", "invalid_host")
        if scope["method"] not in _UNSAFE:
            return None
        origin = headers.get("origin")
        if origin is not None and origin.lower() not in self.origins and (
                _netloc(origin) != host.lower() or not host):
            return (403, f"requests from pages of {origin[:80]} are refused: only this server's own "
                         "page may send them (or an origin given with --allow-origin)",
                    "cross_origin_refused")
        path = scope["path"].rstrip("/") or "/"
        length = headers.get("content-length")
        if length is None:
            if "transfer-encoding" in headers:
                return 411, "send the body with a Content-Length header", "length_required"
            return None
        if not length.isdigit():
            return 400, "the Content-Length header is not a number", "bad_content_length"
        limit = self.upload_limit if path == UPLOAD else JSON_LIMIT
        if int(length) > limit:
            return (413, f"the request body is {int(length):,} bytes; the limit here is {limit:,}",
                    "request_too_large")
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        wanted = _FORMS.get(path, ("application/json",))
        if int(length) and kind not in wanted and not (path not in _FORMS and kind.endswith("+json")):
            return (415, f"send the body as {' or '.join(wanted)} (it was {kind or 'not labelled'})",
                    "unsupported_media_type")
        return None


def _headers(scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:   # a malformed header names no host
        return ""


def _netloc(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""
