"""Start and stop a real `rag serve` subprocess for the API, load and browser tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from evals.perf_common import stop_process

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
    """A private copy of a built index, so a server can ingest and delete without re-embedding."""
    shutil.copytree(source, target)
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
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            return Served(url, home, proc, log)
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"rag serve did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
