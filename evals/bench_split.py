"""`rag bench split`: sentence splitting, and ingest, on text that is one long line.

A file whose text is one line (a PDF's or a web page's text often is) once took the splitter
quadratic time: 100 KB took seconds, 1 MB minutes, and an upload of it held the index's write
lock all along. For each size, the bundled corpus's prose is joined into one line (each copy's
sentences numbered, so no two chunks are alike and the embedder has real work) and timed:

- `split`: `split_sentences`, ours;
- `split_plain`: the same rule written the plain way, the splitter before it was made linear
  (the baseline; given up after `--cap` seconds, then reported as more than that);
- the same two on a run of full stops as long as the text (the worst case for the old one);
- `text_stages`: what an ingest does before it embeds: read, clean, title and date, sentence
  pieces, chunks;
- `ingest`: a whole `Assistant.ingest` of the file into a new index (embedding included), for
  sizes up to `--ingest-up-to`.
"""

from __future__ import annotations

import multiprocessing
import re
import tempfile
import time
from pathlib import Path

import click

from evals.perf_common import ROOT, machine, ratio, write_report

CORPUS = ROOT / "corpus"


def plain_split(text: str) -> list[tuple[int, int]]:
    """The splitting rule written the plain way: an abbreviation is looked for in the whole line
    before each full stop. Quadratic on a long line; the reference the fast one must agree with."""
    from index.sentences import _ABBREV, _ITEM_NUMBER

    end = re.compile(r"[.!?…]+[\"”’')\]]*(?=\s+[\"“‘'(\[]?[A-Z0-9])")
    spans, pos = [], 0
    for line in text.split("\n"):
        start = pos
        for match in end.finditer(line):
            if match.group(0) == "." and _ABBREV.search(line[: match.start() + 1]):
                continue
            if _ITEM_NUMBER.fullmatch(line[: match.end()]):
                continue
            spans.append((start, pos + match.end()))
            start = pos + match.end()
        spans.append((start, pos + len(line)))
        pos += len(line) + 1
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def one_line(size: int) -> str:
    """`size` characters of the corpus's prose on one line, each copy's sentences numbered."""
    prose = " ".join(" ".join(p.read_text(encoding="utf-8").split()) for p in sorted(CORPUS.glob("*.txt")))
    copies, n = [], 0
    while n < size:
        copy = re.sub(r"([.!?])(\s)", rf" [{len(copies)}]\1\2", prose)
        copies.append(copy)
        n += len(copy) + 1
    return " ".join(copies)[:size]


def _run(splitter: str, text: str, queue) -> None:
    split = plain_split if splitter == "plain" else __import__("index.sentences", fromlist=["x"]).split_sentences
    t = time.perf_counter()
    n = len(split(text))
    queue.put((time.perf_counter() - t, n))


def timed_split(splitter: str, text: str, cap: float) -> dict:
    """Seconds and sentences of one splitter on `text`, in a child process stopped after `cap`."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_run, args=(splitter, text, queue))
    child.start()
    child.join(cap)
    if child.is_alive():
        child.terminate()
        child.join()
        return {"seconds": None, "over_s": cap}
    seconds, n = queue.get()
    return {"seconds": round(seconds, 4), "sentences": n}


def text_stages(path: Path, chunk_size: int, overlap: int) -> dict:
    from index.chunk import chunk_document, sentence_pieces
    from index.load import load

    t = time.perf_counter()
    doc = load(path)
    loaded = time.perf_counter()
    pieces = sentence_pieces(doc.text, chunk_size)
    chunks = chunk_document(doc, chunk_size, overlap, pieces)
    done = time.perf_counter()
    return {"seconds": round(done - t, 3), "load_s": round(loaded - t, 3),
            "pieces_and_chunks_s": round(done - loaded, 3), "pieces": len(pieces), "chunks": len(chunks)}


def whole_ingest(path: Path) -> dict:
    from rag import Assistant
    from rag.settings import Settings

    cache = Settings.load().models_dir.resolve()   # the exported model is shared, not re-made
    with tempfile.TemporaryDirectory() as home:
        assistant = Assistant(home=home, model_cache=cache)
        assistant.embedder.embed(["warm up"])
        t = time.perf_counter()
        report = assistant.ingest([path])
        return {"seconds": round(time.perf_counter() - t, 2), "chunks_embedded": report.embedded}


@click.command()
@click.option("--sizes", default="100000,1000000,10000000", show_default=True,
              help="Text sizes in characters, comma-separated.")
@click.option("--cap", type=float, default=300.0, show_default=True,
              help="Give the plain (quadratic) splitter this many seconds per text, at most.")
@click.option("--ingest-up-to", type=int, default=10_000_000, show_default=True,
              help="Also time a whole ingest (embedding included) for sizes up to this.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/bench-split.json"),
              show_default=True)
def split(sizes: str, cap: float, ingest_up_to: int, out: Path) -> None:
    """Sentence splitting and ingest of a one-line text: ours vs the plain (quadratic) rule.

    \b
    Examples:
      rag bench split
      rag bench split --sizes 100000,1000000 --cap 60 --ingest-up-to 0
    """
    from rag.settings import Settings

    settings = Settings.load()
    report: dict = {"machine": machine(), "cap_s": cap, "chunk_size": settings.chunk_size,
                    "sizes": {}}
    click.echo("| characters | text | split s | plain split s | speed-up | sentences |")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in sizes.split(",")):
            text = one_line(size)
            row: dict = {}
            for kind, sample in (("prose", text), ("stops", "." * size)):
                ours, plain = timed_split("ours", sample, cap), timed_split("plain", sample, cap)
                row[kind] = {"split": ours, "split_plain": plain,
                             "speedup": ratio(plain["seconds"] or cap, ours["seconds"] or 0)}
                shown = f"{plain['seconds']:.3f}" if plain["seconds"] is not None else f"> {cap:g}"
                click.echo(f"| {size:,} | {kind} | {ours['seconds']:.3f} | {shown} | "
                           f"{'≥' if plain['seconds'] is None else ''}{row[kind]['speedup']}x | "
                           f"{ours.get('sentences', '–')} |")
            path = Path(folder) / f"line-{size}.txt"
            path.write_text(text, encoding="utf-8")
            row["text_stages"] = text_stages(path, settings.chunk_size, settings.chunk_overlap)
            if size <= ingest_up_to:
                row["ingest"] = whole_ingest(path)
            click.echo(f"  text stages {row['text_stages']['seconds']} s ({row['text_stages']['chunks']:,} "
                       f"chunks)" + (f", whole ingest {row['ingest']['seconds']} s" if "ingest" in row else ""))
            report["sizes"][str(size)] = row
    click.echo(f"wrote {write_report(out, report)}")
