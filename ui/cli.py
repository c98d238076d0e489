"""`rag serve`: start the web UI and the HTTP API on one port.

Parses options, builds the Assistant from the CLI context, warms it up, checks the auth rule,
and hands over to ui/server.py. Nothing else lives here.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from rag.cli import assistant_from


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but 127.0.0.1, localhost or ::1 needs "
                   "RAG_UI_TOKEN (or --token-file) or --no-auth.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Read the access token from this file (default: $RAG_UI_TOKEN, $RAG_UI_TOKEN_FILE).")
@click.option("--no-auth", is_flag=True, help="Serve a non-loopback address without a token.")
@click.option("--max-upload-mb", default=10.0, show_default=True, type=click.FloatRange(0.001, 20),
              help="Largest file the Documents tab accepts.")
@click.option("--allow-origin", "origins", multiple=True, envvar="RAG_UI_ALLOW_ORIGINS",
              metavar="URL", help="A web origin (scheme://host[:port]) whose pages may call the "
                                  "API (repeatable; $RAG_UI_ALLOW_ORIGINS, space-separated). "
                                  "Default: only the server's own page.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token_file: Path | None, no_auth: bool,
          max_upload_mb: float, origins: tuple[str, ...]) -> None:
    """Start the web UI and the OpenAI-compatible HTTP API (same port).

    \b
    Open http://127.0.0.1:7860 for the chat; the API is at /v1/chat/completions,
    /v1/models, /api/ask and /healthz. Examples:
      rag serve
      rag serve --port 8080
      RAG_UI_TOKEN=$(cat ~/.rag-token) rag serve --host 0.0.0.0
    """
    from ui import auth as auth_rules
    from ui.guard import check_origins

    auth = auth_rules.resolve(host, no_auth=no_auth, token_file=token_file, env=os.environ)
    origins = check_origins(origins)
    from ui.server import bind, make_app, run
    from ui.service import Service

    sock = bind(host, port)
    port = sock.getsockname()[1]
    service = Service(assistant_from(ctx), max_upload_bytes=int(max_upload_mb * 2**20))
    for name in service.recover():
        click.echo(f"note: the server stopped during the upload of {name}; that upload was undone",
                   err=True)
    problem = service.warm()
    if problem:
        click.echo(f"note: {problem} (you can also upload articles in the Documents tab)", err=True)
    problem = service.warm_llm()
    if problem:
        click.echo(f"note: the LLM cannot answer ({problem}); answers are extractive", err=True)
    if no_auth and not auth_rules.is_loopback(host):
        click.echo(f"warning: serving {host} without authentication (--no-auth)", err=True)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"newsrag: http://{shown}:{port}  (API: /v1/chat/completions, /api/ask; "
               f"{'token required' if auth.enabled else 'no login'}; Ctrl-C stops)", err=True)
    run(make_app(service, auth, origins=origins, loopback=auth_rules.is_loopback(host)), sock)
