"""`rag bench coldstart`: a new process, index already built, to the printed answer.

Ours is the real command, `rag --home H ask "..."`, timed from spawn to exit. The baseline is a
new process that opens the LlamaIndex index (Chroma + HuggingFaceEmbedding) and retrieves; it
prints passages, not an answer, so it does strictly less. One `python -X importtime` run of ours
lists the heaviest imports that remain on the path.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from evals.perf_common import ROOT, child_env, machine, ratio
from evals.perf_query import ensure_bundled
from rag.settings import Settings


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and stdout of one run of `cmd`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT))
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed: {proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, proc.stdout


def heaviest_imports(cmd: list[str], env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    proc = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True,
                          env=env, cwd=str(ROOT))
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].startswith(" ") and not parts[2].startswith("  "):
            try:
                rows.append((parts[2].strip(), int(parts[1]) / 1e6))
            except ValueError:
                continue
    return sorted(rows, key=lambda r: -r[1])[:top]


def run_coldstart(*, work: Path, runs: int, question: str,
                  precision: str = "int8") -> tuple[dict, list[str]]:
    work = work.resolve()
    cache = str(Settings.load().models_dir)
    ours_home, base_home = ensure_bundled(work, precision, cache)
    # the model the index was built with, already exported: without this, the first run would
    # export one into the new home (about 10 s, once per home), which is not a start
    env = {**child_env(), "RAG_MODEL_CACHE": cache}
    ours_cmd = [sys.executable, "-m", "rag.cli", "--home", str(ours_home), "ask", question]
    base_cmd = [sys.executable, "-m", "evals.perf_worker", "coldstart_baseline",
                json.dumps({"home": str(base_home), "question": question})]
    ours, base, answer = [], [], ""
    for _ in range(runs):             # interleaved, so both see the same machine load
        wall, cpu, answer = _timed(ours_cmd, env)
        ours.append((wall, cpu))
        base.append(_timed(base_cmd, env)[:2])
    report = {"machine": machine(), "runs": runs, "question": question, "precision": precision,
              "ours_s": [round(w, 3) for w, _ in ours], "llamaindex_s": [round(w, 3) for w, _ in base],
              "ours_cpu_s": [round(c, 3) for _, c in ours], "llamaindex_cpu_s": [round(c, 3) for _, c in base],
              "ours_median_s": round(statistics.median(w for w, _ in ours), 3),
              "llamaindex_median_s": round(statistics.median(w for w, _ in base), 3),
              "ours_median_cpu_s": round(statistics.median(c for _, c in ours), 3),
              "llamaindex_median_cpu_s": round(statistics.median(c for _, c in base), 3),
              "answer_first_line": answer.splitlines()[0] if answer else "",
              "heaviest_imports_s": heaviest_imports(ours_cmd, env)}
    report["speedup"] = ratio(report["llamaindex_median_s"], report["ours_median_s"])
    lines = [f"Cold start, {runs} runs each (load {report['machine']['load_avg']})",
             f"  ours `rag ask` to printed answer: median {report['ours_median_s']:.2f}s wall, "
             f"{report['ours_median_cpu_s']:.2f}s CPU  {report['ours_s']}",
             f"  llamaindex open + retrieve:       median {report['llamaindex_median_s']:.2f}s wall, "
             f"{report['llamaindex_median_cpu_s']:.2f}s CPU  {report['llamaindex_s']}  ({report['speedup']}x)",
             "  heaviest imports left: " + ", ".join(f"{n} {s:.2f}s" for n, s in report["heaviest_imports_s"][:5])]
    return report, lines
