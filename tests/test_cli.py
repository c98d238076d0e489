"""The `rag` command line, run as a real process: output shapes, exit codes, one-line errors."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import BIN, ROOT, write_articles


def rag(*args, home, env=None, input=None):
    # the developer's settings do not leak in; the test session's model cache does (one export)
    run_env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RAG_", "OPENAI_")) or k in ("RAG_MODEL_CACHE", "RAG_LLM_GGUF")}
    run_env.update(env or {})
    return subprocess.run([str(BIN / "rag"), "--home", str(home), *args], capture_output=True,
                          text=True, env=run_env, input=input, timeout=300)


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    result = rag("ingest", home=home)
    assert result.returncode == 0, result.stderr
    assert "5 added" in result.stdout
    return home


def test_ask_json_has_the_documented_shape_and_exact_offsets(cli_home):
    result = rag("ask", "Why was Turkey removed from the F-35 programme?", "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "mode", "citations", "timings_ms"} <= set(data)
    assert data["mode"] == "extractive" and data["abstained"] is False
    corpus = {p.stem: p for p in (ROOT / "corpus").glob("*.txt")}
    from index.load import load
    for c in data["citations"]:
        assert load(corpus[c["doc_id"]]).text[c["start"]:c["end"]] == c["snippet"]


def test_ask_prints_answer_then_numbered_sources(cli_home):
    result = rag("ask", "Who is the US ambassador to Turkey?", home=cli_home)
    assert result.returncode == 0
    answer, _, sources = result.stdout.partition("\nSources:\n")
    assert "[1]" in answer
    assert sources.startswith("[1] ") and '    "' in sources


def test_off_corpus_question_abstains_with_exit_zero(cli_home):
    result = rag("ask", "Who won the 2024 Champions League final?", "--json", home=cli_home)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["abstained"] is True and data["citations"] == []


@pytest.mark.parametrize("args,needle", [
    (["ask", ""], "empty"),
    (["ask", "   \t "], "empty"),
    (["ask", "x" * 100_000], "100,000 characters"),
    (["ask", "What\x07 happened?"], "control characters"),
    (["ask", "What happened?", "-k", "0"], "k >= 1"),
    (["delete", "no-such-doc"], "rag docs"),
    (["ingest", "/no/such/folder"], "no such file"),
    (["ask", b"What \xff happened?"], "not valid text"),
    (["ask", "What does US law require?", "--doc", "nope"], "rag docs"),
    (["ask", "What does US law require?", "--since", "2025-13-01"], "YYYY-MM-DD"),
])
def test_bad_input_is_one_line_on_stderr_and_exit_one(cli_home, args, needle):
    result = rag(*args, home=cli_home)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


BAD_FILES = {"binary.txt": b"\x00\x01\x02 binary", "fake.pdf": b"%PDF-1.4 not really a pdf",
             "notes.docx": b"PK\x03\x04 a word file", "latin1.md": "Caf\u00e9 news".encode("latin-1")}


@pytest.mark.parametrize("name, needle", [("binary.txt", "binary"), ("fake.pdf", "PDF"),
                                          ("notes.docx", "unsupported"), ("latin1.md", "UTF-8"),
                                          ("pipe.txt", "not a regular file"),
                                          (b"n\xffme.txt", "file name")])
def test_a_named_file_that_cannot_be_ingested_is_one_line_and_exit_one(tmp_path, name, needle):
    folder = write_articles(tmp_path / "a")
    path = os.path.join(os.fsencode(tmp_path), name) if isinstance(name, bytes) else tmp_path / name
    if name == "pipe.txt":
        os.mkfifo(path)          # reading it would wait for a writer for ever
    else:
        with open(path, "wb") as f:
            f.write(BAD_FILES.get(name, b"A readable article about the Blue River dam and its power."))
    result = rag("ingest", str(folder / "alpha.txt"), path, home=tmp_path / "h")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert "alpha" not in rag("docs", home=tmp_path / "h").stdout   # nothing half-done


def test_files_found_in_a_folder_that_cannot_be_ingested_are_skipped_with_a_note(tmp_path):
    folder = write_articles(tmp_path / "a")
    for name, data in BAD_FILES.items():
        (folder / name).write_bytes(data)
    result = rag("ingest", str(folder), home=tmp_path / "h")
    assert result.returncode == 0, result.stderr
    assert "3 added" in result.stdout and f"{len(BAD_FILES)} skipped" in result.stdout
    notes = result.stderr.splitlines()
    assert len(notes) == len(BAD_FILES) and all(n.startswith("skipped ") for n in notes)


def test_never_built_index_says_run_ingest(tmp_path):
    result = rag("ask", "What happened?", home=tmp_path / "empty")
    assert result.returncode == 1 and "rag ingest" in result.stderr
    assert not (tmp_path / "empty" / "catalog.sqlite").exists()


def test_unreachable_chroma_server_is_one_line(tmp_path):
    result = rag("ingest", home=tmp_path / "h", env={"RAG_CHROMA_URL": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert "Chroma server" in result.stderr and "not reachable" in result.stderr
    assert result.stderr.count("\n") == 1


def test_docs_and_delete_change_what_is_listed(tmp_path):
    folder = write_articles(tmp_path / "a")
    home = tmp_path / "h"
    assert rag("ingest", str(folder), home=home).returncode == 0
    listed = json.loads(rag("docs", "--json", home=home).stdout)
    assert sorted(d["doc_id"] for d in listed) == ["alpha", "beta", "gamma"]
    assert rag("delete", "beta", home=home).returncode == 0
    listed = json.loads(rag("docs", "--json", home=home).stdout)
    assert sorted(d["doc_id"] for d in listed) == ["alpha", "gamma"]


def test_chat_resolves_follow_ups_from_the_conversation(cli_home):
    result = rag("chat", home=cli_home, input="Who is Hakan Fidan?\nWhat did he tell Reuters?\n\n")
    assert result.returncode == 0
    second = result.stdout.split("> ")[2]
    assert "Reuters" in second


def test_cli_reference_is_current():
    # a fresh process: click caches help options on commands that other tests have invoked
    rendered = subprocess.run([str(BIN / "python"), "-m", "rag.clidoc"], capture_output=True, text=True,
                              check=True, cwd=ROOT).stdout
    assert (ROOT / "docs" / "cli.md").read_text() == rendered, "run: python -m rag.clidoc > docs/cli.md"


def test_model_preparation_is_shown_on_stderr_step_by_step_with_its_time(capsys):
    from index.onnx_export import STEPS, Preparing
    from rag.cli import show_preparation

    folder = Path(".rag/models")
    for step, seconds in (("prepare", None), ("export", None), ("export", 9.0), ("quantise", None),
                          ("quantise", 21.0), ("prepare", 30.4)):
        show_preparation(Preparing(step, STEPS[step][0], seconds, 30, folder))
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "preparing the embedding model once (about 30 s; kept in .rag/models)",
        f"  {STEPS['export'][0]} …", f"  {STEPS['quantise'][0]} …",
        "embedding model ready in 30.4 s"]


DOCS_FIELDS = {"doc_id": "string", "title": "string", "source": "string", "date": "string",
               "n_chunks": "integer", "ingested_at": "string", "content_hash": "string"}
DOCS_SCHEMA = {   # what `rag docs --json` printed before its table came: it must not change
    "type": "array",
    "items": {"type": "object", "properties": {k: {"type": t} for k, t in DOCS_FIELDS.items()},
              "required": list(DOCS_FIELDS), "additionalProperties": False}}


def test_docs_is_a_table_that_fits_the_terminal_and_json_is_unchanged(tmp_path):
    long_id = "a_long_article_name_never_cut"
    folder = write_articles(tmp_path / "a", {
        "alpha.txt": "Café owners in Port Amber met on Monday. They asked for longer opening hours.",
        f"{long_id}.txt": "The tram line that the city council of Port Amber approved on Tuesday will run "
                          "fourteen kilometres from the harbour to the university. Work starts in May.",
        "b.txt": "Owls are back. A rare orange owl was seen in the Kestrel Valley forest last week."})
    home = tmp_path / "h"
    assert rag("ingest", str(folder), home=home).returncode == 0
    result = rag("docs", home=home, env={"COLUMNS": "70"})
    assert result.returncode == 0, result.stderr
    header, *rows, summary = result.stdout.splitlines()
    assert header.split() == ["id", "date", "chunks", "title"] and len(rows) == 3
    assert summary == "3 documents, 3 chunks"
    starts = [header.index(name) for name in ("date", "title")]
    ends = header.index("chunks") + len("chunks")                  # the number column is right-aligned
    for row in rows:
        assert all(row[s - 2:s] == "  " and row[s] != " " for s in starts), (header, row)
        assert row[ends - 1].isdigit() and row[ends] == " ", (header, row)
        assert len(row) < 70
    by_id = {row.split()[0]: row for row in rows}
    assert set(by_id) == {"alpha", "b", long_id}                   # the id whole, at offset 0
    assert by_id[long_id].endswith("…") and "The tram line" in by_id[long_id]
    assert by_id["alpha"].endswith("…") and "Café owners" in by_id["alpha"]
    assert by_id["b"].endswith("Owls are back.")                   # a short title as it is

    printed = rag("docs", "--json", home=home).stdout
    import jsonschema
    listed = json.loads(printed)
    jsonschema.validate(listed, DOCS_SCHEMA)
    assert printed == json.dumps(listed, ensure_ascii=False, indent=2) + "\n"   # same layout, "é" kept
    assert {d["doc_id"]: d["n_chunks"] for d in listed} == {"alpha": 1, "b": 1, long_id: 1}


@pytest.mark.parametrize("chunks, summary", [([], "0 documents, 0 chunks"), ([1], "1 document, 1 chunk"),
                                             ([1, 1], "2 documents, 2 chunks"), ([2], "1 document, 2 chunks"),
                                             ([1200, 300], "2 documents, 1,500 chunks")])
def test_docs_summary_counts_with_the_right_plurals(chunks, summary):
    from index.catalog import DocInfo
    from rag.cli import docs_table

    rows = [DocInfo(f"d{i}", "A title", "d.txt", "", n, "", "") for i, n in enumerate(chunks)]
    lines = docs_table(rows, 80)
    assert lines[-1] == summary and len(lines) == (len(rows) + 2 if rows else 1)
