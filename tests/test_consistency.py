"""The catalog, the vector store and the lexical index never silently disagree; writers in other
processes neither interleave nor leave a running reader stale; recovery advice names the
sources the index was built from. Real processes, real Chroma, real kills."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import BIN, write_articles

QUESTION = "How long will the Port Amber tram line be?"


def rag(*args, home, env=None, timeout=300):
    run_env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RAG_", "OPENAI_")) or k == "RAG_MODEL_CACHE"}
    run_env.update(env or {})
    return subprocess.run([str(BIN / "rag"), "--home", str(home), *args], capture_output=True,
                          text=True, env=run_env, timeout=timeout)


def answer_of(home, question=QUESTION):
    result = rag("ask", question, "--json", home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    return data["answer"], [c["doc_id"] for c in data["citations"]]


@pytest.fixture
def built(tmp_path, tiny_corpus):
    """A home indexed from the user's own folder (not the bundled corpus), by the CLI."""
    home = tmp_path / "home"
    result = rag("ingest", str(tiny_corpus), home=home)
    assert result.returncode == 0, result.stderr
    return home, tiny_corpus


def test_kill_9_in_delete_leaves_a_consistent_index_and_rerun_converges(built):
    home, folder = built
    killed = rag("delete", "beta", home=home, env={"RAG_FAULT_AT": "delete.committed"})
    assert killed.returncode == -9                      # killed after the catalog switched
    docs = json.loads(rag("docs", "--json", home=home).stdout)
    assert sorted(d["doc_id"] for d in docs) == ["alpha", "gamma"]
    text, cited = answer_of(home)                       # no vectors of beta are used
    assert "beta" not in cited
    check = rag("check", "--json", home=home)
    assert check.returncode == 0 and json.loads(check.stdout)["orphans"]   # stray vectors, harmless
    again = rag("delete", "beta", home=home)            # re-running: repairs, then "not found"
    assert again.returncode == 1 and "rag docs" in again.stderr
    report = json.loads(rag("check", "--json", home=home).stdout)
    assert report["clean"] and report["vectors"] == report["chunks"]


def test_killed_before_the_catalog_switch_nothing_is_deleted(built):
    home, _ = built
    before = answer_of(home)
    killed = rag("delete", "beta", home=home, env={"RAG_FAULT_AT": "delete.lexical"})
    assert killed.returncode == -9
    assert answer_of(home) == before                    # the whole old index, as it was
    assert rag("delete", "beta", home=home).returncode == 0
    assert "beta" not in answer_of(home)[1]


def test_an_emptied_vector_store_is_refused_with_the_fix_and_ingest_repairs_it(built):
    home, folder = built
    before = answer_of(home)
    shutil.rmtree(home / "chroma")
    refused = rag("ask", QUESTION, home=home)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert f"rag ingest {folder}" in refused.stderr and "vector store" in refused.stderr
    check = rag("check", home=home)
    assert check.returncode == 1 and f"rag ingest {folder}" in check.stderr
    fixed = rag("ingest", str(folder), home=home)      # the advice, followed
    assert fixed.returncode == 0, fixed.stderr
    assert "3 unchanged" in fixed.stdout and "repaired 3" in fixed.stdout
    assert answer_of(home) == before
    assert rag("check", home=home).returncode == 0


@pytest.mark.server
def test_another_empty_chroma_server_is_not_taken_for_the_index(make_assistant, tiny_corpus, chroma_server):
    from rag.errors import IndexDiverged

    built = make_assistant()                            # embedded
    built.ingest([tiny_corpus])
    moved = make_assistant(chroma_url=chroma_server, collection="elsewhere")
    with pytest.raises(IndexDiverged, match=f"rag ingest {tiny_corpus}"):
        moved.ask(QUESTION)
    report = moved.ingest([tiny_corpus])
    assert sorted(report.repaired) == ["alpha", "beta", "gamma"] and report.embedded > 0
    assert sorted(report.unchanged) == ["alpha", "beta", "gamma"] and not report.added
    assert moved.check().clean
    assert any(c.doc_id == "beta" for c in moved.ask(QUESTION).citations)


