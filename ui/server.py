"""One server for both faces: the FastAPI app with the HTTP API, the Gradio UI mounted at `/`.

`make_app` builds it (tests use it in-process); `run` serves it with uvicorn. It does not parse
command lines (ui/cli.py) or decide who may log in (ui/auth.py).
"""

from __future__ import annotations

import logging

import gradio as gr
from fastapi import FastAPI

from ui import app as ui_app
from ui.api import add_routes
from ui.auth import Auth
from ui.service import Service

log = logging.getLogger("rag.serve")


def make_app(service: Service, auth: Auth) -> FastAPI:
    app = FastAPI(title="newsrag", docs_url=None, redoc_url=None, openapi_url=None)
    add_routes(app, service, auth)
    blocks = ui_app.build(service)
    blocks.queue(default_concurrency_limit=4)
    login = {}
    if auth.enabled:
        login = {"auth": auth.gradio_login,
                 "auth_message": "Enter any user name and the server's token (RAG_UI_TOKEN) as password."}
    return gr.mount_gradio_app(
        app, blocks, path="/", footer_links=[], run_history=False, show_error=False,
        max_file_size=service.max_upload_bytes, ssr_mode=False, mcp_server=False,
        theme=gr.themes.Soft(), head=ui_app.head(), js=ui_app.js(), **login)


def run(app: FastAPI, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
