"""Ingestion is incremental, idempotent, crash-safe, and refuses mismatched settings."""

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import BIN, write_articles
from rag import Assistant
from rag.errors import IndexCorrupted, IndexMismatch, IndexNotBuilt


def snapshot(assistant):
    index = assistant._open_index()
    return {
        "docs": {d.doc_id: (d.content_hash, d.n_chunks) for d in assistant.docs()},
        "chroma": index.store.ids(),
        "catalog_chunks": index.catalog.chunk_count(),
        "catalog_sentences": index.catalog.sentence_count(),
        "lexical": sorted(assistant._open_retriever().lexical.ids),
    }


def test_ingesting_twice_adds_no_chunks(make_assistant, tiny_corpus):
    assistant = make_assistant()
    first = assistant.ingest([tiny_corpus])
    before = snapshot(assistant)
    second = assistant.ingest([tiny_corpus])
    assert sorted(first.added) == ["alpha", "beta", "gamma"]
    assert second.added == [] and second.updated == [] and second.embedded == 0
    assert sorted(second.unchanged) == ["alpha", "beta", "gamma"]
    assert snapshot(assistant) == before
    assert len(before["chroma"]) == before["catalog_chunks"] == first.embedded > 0
    assert before["catalog_sentences"] > before["catalog_chunks"]


def test_changed_file_replaces_its_chunks(make_assistant, tiny_corpus):
    assistant = make_assistant(chunk_size=32, chunk_overlap=0)
    assistant.ingest([tiny_corpus])
    old = snapshot(assistant)
    (tiny_corpus / "alpha.txt").write_text("The Blue River dam was closed for repairs in 2024.")
    report = assistant.ingest([tiny_corpus])
    assert report.updated == ["alpha"] and report.added == []
    new = snapshot(assistant)
    alpha_ids = [i.partition("@")[0] for i in new["chroma"] if i.startswith("alpha:")]
    assert alpha_ids == ["alpha:0"]                        # the stale alpha:1.. are gone
    assert len([i for i in old["chroma"] if i.startswith("alpha:")]) > 1
    answer = assistant.ask("When was the Blue River dam closed for repairs?")
    assert any("closed for repairs" in c.snippet for c in answer.citations)
    assert all("90 million cubic metres" not in c.snippet for c in answer.citations)


def test_file_removed_from_an_ingested_folder_leaves_no_chunks(make_assistant, tiny_corpus):
    assistant = make_assistant()
    assistant.ingest([tiny_corpus])
    (tiny_corpus / "gamma.txt").unlink()
    report = assistant.ingest([tiny_corpus])
    assert report.removed == ["gamma"]
    snap = snapshot(assistant)
    assert "gamma" not in snap["docs"]
    assert not [i for i in snap["chroma"] + snap["lexical"] if i.startswith("gamma:")]


def test_delete_removes_a_document_everywhere(make_assistant, tiny_corpus):
    assistant = make_assistant()
    assistant.ingest([tiny_corpus])
    assistant.delete("beta")
    snap = snapshot(assistant)
    assert "beta" not in snap["docs"]
    assert not [i for i in snap["chroma"] + snap["lexical"] if i.startswith("beta:")]
    hits = assistant.retrieve("Port Amber tram line", k=5)
    assert all(h.doc_id != "beta" for h in hits)