@pytest.mark.server
def test_a_foreign_collection_on_a_server_is_refused_not_emptied(make_assistant, tmp_path, tiny_corpus,
                                                                  chroma_server):
    from rag.errors import IndexMismatch

    first = make_assistant(home=tmp_path / "one", chroma_url=chroma_server, collection="shared")
    first.ingest([tiny_corpus])
    second = make_assistant(home=tmp_path / "two", chroma_url=chroma_server, collection="shared")
    with pytest.raises(IndexMismatch, match="another index"):
        second.ingest([tiny_corpus])
    assert first.check().clean                          # untouched


def test_a_damaged_lexical_index_is_refused_and_the_advice_keeps_the_users_documents(built):
    home, folder = built
    shutil.rmtree(home / "lexical")
    refused = rag("ask", QUESTION, home=home)
    assert refused.returncode == 1
    assert f"run `rag ingest {folder}`" in refused.stderr      # never a bare `rag ingest`
    assert rag("ingest", str(folder), home=home).returncode == 0
    docs = json.loads(rag("docs", "--json", home=home).stdout)
    assert sorted(d["doc_id"] for d in docs) == ["alpha", "beta", "gamma"]   # no bundled article


def test_rebuild_without_paths_rebuilds_from_the_recorded_sources(built):
    home, folder = built
    rebuilt = rag("ingest", "--rebuild", home=home)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "3 added" in rebuilt.stdout
    docs = json.loads(rag("docs", "--json", home=home).stdout)
    assert sorted(d["doc_id"] for d in docs) == ["alpha", "beta", "gamma"]


def test_settings_mismatch_advice_names_the_sources(built):
    home, folder = built
    refused = rag("ask", QUESTION, home=home, env={"RAG_CHUNK_SIZE": "64"})
    assert refused.returncode == 1 and f"rag ingest --rebuild {folder}" in refused.stderr


def test_a_crash_during_rebuild_still_names_the_sources(built):
    home, folder = built
    killed = rag("ingest", "--rebuild", home=home, env={"RAG_FAULT_AT": "rebuild.wiped"})
    assert killed.returncode == -9
    refused = rag("ask", QUESTION, home=home)
    assert refused.returncode == 1 and f"rag ingest {folder}" in refused.stderr
    assert rag("ingest", str(folder), home=home).returncode == 0
    assert sorted(d["doc_id"] for d in json.loads(rag("docs", "--json", home=home).stdout)) == \
        ["alpha", "beta", "gamma"]


def test_check_lists_what_disagrees_document_by_document_and_repairs_it(make_assistant, tiny_corpus):
    assistant = make_assistant()
    assistant.ingest([tiny_corpus])
    assert assistant.check().clean
    store = assistant._open_index().store
    store.delete_ids([i for i in store.ids() if i.startswith("gamma:")])
    report = assistant.check()
    assert not report.ok and list(report.missing) == ["gamma"]
    assert any(p.startswith("gamma: ") for p in report.problems())
    assert assistant.check(repair=True).clean
    assert assistant.ingest([tiny_corpus]).embedded == 0


def test_a_server_sees_another_process_ingest_at_once(make_assistant, tmp_path, tiny_corpus):
    server = make_assistant()                            # a long-running reader, like `rag serve`
    server.ingest([tiny_corpus])
    assert server.ask(QUESTION).citations
    new = write_articles(tmp_path / "more", {"delta.txt": (
        "The Harbor Gate ferry from Port Amber to Kestrel Island was cancelled on Friday after "
        "storm damage. Repairs will take three weeks, the operator said.")})
    result = rag("ingest", str(new / "delta.txt"), home=server.settings.home)
    assert result.returncode == 0, result.stderr
    assert "delta" in [d.doc_id for d in server.docs()]
    answer = server.ask("Why was the Harbor Gate ferry cancelled?", doc_ids=["delta"])
    assert not answer.abstained and [c.doc_id for c in answer.citations] == ["delta"]
    answer = server.ask("Why was the Harbor Gate ferry cancelled?")
    assert any(c.doc_id == "delta" for c in answer.citations)


