"""Fault injection: `kill -9` at every named point of ingest, delete, upload and rebuild
(index/faults.py, `RAG_FAULT_AT`), in a real process; then the recovery a user would do (run
the same thing again) must end in the index a clean run builds: the same documents, chunk ids,
vector ids and vectors, lexical index, sources, uploaded files, and answers, and a full
`rag check` with nothing left over.

Each kill is one `rag` process (or one upload through the server's Service) on a copy of a
prepared home; the recovery runs in this process with the shared model. The counts are printed
(`pytest -s`) and asserted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import BIN, ROOT, TINY, write_articles
from index.faults import POINTS
from rag.errors import DocumentNotFound

QUESTIONS = ("How long will the Port Amber tram line be?", "When was the Blue River dam finished?",
             "What happened to the Harbor Gate ferry?")
DELTA = {"delta.txt": "The Harbor Gate ferry from Port Amber to Kestrel Island was cancelled on Friday "
                      "after storm damage. Repairs will take three weeks, the operator said."}
EDITED = {**{k: v for k, v in TINY.items() if k != "gamma.txt"},
          "alpha.txt": TINY["alpha.txt"].replace("2021", "2022").replace("six years", "seven years"),
          **DELTA}
NOTE_V1 = "The lighthouse at Cape Wren was painted red in 1990 and its lamp was replaced in 2004."
NOTE_V2 = ("The lighthouse at Cape Wren was painted white in 2023. Its keeper, Ada Moss, said the "
           "new lamp can be seen from 40 kilometres away.")

# scenario -> (how the home is prepared, the operation, the points to kill it at)
SCENARIOS = {
    "ingest": ("empty", ("ingest", TINY), ["ingest.locked", "ingest.repaired", "ingest.embedded",
                                      "ingest.upserted", "ingest.staged", "publish.lexical",
                                      "publish.committed", "publish.collected"]),
    "update": ("built", ("ingest", EDITED), ["ingest.repaired", "ingest.embedded", "ingest.upserted",
                                      "ingest.staged", "publish.lexical", "publish.committed",
                                      "publish.collected"]),
    "delete": ("built", ("delete", "beta"), ["delete.locked", "delete.lexical", "delete.committed",
                                             "publish.collected"]),
    "upload": ("built", ("upload", "delta.txt", DELTA["delta.txt"]),
               ["upload.copied", "upload.replaced", "ingest.upserted", "ingest.staged",
                "publish.committed", "upload.ingested"]),
    "replace": ("uploaded", ("upload", "note.txt", NOTE_V2),
                ["upload.copied", "upload.replaced", "ingest.embedded", "publish.lexical",
                 "publish.committed", "upload.ingested"]),
    "rebuild": ("built", ("rebuild",), ["rebuild.dropped", "rebuild.wiped", "ingest.staged",
                                        "publish.committed"]),
}
_UPLOAD = ("import sys; from pathlib import Path; from rag import Assistant; from ui.service import Service; "
           "Service(Assistant(home=sys.argv[1])).upload(Path(sys.argv[2]), sys.argv[3])")


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """Fixed paths (the home's recorded sources and upload paths must match between runs)."""
    root = tmp_path_factory.mktemp("faults")
    return root / "home", root / "articles", root / "templates", root / "files"


def _corpus(folder: Path, articles: dict) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    write_articles(folder, articles)
    for i, p in enumerate(sorted(folder.iterdir())):      # the same stamps every time
        os.utime(p, ns=(1_700_000_000_000_000_000 + i, 1_700_000_000_000_000_000 + i))


def _upload_file(files: Path, name: str, text: str) -> Path:
    files.mkdir(parents=True, exist_ok=True)
    path = files / name
    path.write_text(text)
    return path


def _prepare(kind: str, place, make) -> None:
    """Lay the home for a scenario in place[0] (from a template built once per kind)."""
    home, folder, templates, files = place
    template = templates / kind
    shutil.rmtree(home, ignore_errors=True)
    _corpus(folder, TINY)
    if not template.exists():
        if kind != "empty":
            assistant = make(home)
            assistant.ingest([folder])
            if kind == "uploaded":
                from ui.service import Service

                Service(assistant).upload(_upload_file(files, "note.txt", NOTE_V1), "note.txt")
        shutil.copytree(home, template) if home.exists() else template.mkdir(parents=True)
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home)