def test_unreadable_files_are_skipped_and_the_rest_ingested(make_assistant, tiny_corpus):
    (tiny_corpus / "photo.txt").write_bytes(b"\x89PNG\x00\x00\x00" * 50)
    (tiny_corpus / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    report = make_assistant().ingest([tiny_corpus])
    assert sorted(report.added) == ["alpha", "beta", "gamma"]
    assert sorted(name for name, _ in report.skipped) == ["photo.txt", "sheet.xlsx"]


def test_an_index_whose_terms_were_made_another_way_is_refused(make_assistant, tiny_corpus, monkeypatch):
    from index import terms

    make_assistant().ingest([tiny_corpus])
    monkeypatch.setattr(terms, "VERSION", terms.VERSION + 1)
    with pytest.raises(IndexMismatch, match="terms=.*rag ingest --rebuild"):
        make_assistant().ask("When was the dam finished?")


def test_settings_mismatch_is_refused_with_how_to_rebuild(make_assistant, tiny_corpus):
    make_assistant().ingest([tiny_corpus])
    other = make_assistant(chunk_size=128)
    with pytest.raises(IndexMismatch, match="rag ingest --rebuild"):
        other.ask("When was the dam finished?")
    with pytest.raises(IndexMismatch):
        other.ingest([tiny_corpus])
    rebuilt = make_assistant(chunk_size=128)
    report = rebuilt.ingest([tiny_corpus], rebuild=True)
    assert sorted(report.added) == ["alpha", "beta", "gamma"]
    assert not rebuilt.ask("When was the Blue River dam finished?").abstained


def test_corrupted_catalog_is_a_clear_error_and_sources_are_untouched(make_assistant, tiny_corpus):
    assistant = make_assistant()
    assistant.ingest([tiny_corpus])
    catalog = assistant.settings.home / "catalog.sqlite"
    catalog.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorrupted, match="rebuild"):
        make_assistant().ask("When was the dam finished?")
    assert sorted(p.name for p in tiny_corpus.iterdir()) == ["alpha.txt", "beta.txt", "gamma.txt"]
    rebuilt = make_assistant()
    rebuilt.ingest([tiny_corpus], rebuild=True)
    assert len(rebuilt.docs()) == 3


def test_asking_before_any_ingest_says_to_ingest(make_assistant, tmp_path):
    with pytest.raises(IndexNotBuilt, match="rag ingest"):
        make_assistant().ask("Anything?")
    prepared = []    # and says it at once, before preparing the embedding model (about 30 s)
    fresh = Assistant(home=tmp_path / "fresh", on_prepare=prepared.append)
    with pytest.raises(IndexNotBuilt, match="rag ingest"):
        fresh.ask("Anything?", mode="extractive")
    assert prepared == [] and fresh._embedder is None


MANY = 400   # several ingest groups, so a kill lands between two commits


def _many_articles(folder, n=MANY):
    articles = {}
    for i in range(n):
        articles[f"doc{i:03d}.txt"] = " ".join(
            f"Report {i} paragraph {j}: the council of town {i} discussed budget item {i * 7 + j} "
            f"and voted {j} times on the river bridge plan." for j in range(4))
    return write_articles(folder, articles)


def test_killed_mid_ingest_then_rerun_equals_a_clean_run(tmp_path, make_assistant):
    corpus = _many_articles(tmp_path / "many")
    killed_home = tmp_path / "killed"
    env = {**os.environ, "RAG_HOME": str(killed_home)}
    proc = subprocess.Popen([str(BIN / "rag"), "ingest", str(corpus)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    staged = 0
    while time.time() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(killed_home / "catalog.sqlite", timeout=1) as db:
                staged = db.execute("SELECT count(*) FROM stage_docs").fetchone()[0]
        except sqlite3.Error:
            staged = 0
        if staged > 0:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed; use more articles"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 0 < staged < MANY
    with sqlite3.connect(killed_home / "catalog.sqlite") as db:      # readers saw none of it
        assert db.execute("SELECT count(*) FROM docs").fetchone()[0] == 0
        staged = db.execute("SELECT count(*) FROM stage_docs").fetchone()[0]
        staged_chunks = db.execute("SELECT count(*) FROM stage_chunks").fetchone()[0]

    resumed = make_assistant(home=killed_home)
    report = resumed.ingest([corpus])
    assert len(report.added) == MANY                     # published now, all at once
    clean = make_assistant(home=tmp_path / "clean")
    clean_report = clean.ingest([corpus])
    assert report.embedded == clean_report.embedded - staged_chunks   # staged ones were not re-embedded
    assert snapshot(resumed) == snapshot(clean)
    a, b = resumed._open_index().store, clean._open_index().store
    some = a.ids()[:: len(a.ids()) // 5]
    va, vb = a.vectors(some), b.vectors(some)
    assert all(float(va[i] @ vb[i]) > 0.999 for i in some)
