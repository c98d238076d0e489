"""The `rag` command line, run as a real process: output shapes, exit codes, one-line errors."""

import json
import os
import subprocess

import pytest

from conftest import BIN, ROOT, write_articles


def rag(*args, home, env=None, input=None):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}
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
])
def test_bad_input_is_one_line_on_stderr_and_exit_one(cli_home, args, needle):
    result = rag(*args, home=cli_home)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


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
