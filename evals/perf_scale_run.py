"""`rag bench scale`: run the scaling points (evals/perf_scale.py), each in a fresh process, and
draw the curve.

Embedded mode: the store lives in the measuring process, so its peak RSS is the process's. Server
mode: a fresh `chroma run` per point, on 127.0.0.1, stopped afterwards; its peak RSS (VmHWM) is
read from /proc before it stops. Each point starts from an empty store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from evals.perf_common import free_port, in_fresh_process, machine, stop_process, wait_until_up


class ChromaServer:
    """A `chroma run` child process on a free port, with its data in `path`."""

    def __init__(self, path: Path) -> None:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
        if not chroma:
            raise SystemExit("the `chroma` command (from chromadb) is not installed: run `make setup`")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(path.parent / f"{path.name}.log", "w")
        self.proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        if not wait_until_up(f"{self.url}/api/v2/heartbeat", self.proc, 60, poll=0.2, request_timeout=1):
            self.stop()
            raise RuntimeError(f"chroma server did not start; see {self.log.name}")

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def stop(self) -> None:
        stop_process(self.proc, timeout=30)
        self.log.close()


def run_scale(*, work: Path, sizes: list[int], modes: list[str], queries: int,
              plot: Path | None, earlier: list[dict] = ()) -> tuple[dict, list[str]]:
    """Measure each (mode, size) point; `earlier` points (from a previous run) are kept, except
    those measured again now."""
    work = work.resolve() / "scale"
    work.mkdir(parents=True, exist_ok=True)
    kept = [p for p in earlier if not (p["mode"] in modes and p["n"] in sizes)]
    report: dict = {"machine": machine(), "queries": queries, "points": []}
    lines = [f"Scaling, {queries} queries per point, top-10 (load {report['machine']['load_avg']})",
             f"  {'mode':<10}{'vectors':>10}{'insert/s':>10}{'dense p50':>11}{'p95':>8}"
             f"{'bm25 p50':>10}{'p95':>8}{'client RSS':>12}{'server RSS':>12}"]
    for mode in modes:
        if mode not in ("embedded", "server"):
            raise SystemExit(f"unknown mode {mode!r}: use embedded or server")
        for n in sizes:
            data = work / f"scale-{mode}-{n}"    # the folder measure_point uses when embedded
            shutil.rmtree(data, ignore_errors=True)
            load = [round(x, 2) for x in os.getloadavg()]
            server = ChromaServer(data) if mode == "server" else None
            try:
                point = in_fresh_process("scale_point", n=n, mode=mode, work=work,
                                         url=server.url if server else "", queries=queries)
                point["server_peak_rss_mib"] = server.peak_rss_mib() if server else None
                point["load_avg_at_start"] = load
            finally:
                if server:
                    server.stop()
            shutil.rmtree(data, ignore_errors=True)
            report["points"].append(point)
            bm25 = point.get("bm25", {})
            lines.append(f"  {mode:<10}{n:>10,}{point['insert_per_s']:>10,}{point['dense']['p50_ms']:>11.2f}"
                         f"{point['dense']['p95_ms']:>8.2f}{bm25.get('p50_ms', float('nan')):>10.2f}"
                         f"{bm25.get('p95_ms', float('nan')):>8.2f}{point['peak_rss_mib']:>12,.0f}"
                         f"{point['server_peak_rss_mib'] or float('nan'):>12,.0f}")
    report["points"] = sorted(kept + report["points"], key=lambda p: (p["mode"], p["n"]))
    if plot:
        draw(report, plot)
        lines.append(f"plot: {plot}")
    return report, lines


def draw(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = {}
    for p in report["points"]:
        series.setdefault(p["mode"], []).append(p)
    for mode, points in series.items():
        points.sort(key=lambda p: p["n"])
        ns = [p["n"] for p in points]
        for key, style in (("p50_ms", "-o"), ("p95_ms", "--o")):
            lat.plot(ns, [p["dense"][key] for p in points], style, label=f"Chroma {mode} {key[:3]}")
        if mode == "embedded":
            for key, style in (("p50_ms", "-s"), ("p95_ms", "--s")):
                lat.plot(ns, [p["bm25"][key] for p in points], style, label=f"BM25 {key[:3]}")
            mem.plot(ns, [p["peak_rss_mib"] for p in points], "-o", label="embedded: process")
        else:
            mem.plot(ns, [p["server_peak_rss_mib"] for p in points], "-o", label="server: chroma run")
            mem.plot(ns, [p["peak_rss_mib"] for p in points], "--o", label="server: client process")
    for ax, title, unit in ((lat, "query latency, top-10", "ms"), (mem, "peak RSS", "MiB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("chunks")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    m = report["machine"]
    fig.suptitle(f"{m['cores']} cores, {m['cpu']}, load {m['load_avg'][0]}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
