"""The `rag` command line: parse, call the library, print. Nothing else lives here.

Expected failures (rag.errors) become one line on stderr and exit code 1; no tracebacks.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import click

from rag.errors import RagError


class _Group(click.Group):
    """Loads the bigger commands lazily, and turns the library's typed errors into one line on
    stderr and exit code 1."""

    LAZY = {"serve": "ui.cli:serve", "eval": "evals.cli:eval_command", "bench": "evals.bench:bench"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx: click.Context, name: str):
        if name in self.LAZY and name not in self.commands:
            import importlib

            module, attr = self.LAZY[name].split(":")
            try:
                return getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError):
                return None
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RagError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except FileNotFoundError as exc:
            click.echo(f"error: {exc.filename or exc}: no such file or folder", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Data directory (index, catalog). Default: $RAG_HOME or ./.rag")
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None,
              help="TOML config file. Default: $RAG_CONFIG or ./rag.toml if present")
@click.pass_context
def main(ctx: click.Context, home: Path | None, config_file: Path | None) -> None:
    """Ask questions of a news corpus and get answers with exact citations.

    \b
    Examples:
      rag ingest                      # index the bundled corpus
      rag ask "What does US law require?"
      rag chat
    """
    ctx.obj = {"home": home, "config_file": config_file}


def assistant_from(ctx: click.Context, **overrides):
    """The Assistant for this invocation (used by the lazily loaded commands too)."""
    from rag.assistant import Assistant
    from rag.settings import Settings

    settings = Settings.load(config_file=ctx.obj["config_file"], home=ctx.obj["home"], **overrides)
    return Assistant(settings, on_prepare=show_preparation,
                     notify=lambda message: click.echo(message, err=True))


def show_preparation(event) -> None:
    """The local model's one-time preparation on stderr: what each step does as it starts, then
    how long it all took."""
    if event.seconds is None:
        click.echo(f"{event.doing} once (about {event.expected_s} s; kept in {event.folder})"
                   if event.step == "prepare" else f"  {event.doing} …", err=True)
    elif event.step == "prepare":
        click.echo(f"embedding model ready in {event.seconds:.1f} s", err=True)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Forget the index and build it again from these files "
              "(default: the ones it was built from).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], rebuild: bool, as_json: bool) -> None:
    """Index files or folders (.txt .md .rst .html .pdf); default: the bundled corpus.

    \b
    Unchanged files cost nothing; changed files replace their chunks; files gone from an
    ingested folder are removed. Examples:
      rag ingest
      rag ingest ~/news/ extra/article.html
      rag ingest --rebuild              # from the files and folders it was built from

    Runs `rag check` (quick) first and repairs what it finds. Waits for another ingest, delete
    or upload on the same home to finish; questions are answered meanwhile.
    """
    from tqdm import tqdm

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="doc", desc="embedding", file=sys.stderr,
                       disable=total < 50 or None)
        bar.update(done - bar.n)

    report = assistant_from(ctx).ingest(list(paths) or None, rebuild=rebuild, progress=progress)
    if bar is not None:
        bar.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    for name, reason in report.skipped:
        click.echo(f"skipped {reason}", err=True)
    click.echo(report.summary())


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("-k", "k", type=int, default=None, help="Number of passages to retrieve.")
@click.option("--doc", "doc_ids", multiple=True, help="Only search this article id (repeatable).")
@click.option("--since", "date_from", default="", help="Only articles dated on/after YYYY-MM-DD.")
@click.option("--until", "date_to", default="", help="Only articles dated on/before YYYY-MM-DD.")
@click.option("--mode", type=click.Choice(["auto", "extractive", "llm"]), default=None,
              help="extractive (instant, no LLM) or llm (a configured server, else the local "
                   "model). Default: auto, llm when either is there.")
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool, k: int | None, doc_ids: tuple[str, ...],
        date_from: str, date_to: str, mode: str | None) -> None:
    """Answer one question with numbered citations.

    \b
    Examples:
      rag ask "What does US law require?"
      rag ask "Why was Turkey removed from the F-35 programme?" --json
      rag ask "What did Hakan Fidan say?" -k 3 --doc 004_e39b010501edc06a
      rag ask "What does US law require?" --mode extractive
      RAG_LLM_GGUF=~/models/my-model.gguf rag ask "..."
      RAG_LLM_MODEL=llama3.1 OPENAI_BASE_URL=http://localhost:11434/v1 rag ask "..."
    """
    assistant = assistant_from(ctx, mode=mode)
    kwargs = dict(k=k, doc_ids=list(doc_ids) or None, date_from=date_from, date_to=date_to)
    if as_json:
        answer = assistant.ask(question, **kwargs)
        if answer.notice:
            click.echo(f"note: {answer.notice}", err=True)
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    elif assistant.answer_mode() == "llm":
        _print_stream(assistant.stream(question, **kwargs))
    else:
        _print_answer(assistant.ask(question, **kwargs))


@main.command()
@click.option("-k", "k", type=int, default=None, help="Number of passages to retrieve.")
@click.option("--mode", type=click.Choice(["auto", "extractive", "llm"]), default=None,
              help="extractive (instant, no LLM) or llm. Default: auto, llm when one is there.")
@click.pass_context
def chat(ctx: click.Context, k: int | None, mode: str | None) -> None:
    """Chat in the terminal; follow-up questions use the conversation so far.

    \b
    Type a question and press Enter; an empty line or Ctrl-D quits. Example:
      > Who is Hakan Fidan?
      > What did he tell Reuters?

    \b
    On a terminal, the line can be edited (GNU readline) and Up/Down recall
    earlier questions, also those of earlier chats: the last 1000 are kept in
    <home>/chat_history.
    """
    assistant = assistant_from(ctx, mode=mode)
    from rag.cli_history import QuestionHistory

    lines = QuestionHistory.on_terminal(assistant.settings.home / "chat_history")
    history: list[tuple[str, str]] = []
    click.echo("Ask about the corpus (empty line or Ctrl-D to quit).")
    try:
        while True:
            try:
                question = input("> ").strip()
            except EOFError:
                break
            if not question:
                break
            if lines:
                lines.add(question)
            try:
                if assistant.answer_mode() == "llm":
                    answer = _print_stream(assistant.stream(question, history=history, k=k))
                else:
                    answer = assistant.ask(question, history=history, k=k)
                    _print_answer(answer)
            except RagError as exc:
                click.echo(f"error: {exc}", err=True)
                continue
            history.append((question, answer.text))
    finally:
        if lines:
            lines.save()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def docs(ctx: click.Context, as_json: bool) -> None:
    """List the indexed articles: id, date, chunks, title.

    \b
    A table as wide as the terminal (long titles end in "…"; ids are never
    cut), then a count of documents and chunks. --json prints every field:
    doc_id, title, source, date, n_chunks, ingested_at, content_hash.
    Example (80 columns):
      $ rag docs
      id                    date     chunks  title
      000_cf5d388b463733b1  -             5  The S-400 air defense system that Turke…
      001_5b2322aeebde9bcc  --12-14       4  Turkey has firmly maintained its positi…
      …
      5 documents, 26 chunks
    """
    from dataclasses import asdict

    rows = assistant_from(ctx).docs()
    if as_json:
        click.echo(json.dumps([asdict(d) for d in rows], ensure_ascii=False, indent=2))
        return
    for line in docs_table(rows, shutil.get_terminal_size().columns):
        click.echo(line)


def docs_table(rows, width: int) -> list[str]:
    """`rag docs` as lines: a header, one row per document with its columns padded to the widest
    cell (the chunk count right-aligned) and its title cut with "…" to fit `width` (never below
    a few characters, never the id), then a summary line with correct plurals."""
    cells = [("id", "date", "chunks", "title")]
    cells += [(d.doc_id, d.date or "-", str(d.n_chunks), d.title or "-") for d in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    room = max(width - sum(widths) - 2 * 3 - 1, 8)     # 2 spaces between columns; no last column
    lines = []
    for doc_id, date, chunks, title in cells if rows else []:
        if len(title) > room:
            title = title[:room - 1].rstrip() + "…"
        lines.append(f"{doc_id:<{widths[0]}}  {date:<{widths[1]}}  {chunks:>{widths[2]}}  {title}")
    total = sum(d.n_chunks for d in rows)
    lines.append(f"{_count(len(rows), 'document')}, {_count(total, 'chunk')}")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


@main.command()
@click.argument("doc_id")
@click.pass_context
def delete(ctx: click.Context, doc_id: str) -> None:
    """Remove one article (by id, see `rag docs`) and all its chunks from the index."""
    assistant_from(ctx).delete(doc_id)
    click.echo(f"deleted {doc_id}")


@main.command()
@click.option("--quick", is_flag=True, help="Compare counts, stamps and generations only (what every "
              "ingest runs first); list vector ids only when counts differ.")
@click.option("--repair", is_flag=True, help="Fix what it finds from the catalog's own text (reads no "
              "source file), then check again.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def check(ctx: click.Context, quick: bool, repair: bool, as_json: bool) -> None:
    """Check that the catalog, vector store and lexical index agree, document by document.

    \b
    Also checks that the vector store is the one the index was built on (its collection is
    stamped with the index's id). Exit 0 when they agree; otherwise the problems, then one
    line naming the fix, and exit 1. Every `rag ingest` runs the quick check first and
    repairs what it finds; `rag ask` refuses an index that disagrees. Examples:
      rag check
      rag check --json
      rag check --repair               # when the source files are no longer at hand
    """
    assistant = assistant_from(ctx)
    report = assistant.check(full=not quick, repair=repair)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for line in report.problems():
            click.echo(f"- {line}")
        state = "agree" if report.ok else "disagree"
        click.echo(f"{report.documents} documents, {report.chunks} chunks, {report.vectors} vectors: "
                   f"catalog, vector store and lexical index {state} ({report.seconds:.2f}s)")
    if not report.ok:
        click.echo(f"error: the index in {assistant.settings.home} disagrees with itself: run "
                   f"{assistant.fix_command()} to repair it (or `rag check --repair`)", err=True)
        sys.exit(1)


def _print_stream(items, live: bool | None = None):
    """Print the instant draft (on stderr), then, on a terminal (`live`), the model's tokens as
    they come and the verified answer if it differs; into a pipe or a file, only the verified
    answer (an unverified claim never reaches a script). Ctrl-C closes `items`, which stops the
    model."""
    live = sys.stdout.isatty() if live is None else live
    shown: list[str] = []
    answer = None
    try:
        for item in items:
            if isinstance(item, str):
                if not (live and item):
                    continue
                click.echo(item, nl=False)
                shown.append(item)
            elif item.draft:
                click.secho(f"draft (instant, extractive; the LLM is reading): {item.text}\n",
                            err=True, dim=True)
            else:
                answer = item
    finally:
        items.close()
    draft = "".join(shown).strip()
    if draft:
        click.echo()
    if answer is None:
        return None
    if draft and answer.text.strip() != draft:
        if answer.notice:
            click.echo(f"note: {answer.notice}", err=True)
        click.echo("\nVerified answer:")
        _print_answer(answer, notice=False)
    elif draft:
        _print_answer(answer, text=False)
    else:
        _print_answer(answer)
    return answer


def _print_answer(answer, *, text: bool = True, notice: bool = True) -> None:
    if text:
        click.echo(answer.text)
    if answer.notice and notice:
        click.echo(f"note: {answer.notice}", err=True)
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            click.echo(f"[{c.n}] {c.doc_id} — {c.title}")
            click.echo(f'    "{c.snippet}"')


if __name__ == "__main__":
    main()
