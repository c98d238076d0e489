"""Shared pieces of the performance benchmarks: the machine's description, percentiles, JSON
reports, SciFact as a folder of files, and running one measured step in a fresh process.

Each measured step runs in its own Python process (`python -m evals.perf_worker TASK ARGS`), so
ours and the baseline each pay their own imports and model loads, and peak RSS is per step.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
SCIFACT = Path(os.environ.get("RAG_SCIFACT", ROOT.parent / "shared" / "bench" / "scifact"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float, *, poll: float = 0.3,
                  request_timeout: float = 2) -> bool:
    """True once `url` answers; False if `proc` exits or `timeout` seconds pass first."""
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=request_timeout)
            return True
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                return False
            time.sleep(poll)


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Ask a child process to end; kill it if it has not within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine was."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    versions = {}
    for name in ("onnxruntime", "openvino", "chromadb", "torch", "llama_index.core", "bm25s"):
        try:
            from importlib.metadata import version

            versions[name] = version(name.replace(".", "-").replace("_", "-"))
        except Exception:  # not installed: leave it out
            pass
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "python": platform.python_version(),
            "platform": platform.platform(), "load_avg": [round(x, 2) for x in os.getloadavg()],
            "versions": versions, "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def timed(call: Callable[[Any], Any], inputs: Sequence[Any], warmup: int = 5) -> list[float]:
    """Seconds taken by `call(x)` for each input, after `warmup` untimed calls on the first ones."""
    for x in inputs[:warmup]:
        call(x)
    seconds = []
    for x in inputs:
        t0 = time.perf_counter()
        call(x)
        seconds.append(time.perf_counter() - t0)
    return seconds


def stats_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = sorted(s * 1e3 for s in seconds)
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))], 2),
            "mean_ms": round(statistics.fmean(ms), 2), "max_ms": round(ms[-1], 2)}


def ratio(slow: float, fast: float) -> float | None:
    return round(slow / fast, 2) if fast > 0 else None


def write_report(path: Path, report: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return path


def scifact_docs(dataset: Path = SCIFACT, limit: int | None = None) -> list[dict]:
    rows = []
    with open(dataset / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if limit and len(rows) >= limit:
                break
    return rows


def scifact_folder(work: Path, dataset: Path = SCIFACT, limit: int | None = None) -> Path:
    """SciFact abstracts as one .txt file each (title, blank line, abstract), made once."""
    folder = work / f"scifact-files-{limit or 'all'}"
    done = folder / ".complete"
    if not done.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for d in scifact_docs(dataset, limit):
            (folder / f"{d['_id']}.txt").write_text(f"{d['title']}\n\n{d['text']}\n", encoding="utf-8")
        done.write_text("")
    return folder


def scifact_queries(dataset: Path = SCIFACT, split: str = "test") -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """(query id -> text, query id -> {doc id: relevance}) for the queries judged in `split`."""
    qrels: dict[str, dict[str, int]] = {}
    with open(dataset / "qrels" / f"{split}.tsv", encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, did, score = line.rstrip("\n").split("\t")
            qrels.setdefault(qid, {})[did] = int(score)
    queries = {}
    with open(dataset / "queries.jsonl", encoding="utf-8") as f:
        for line in f:
            q = json.loads(line)
            if q["_id"] in qrels:
                queries[q["_id"]] = q["text"]
    return queries, qrels


def child_env() -> dict[str, str]:
    """The environment for a child process: this checkout first on the path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return {**os.environ, "PYTHONPATH": path}


def in_fresh_process(task: str, timeout: float = 7200, **args: Any) -> dict:
    """Run `evals.perf_worker` TASK in a new Python process; return the JSON it prints."""
    proc = subprocess.run([sys.executable, "-m", "evals.perf_worker", task, json.dumps(args, default=str)],
                          capture_output=True, text=True, timeout=timeout, env=child_env(), cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step {task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
