"""`rag bench ...`: the benchmark commands, each loaded only when it is run."""

from __future__ import annotations

import importlib

import click


class _LazyBench(click.Group):
    LAZY = {
        "retrieval": "evals.bench_retrieval:retrieval",   # BEIR SciFact quality
        "ingest": "evals.bench_perf:ingest",              # ingest throughput vs LlamaIndex
        "query": "evals.bench_perf:query",                # warm query latency
        "coldstart": "evals.bench_perf:coldstart",        # new-process `rag ask`
        "scale": "evals.bench_perf:scale",                # 10k..1M chunk scaling curve
        "serve": "evals.bench_serve:serve_load",          # HTTP API under concurrent load
        "llm": "evals.bench_llm:llm",                     # LLM speed: evidence vs chunk prompt
        "split": "evals.bench_split:split",               # sentence splitting on one long line
    }

    def list_commands(self, ctx):
        return sorted(self.LAZY)

    def get_command(self, ctx, name):
        if name not in self.LAZY:
            return None
        module, attr = self.LAZY[name].split(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            return None


@click.group(cls=_LazyBench)
def bench() -> None:
    """Benchmarks: each runs ours and the baseline side by side and writes JSON."""