def _operate(op: tuple, place, make) -> None:
    """The operation, in this process (a clean run, and the recovery after a kill)."""
    home, folder, _, files = place
    assistant = make(home)
    if op[0] == "ingest":
        _corpus(folder, op[1])
        assistant.ingest([folder])
    elif op[0] == "delete":
        try:
            assistant.delete(op[1])
        except DocumentNotFound:
            pass                        # the killed run had got that far; its repairs are done
    elif op[0] == "upload":
        from ui.service import Service

        Service(assistant).upload(_upload_file(files, op[1], op[2]), op[1])
    elif op[0] == "rebuild":
        assistant.ingest(rebuild=True)


def _kill(op: tuple, point: str, place) -> int:
    home, folder, _, files = place
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))
           or k == "RAG_MODEL_CACHE"}
    env["RAG_FAULT_AT"] = point
    if op[0] == "ingest":
        _corpus(folder, op[1])
        args = [str(BIN / "rag"), "--home", str(home), "ingest", str(folder)]
    elif op[0] == "delete":
        args = [str(BIN / "rag"), "--home", str(home), "delete", op[1]]
    elif op[0] == "rebuild":
        args = [str(BIN / "rag"), "--home", str(home), "ingest", "--rebuild"]
    else:
        args = [sys.executable, "-c", _UPLOAD, str(home), str(_upload_file(files, op[1], op[2])), op[1]]
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, timeout=300).returncode


def snapshot(home: Path, make) -> dict:
    """Everything a clean run determines (not times)."""
    assistant = make(home)
    report = assistant.check(full=True)
    index = assistant._open_index()
    store = index.store
    store.reopen()
    ids = store.ids()
    vectors = store.vectors(ids)
    retriever = assistant._open_retriever()
    answers = [(a.text, [(c.doc_id, c.start, c.end) for c in a.citations])
               for a in map(assistant.ask, QUESTIONS)]
    uploads = home / "uploads"
    return {
        "clean": report.clean,
        "docs": sorted((d.doc_id, d.content_hash, d.n_chunks, d.title, d.date, d.source)
                       for d in assistant.docs()),
        "chunks": [cid for cid, _ in index.catalog.all_chunks()],
        "sentences": index.catalog.sentence_count(),
        "vector_ids": ids,
        "vectors": vectors,
        "lexical": list(retriever.lexical.ids),
        "sources": index.catalog.sources(),
        "uploads": sorted((p.name, p.read_text()) for p in uploads.iterdir()) if uploads.exists() else [],
        "leftovers": sorted(p.name for p in home.iterdir() if p.name in (".upload-tmp",)),
        "answers": answers,
    }


def same(got: dict, want: dict) -> list[str]:
    diffs = [k for k in want if k != "vectors" and got[k] != want[k]]
    if got["vector_ids"] == want["vector_ids"]:
        for vid in want["vector_ids"]:
            if float(np.dot(got["vectors"][vid], want["vectors"][vid])) < 0.9999:
                diffs.append(f"vector {vid}")
    return diffs


@pytest.mark.slow
def test_kill_9_at_every_point_then_recovery_equals_a_clean_run(place, make_assistant, capsys):
    def make(home):
        return make_assistant(home=home)

    home = place[0]
    killed, survived, failures = 0, 0, []
    for name, (kind, op, points) in SCENARIOS.items():
        _prepare(kind, place, make)
        _operate(op, place, make)
        clean = snapshot(home, make)
        assert clean["clean"]
        for point in points:
            _prepare(kind, place, make)
            code = _kill(op, point, place)
            assert code == -9, f"{name}: {point} was not reached (exit {code})"
            killed += 1
            _operate(op, place, make)
            diffs = same(snapshot(home, make), clean)
            if diffs:
                failures.append(f"{name} killed at {point}: differs in {', '.join(diffs)}")
            else:
                survived += 1
    with capsys.disabled():
        print(f"\nfault injection: {killed} kills in {len(SCENARIOS)} operations, {survived} recovered "
              f"to the clean index; {len({p for _, _, ps in SCENARIOS.values() for p in ps})} of "
              f"{len(POINTS)} named points used")
    assert not failures, failures
    assert killed >= 20 and survived == killed
