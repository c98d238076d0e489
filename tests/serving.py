"""Start and stop a real `rag serve` subprocess for the API, load and browser tests, and send it
Gradio events over plain HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from evals.perf_common import stop_process, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).parent / "rag"


@dataclass
class Served:
    url: str
    home: Path
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        stop_process(self.proc)


def copy_home(source: Path, target: Path) -> Path:
    """A private copy of a built index, so a server can ingest and delete without re-embedding
    (with no saved chats: other tests' servers may have saved some in the source)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("conversations.sqlite3*", "chat_history"))
    return target


def start(home: Path, port: int, *args: str, host: str = "127.0.0.1", env: dict | None = None,
          timeout: float = 120) -> Served:
    log = home.parent / f"serve-{port}.log"
    inherited = {k: v for k, v in os.environ.items() if k != "RAG_UI_TOKEN"}
    full_env = {**inherited, "PYTHONPATH": str(ROOT), **(env or {})}
    with open(log, "w") as out:
        proc = subprocess.Popen([str(RAG), "--home", str(home), "serve", "--host", host,
                                 "--port", str(port), *args], stdout=out, stderr=subprocess.STDOUT,
                                env=full_env, cwd=str(home.parent))
    url = f"http://{host}:{port}"
    if not wait_until_up(f"{url}/healthz", proc, timeout):
        proc.kill()
        raise RuntimeError(f"rag serve did not start:\n{log.read_text()[-3000:]}")
    return Served(url, home, proc, log)


# -- Gradio events over plain HTTP, as a browser (or an attacker) sends them ------------------
def gradio_fn(url: str, elem_id: str, event: str) -> tuple[int, int]:
    """(fn_index, trigger id) of the event `event` of the component with `elem_id`."""
    config = json.load(urllib.request.urlopen(f"{url}/config", timeout=30))
    trigger = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    fn = next(d.get("id", i) for i, d in enumerate(config["dependencies"])
              if [trigger, event] in [list(t) for t in d["targets"]])
    return fn, trigger


def gradio_upload(url: str, path: Path) -> str:
    """Send a file as the browser does (POST /gradio_api/upload); the server path it got."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(f"{url}/gradio_api/upload", body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)[0]


def file_data(path: str, name: str | None = None) -> dict:
    return {"path": path, "orig_name": name or Path(path).name, "meta": {"_type": "gradio.FileData"}}


def gradio_join(url: str, elem_id: str, event: str, data: list) -> str:
    """Queue one event (POST /gradio_api/queue/join); its session hash, to read the result with."""
    fn, trigger = gradio_fn(url, elem_id, event)
    session = uuid.uuid4().hex[:12]
    body = json.dumps({"data": data, "fn_index": fn, "trigger_id": trigger, "session_hash": session,
                       "event_data": None}).encode()
    req = urllib.request.Request(f"{url}/gradio_api/queue/join", body, method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()
    return session


def gradio_result(url: str, session: str, timeout: float = 300) -> dict:
    """The `process_completed` message of a queued event."""
    with urllib.request.urlopen(f"{url}/gradio_api/queue/data?session_hash={session}",
                                timeout=timeout) as stream:
        for line in stream:
            if line.startswith(b"data: "):
                message = json.loads(line[6:])
                if message.get("msg") == "process_completed":
                    return message
    raise RuntimeError("the event stream ended without a result")