def test_a_writer_waits_for_another_processes_writer(make_assistant, tiny_corpus):
    from index.lock import HomeLock

    assistant = make_assistant()
    assistant.ingest([tiny_corpus])
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k == "RAG_MODEL_CACHE"}
    with HomeLock(assistant.settings.home).writer():
        proc = subprocess.Popen([str(BIN / "rag"), "--home", str(assistant.settings.home), "delete", "beta"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert proc.poll() is None                      # waiting for the lock
        assert "beta" in [d.doc_id for d in assistant.docs()]
    assert proc.wait(timeout=120) == 0
    assert "beta" not in [d.doc_id for d in assistant.docs()]


MANY = 300


def test_questions_during_another_process_ingest_see_the_old_index_or_the_new(make_assistant, tmp_path,
                                                                                tiny_corpus):
    reader = make_assistant()
    reader.ingest([tiny_corpus])
    folder = write_articles(tmp_path / "many", {
        f"doc{i:03d}.txt": " ".join(f"Report {i} paragraph {j}: the council of town {i} discussed the "
                                    f"Port Amber tram budget item {i * 7 + j}." for j in range(4))
        for i in range(MANY)})
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") or k == "RAG_MODEL_CACHE"}
    proc = subprocess.Popen([str(BIN / "rag"), "--home", str(reader.settings.home), "ingest", str(folder)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen, errors, waits = set(), [], []
    stop = threading.Event()

    def ask():
        while not stop.is_set():
            try:
                t = time.perf_counter()
                hits = reader.retrieve("What did the council say about the Port Amber tram budget?", k=40)
                waits.append(time.perf_counter() - t)
                generated = {h.doc_id for h in hits if h.doc_id.startswith("doc")}
                seen.add(len(reader.docs()) if generated else 3)
                if generated:          # a new document shows only once all of them are there
                    assert len(reader.docs()) == 3 + MANY
            except Exception as exc:   # any failure is the finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        assert proc.wait(timeout=400) == 0, proc.stderr.read()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[0]
    assert seen <= {3, 3 + MANY} and 3 + MANY in seen
    assert len(waits) > 10 and max(waits) < 5.0


def test_a_reader_reopening_the_index_is_not_raced_by_a_writer_pruning_it(make_assistant, tmp_path,
                                                                            tiny_corpus, monkeypatch):
    """The moment between a reader learning of a new index state and loading its lexical index:
    a second write, published then, must wait for the reader, not prune what it loads."""
    from index.lexical import LexicalIndex

    writer, reader = make_assistant(), make_assistant()
    writer.ingest([tiny_corpus])
    hits = reader.retrieve(QUESTION)                     # the reader's view: the first state
    new = write_articles(tmp_path / "more", {"delta.txt": "The Harbor Gate ferry was cancelled."})
    writer.ingest([new / "delta.txt"])                   # a second state the reader has not seen
    real_load, second = LexicalIndex.load, []

    def load_while_a_writer_publishes(root, name):
        if not second:                                   # a third state, published now
            second.append(threading.Thread(target=writer.delete, args=("delta",)))
            second[0].start()
            time.sleep(1.0)
        return real_load(root, name)

    monkeypatch.setattr(LexicalIndex, "load", staticmethod(load_while_a_writer_publishes))
    answer = reader.answer_hits(QUESTION, hits)
    second[0].join(timeout=60)
    assert any(c.doc_id == h.doc_id for c in answer.citations for h in hits)
    assert "delta" not in [d.doc_id for d in reader.docs()]


def test_a_reader_taking_the_read_lock_again_does_not_wait_for_a_waiting_writer(tmp_path):
    """A writer waits at the turnstile for the readers in; a reader that reads again inside its
    own read (the index reopened while answering) must not queue behind it: that waits for ever."""
    from index.lock import HomeLock

    lock, entered, done = HomeLock(tmp_path), threading.Event(), threading.Event()

    def reader():
        with lock.reading():
            entered.set()
            time.sleep(0.5)                              # the writer is waiting meanwhile
            with lock.reading():
                done.set()

    def writer():
        entered.wait(5)
        with lock.publishing():
            pass

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=writer, daemon=True)]
    for t in threads:
        t.start()
    assert done.wait(10), "the reader's second read waited behind the writer"
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads)
