"""What the documented examples print, recorded from a real run: docs/samples.json.

    python -m evals.samples --out docs/samples.json     # then: python -m evals.render_docs

Runs the README's tour as a new user would: in an empty folder, with the default home (./.rag)
and no model cache, so the first `rag ingest` prepares the model; then its `rag ask` examples,
and one chat completion from a `rag serve` it starts (the example in docs/ui.md). Each sample
keeps the command, its stdout, stderr and exit code. No setting of the caller's (RAG_*, OPENAI_*)
is passed on: the samples are what the defaults print.

`shape` reduces an output to its form (every number a `#`); tests/test_docs.py runs the samples
again and compares shapes, so the recorded samples, and the docs rendered from them, cannot
drift from what the program prints. It does not render the docs (evals/render_docs.py does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).parent / "rag"

# name -> the arguments of `rag`, in the order they run (the README's tour)
COMMANDS = {
    "ingest": ["ingest"],
    "ask": ["ask", "Why was Turkey removed from the F-35 programme?"],
    "abstain": ["ask", "Who won the 2024 Champions League final?"],
}
API_QUESTION = "What does US law require?"


def run(folder: Path, *, model_cache: Path | None = None, serve: bool = True) -> dict:
    """Run the samples in `folder` (created; its .rag is the home). With `model_cache`, the model
    is taken from there (no preparation is shown); otherwise it is prepared in ./.rag/models."""
    from evals.perf_common import machine

    folder.mkdir(parents=True, exist_ok=True)
    host = machine()          # before the run: its load average says how busy the machine was
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    if model_cache:
        env["RAG_MODEL_CACHE"] = str(model_cache)
    samples = {}
    for name, args in COMMANDS.items():
        started = time.perf_counter()
        done = subprocess.run([str(RAG), *args], cwd=folder, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=900)
        samples[name] = {"argv": ["rag", *args], "exit": done.returncode, "stdout": done.stdout,
                         "stderr": done.stderr, "seconds": round(time.perf_counter() - started, 2)}
    if serve:
        samples["api"] = _api(folder, env)
    return {"run": {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "git_commit": _commit(), "fresh_model_cache": model_cache is None, "machine": host},
            "samples": samples}


def _api(folder: Path, env: dict) -> dict:
    """One chat completion from a `rag serve` started for it (and stopped)."""
    from evals.perf_common import free_port, stop_process, wait_until_up

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    request = {"model": "newsrag", "messages": [{"role": "user", "content": API_QUESTION}]}
    log = folder / ".rag" / "serve.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(RAG), "serve", "--port", str(port)], cwd=folder, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        if not wait_until_up(f"{url}/healthz", proc, 180):
            raise RuntimeError(f"rag serve did not start:\n{log.read_text()[-2000:]}")
        post = urllib.request.Request(f"{url}/v1/chat/completions", data=json.dumps(request).encode(),
                                      headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(post, timeout=60) as reply:
            body = json.loads(reply.read())
    finally:
        stop_process(proc)
        log.unlink(missing_ok=True)
    return {"request": {"method": "POST", "path": "/v1/chat/completions", "json": request}, "reply": body}


def shape(text: str) -> str:
    """The form of an output: every number (digits, with any decimal point or thousands commas) is `#`."""
    return re.sub(r"\d+(?:[.,]\d+)*", "#", text)


def reply_shape(reply: dict) -> str:
    """The form of an API reply: its random id and its time are left out, every number is `#`."""
    kept = {k: v for k, v in reply.items() if k not in ("id", "created")}
    return shape(json.dumps(kept, ensure_ascii=False, indent=1, sort_keys=True))


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m evals.samples", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rag-samples-") as tmp:
        record = run(Path(tmp) / "newsrag")
    failed = [name for name, s in record["samples"].items() if s.get("exit", 0) != 0]
    if failed:
        for name in failed:
            print(f"{name}: exit {record['samples'][name]['exit']}\n{record['samples'][name]['stderr']}",
                  file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {', '.join(record['samples'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
