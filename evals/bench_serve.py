"""`rag bench serve`: the HTTP API under concurrent load, beside its in-process baseline.

N clients each ask Q questions one after another through `POST /api/ask` of a running server
(`--url`), or of a `rag serve` this command starts on a free 127.0.0.1 port for the current
home. The baseline is the same questions asked in-process, one at a time, through
`Assistant.ask` (no HTTP, no concurrency), so the report shows what serving and queueing add.
It reports p50/p95/max latency, throughput and errors, and writes JSON. The questions come
from evals/gold.jsonl; the answers are not graded here (that is `rag eval`).

Both sides first ask every distinct question once, untimed (`--warmup`): the embedding model's
first call at each new input length is far slower than later ones, and a comparison of serving
overhead should not depend on which side met a length first.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

from evals.perf_common import free_port, stop_process, wait_until_up

GOLD = Path(__file__).resolve().parent / "gold.jsonl"


def distinct_questions() -> list[str]:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(dict.fromkeys(r["question"] for r in rows if not r.get("history")))


def questions(n: int) -> list[str]:
    unique = distinct_questions()
    return [unique[i % len(unique)] for i in range(n)]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    lo, hi = int(at), min(int(at) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (at - lo)


def summary(latencies_ms: list[float], errors: int, seconds: float) -> dict:
    return {"requests": len(latencies_ms) + errors, "errors": errors,
            "p50_ms": round(percentile(latencies_ms, .5), 1),
            "p95_ms": round(percentile(latencies_ms, .95), 1),
            "max_ms": round(max(latencies_ms), 1) if latencies_ms else None,
            "throughput_rps": round(len(latencies_ms) / seconds, 2) if seconds else None,
            "seconds": round(seconds, 2)}


def load(url: str, clients: int, per_client: int, token: str = "", timeout: float = 300,
         mode: str | None = None) -> tuple[dict, list[str]]:
    """Run the load; returns the summary and the first few error messages. While it runs,
    `/healthz` is polled twice a second: its latency shows whether the server stays responsive."""
    asks = questions(clients * per_client)
    latencies: list[float] = []
    problems: list[str] = []
    modes: dict[str, int] = {}
    health: list[float] = []
    done = threading.Event()
    guard = threading.Lock()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"

    def client(i: int) -> None:
        for question in asks[i * per_client:(i + 1) * per_client]:
            body = json.dumps({"question": question, **({"mode": mode} if mode else {})}).encode()
            started = time.perf_counter()
            try:
                req = urllib.request.Request(url.rstrip("/") + "/api/ask", body, headers, method="POST")
                with urllib.request.urlopen(req, timeout=timeout) as reply:
                    answer = json.load(reply)
                ok = isinstance(answer.get("answer"), str)
                problem = "" if ok else f"bad reply: {str(answer)[:120]}"
                kind = "busy" if "busy" in answer.get("notice", "") else str(answer.get("mode"))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                problem = f"{type(exc).__name__}: {exc}"[:200]
            elapsed = (time.perf_counter() - started) * 1e3
            with guard:
                if problem:
                    problems.append(problem)
                else:
                    latencies.append(elapsed)
                    modes[kind] = modes.get(kind, 0) + 1

    def probe() -> None:
        while not done.wait(0.5):
            t0 = time.perf_counter()
            try:
                urllib.request.urlopen(url.rstrip("/") + "/healthz", timeout=30).read()
                health.append((time.perf_counter() - t0) * 1e3)
            except OSError:
                health.append(float("inf"))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    prober = threading.Thread(target=probe)
    prober.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    prober.join()
    result = summary(latencies, len(problems), time.perf_counter() - started)
    result["answered_by"] = modes
    result["healthz_during_load"] = {"n": len(health), "p50_ms": round(percentile(health, .5), 1),
                                     "p95_ms": round(percentile(health, .95), 1),
                                     "max_ms": round(max(health), 1) if health else None}
    return result, problems[:5]


def baseline(home: Path | None, n: int, warmup: bool, mode: str | None = None) -> dict:
    """The same questions in-process, one at a time, through the public Assistant API, in the
    mode the server was asked for (None: the settings' mode, as the server's default)."""
    from rag.assistant import Assistant

    assistant = Assistant(home=home)
    for question in distinct_questions() if warmup else questions(1):
        assistant.ask(question, mode=mode)              # load the model, open the index, warm up
    latencies, started = [], time.perf_counter()
    for question in questions(n):
        t0 = time.perf_counter()
        assistant.ask(question, mode=mode)
        latencies.append((time.perf_counter() - t0) * 1e3)
    return summary(latencies, 0, time.perf_counter() - started)


def start_server(home: Path | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    rag = Path(sys.executable).parent / "rag"
    cmd = [str(rag)] + (["--home", str(home)] if home else []) + ["serve", "--port", str(port)]
    env = {k: v for k, v in os.environ.items() if k != "RAG_UI_TOKEN"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    url = f"http://127.0.0.1:{port}"
    if not wait_until_up(url + "/healthz", proc, 180):
        proc.kill()
        raise click.ClickException(f"rag serve did not start: {proc.stderr.read()[-800:]}")
    return proc, url


@click.command("serve")
@click.option("--url", default="", help="A running server (default: start `rag serve` for this home).")
@click.option("--clients", default=20, show_default=True, type=click.IntRange(1, 200))
@click.option("--questions", "per_client", default=10, show_default=True, type=click.IntRange(1, 1000),
              help="Questions each client asks, one after another.")
@click.option("--baseline/--no-baseline", "with_baseline", default=True, show_default=True,
              help="Also time the questions in-process, one at a time.")
@click.option("--warmup/--no-warmup", default=True, show_default=True,
              help="Ask each distinct question once, untimed, before measuring.")
@click.option("--mode", type=click.Choice(["auto", "extractive", "llm"]), default=None,
              help="The answer mode each request asks for (default: the server's).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench_serve.json"),
              show_default=True)
@click.pass_context
def serve_load(ctx: click.Context, url: str, clients: int, per_client: int, with_baseline: bool,
               warmup: bool, mode: str | None, out: Path) -> None:
    """Load-test the HTTP API: CLIENTS concurrent clients x QUESTIONS questions.

    \b
    Examples:
      rag bench serve                         # 20 clients x 10 questions, own server
      rag bench serve --url http://127.0.0.1:7860 --clients 5 --questions 4
      rag bench serve --mode llm --questions 1 --no-warmup --no-baseline --out docs/bench/bench-serve-llm.json
    """
    home = (ctx.find_root().obj or {}).get("home")
    load_before = os.getloadavg()
    proc = None
    if not url:
        proc, url = start_server(home)
    try:
        token = os.environ.get("RAG_UI_TOKEN", "")
        if warmup:
            load(url, 1, len(distinct_questions()), token=token, mode=mode)       # untimed
        result, problems = load(url, clients, per_client, token=token, mode=mode)
    finally:
        if proc is not None:
            stop_process(proc)
    report = {"benchmark": "serve", "clients": clients, "questions_per_client": per_client,
              "warmup": warmup, "mode": mode or "server default",
              "endpoint": "POST /api/ask", "http": result,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version(),
                          "load_average_before_after": [round(load_before[0], 2),
                                                        round(os.getloadavg()[0], 2)]}}
    if with_baseline:
        report["in_process_sequential"] = base = baseline(home, min(clients * per_client, 100), warmup, mode)
        report["p50_ratio_http_over_in_process"] = round(result["p50_ms"] / base["p50_ms"], 2)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    click.echo(f"{'':24}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'req/s':>8}")
    rows = [("HTTP, %d concurrent" % clients, result)]
    if with_baseline:
        rows.append(("in-process, sequential", report["in_process_sequential"]))
    for name, r in rows:
        click.echo(f"{name:24}{r['requests']:>9}{r['errors']:>8}{r['p50_ms']:>9}{r['p95_ms']:>9}"
                   f"{r['max_ms']:>9}{r['throughput_rps']:>8}")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"wrote {out}")
    if result["errors"]:
        ctx.exit(1)
