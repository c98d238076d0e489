"""`rag bench ingest|query|coldstart|scale`: our pipeline and its baseline, side by side.

Each command runs both sides in the same run (each step in a fresh process), prints a small
table with medians and ratios, and writes JSON with the machine's description (including its
load average, since the machine may be shared). The work folder keeps the indexes the commands
build, so `query` reuses what `ingest` built. `serve` is another module's (evals/bench_serve.py).
"""

from __future__ import annotations

from pathlib import Path

import click

from evals.perf_common import SCIFACT


def _emit(report: dict, out: Path, lines: list[str]) -> None:
    from evals.perf_common import write_report

    for line in lines:
        click.echo(line)
    click.echo(f"wrote {write_report(out, report)}")


@click.command()
@click.option("--dataset", type=click.Path(path_type=Path), default=SCIFACT, show_default="../shared/bench/scifact beside the checkout, or $RAG_SCIFACT",
              help="BEIR SciFact folder.")
@click.option("--work", type=click.Path(path_type=Path), default=Path(".rag/bench"), show_default=True,
              help="Where the indexes and SciFact files are kept.")
@click.option("--limit", type=int, default=0, help="Only the first N abstracts (0 = all 5,183).")
@click.option("--precision", "precisions", multiple=True, default=["int8"], show_default=True,
              help="Our embedding precision(s) to run: int8, fp32, torch (repeatable).")
@click.option("--sentence-vectors", "sentence_modes", multiple=True, default=["alone"], show_default=True,
              help="Our sentence_vectors setting(s) to run: alone, in_chunk (repeatable).")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Ingest runs per pipeline, interleaved; the tables give the median.")
@click.option("--reingest-docs", type=int, default=5000, show_default=True,
              help="Size of the unchanged corpus that is re-ingested.")
@click.option("--steps", default="ingest,reingest,quality", show_default=True,
              help="Which steps to run (comma-separated).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench-ingest.json"),
              show_default=True)
def ingest(dataset: Path, work: Path, limit: int, precisions: tuple[str, ...],
           sentence_modes: tuple[str, ...], runs: int, reingest_docs: int, steps: str, out: Path) -> None:
    """Ingest throughput on SciFact, ours vs the plain LlamaIndex pipeline (same model, same
    Chroma); re-ingest of an unchanged corpus; int8 vs fp32 retrieval quality.

    \b
    Examples:
      rag bench ingest                       # all of SciFact: takes long on 2 cores
      rag bench ingest --limit 1000 --precision int8 --precision fp32
      rag bench ingest --limit 1000 --sentence-vectors alone --sentence-vectors in_chunk
      rag bench ingest --steps quality
    """
    from evals.perf_ingest import run_ingest

    report, lines = run_ingest(dataset=dataset, work=work, limit=limit or None,
                               precisions=list(precisions), sentence_modes=list(sentence_modes),
                               reingest_docs=reingest_docs, runs=runs,
                               steps={s.strip() for s in steps.split(",")})
    _emit(report, out, lines)


@click.command()
@click.option("--dataset", type=click.Path(path_type=Path), default=SCIFACT, show_default="../shared/bench/scifact beside the checkout, or $RAG_SCIFACT")
@click.option("--work", type=click.Path(path_type=Path), default=Path(".rag/bench"), show_default=True)
@click.option("--limit", type=int, default=0,
              help="The SciFact index to query: the one `ingest --limit N` built (0 = all).")
@click.option("--questions", "n_questions", type=int, default=200, show_default=True)
@click.option("--precision", default="int8", show_default=True)
@click.option("--corpus", "corpora", multiple=True, default=["bundled", "scifact"], show_default=True,
              help="bundled and/or scifact (repeatable).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench-query.json"),
              show_default=True)
def query(dataset: Path, work: Path, limit: int, n_questions: int, precision: str,
          corpora: tuple[str, ...], out: Path) -> None:
    """Warm query latency, offline mode (retrieve + answer), ours vs the LlamaIndex retriever.

    \b
    Examples:
      rag bench query                        # bundled corpus + the SciFact index from `ingest`
      rag bench query --corpus bundled --questions 50
    """
    from evals.perf_query import run_query

    report, lines = run_query(dataset=dataset, work=work, limit=limit or None,
                              n_questions=n_questions, precision=precision, corpora=list(corpora))
    _emit(report, out, lines)


@click.command()
@click.option("--work", type=click.Path(path_type=Path), default=Path(".rag/bench"), show_default=True)
@click.option("--runs", type=int, default=7, show_default=True)
@click.option("--question", default="What does US law require?", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench-coldstart.json"),
              show_default=True)
def coldstart(work: Path, runs: int, question: str, out: Path) -> None:
    """`rag ask` in a new process (index built) to the printed answer, vs a new process that
    opens the LlamaIndex index and retrieves.

    \b
    Example:
      rag bench coldstart --runs 7
    """
    from evals.perf_coldstart import run_coldstart

    report, lines = run_coldstart(work=work, runs=runs, question=question)
    _emit(report, out, lines)


@click.command()
@click.option("--work", type=click.Path(path_type=Path), default=Path(".rag/bench"), show_default=True)
@click.option("--sizes", default="10000,100000", show_default=True,
              help="Chunk counts, comma-separated (e.g. 10000,100000,1000000).")
@click.option("--modes", default="embedded,server", show_default=True)
@click.option("--queries", type=int, default=200, show_default=True)
@click.option("--plot", type=click.Path(path_type=Path), default=None,
              help="Write the curve as a PNG here.")
@click.option("--append", is_flag=True,
              help="Keep the points already in --out (e.g. add a 1M point to an earlier run).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench-scale.json"),
              show_default=True)
def scale(work: Path, sizes: str, modes: str, queries: int, plot: Path | None, append: bool,
          out: Path) -> None:
    """Query p50/p95 and peak RSS at N chunks, embedded Chroma vs a Chroma server, plus BM25.

    \b
    Examples:
      rag bench scale --plot docs/bench/scale.png
      rag bench scale --sizes 10000,100000,1000000 --modes embedded
      rag bench scale --sizes 1000000 --modes server --append --out docs/bench/bench-scale.json
    """
    import json

    from evals.perf_scale_run import run_scale

    earlier = json.loads(out.read_text())["points"] if append and out.exists() else []
    report, lines = run_scale(work=work, sizes=[int(s) for s in sizes.split(",") if s.strip()],
                              modes=[m.strip() for m in modes.split(",") if m.strip()],
                              queries=queries, plot=plot, earlier=earlier)
    _emit(report, out, lines)


def __getattr__(name: str):
    if name == "serve":   # provided by evals/bench_serve.py when it is present
        from evals.bench_serve import serve

        return serve
    raise AttributeError(name)

