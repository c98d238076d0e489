"""One server for both faces: the FastAPI app with the HTTP API, the Gradio UI mounted at `/`.

`make_app` builds it (tests use it in-process); `bind` takes the port and `run` serves the app
on it with uvicorn. It does not parse command lines (ui/cli.py), decide who may log in
(ui/auth.py) or what a request may carry (ui/guard.py).
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Sequence

import gradio as gr
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from rag.errors import ConfigError
from ui import app as ui_app
from ui.api import add_routes
from ui.auth import Auth
from ui.guard import Guard
from ui.service import Service

log = logging.getLogger("rag.serve")


def make_app(service: Service, auth: Auth, *, origins: Sequence[str] = (),
             loopback: bool = False) -> FastAPI:
    """`origins` (checked `scheme://host[:port]`) may call the API from their pages; `loopback`:
    the server is bound to a loopback address (see ui/guard.py)."""
    app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None)
    add_routes(app, service, auth)
    blocks = ui_app.build(service)
    blocks.queue(default_concurrency_limit=4)
    login = {}
    if auth.enabled:
        login = {"auth": auth.gradio_login,
                 "auth_message": "Enter any user name and the server's token (RAG_UI_TOKEN) as password."}
    # Gradio leaves CORS to this app when it has Starlette's CORSMiddleware (it would otherwise
    # let any localhost page read with credentials); only the configured origins may read.
    app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(Guard, max_upload_bytes=service.max_upload_bytes, origins=origins,
                       loopback=loopback)
    gr.mount_gradio_app(
        app, blocks, path="/", footer_links=[], run_history=False, show_error=False,
        max_file_size=service.max_upload_bytes, ssr_mode=False, mcp_server=False,
        theme=gr.themes.Soft(), head=ui_app.head(), js=ui_app.js(), **login)
    # Gradio checks that a file named in an event is one it received as an upload only for an
    # app it launched itself (`has_launched`); mounted, it would copy any server path it is
    # sent (then the upload event would index it). Mounted here is launched: turn the check on.
    blocks.has_launched = True
    return app


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, taken before anything is loaded or printed; ConfigError
    when the port is busy or the address cannot be used."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r} ({exc.strerror}): check --host") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use (another server?): stop "
                              "that one, or pick another port with --port") from None
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check --host "
                          "and --port") from None
    return sock


def run(app: FastAPI, sock: socket.socket) -> None:
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])
