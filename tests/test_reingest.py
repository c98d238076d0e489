"""Re-ingesting costs nothing when nothing changed: no file is re-read, no model is loaded."""

from __future__ import annotations

import os

from rag import Assistant


def _onnx_assistant(home):
    return Assistant(home=home, embed_precision="int8")


def test_reingest_of_unchanged_folder_loads_no_model_and_embeds_nothing(tmp_path, tiny_corpus):
    _onnx_assistant(tmp_path / "home").ingest([tiny_corpus])
    again = _onnx_assistant(tmp_path / "home")
    report = again.ingest([tiny_corpus])
    assert report.embedded == 0 and len(report.unchanged) == 3
    assert again.embedder._runner is None      # the model was never loaded


def test_touched_but_identical_file_is_unchanged_and_edited_file_is_updated(tmp_path, tiny_corpus):
    home = tmp_path / "home"
    _onnx_assistant(home).ingest([tiny_corpus])
    alpha, beta = tiny_corpus / "alpha.txt", tiny_corpus / "beta.txt"
    st = alpha.stat()
    os.utime(alpha, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))   # same bytes, new mtime
    text = beta.read_text()
    beta.write_text(text.replace("14 kilometres", "15 kilometres"))          # same size, new text
    assistant = _onnx_assistant(home)
    report = assistant.ingest([tiny_corpus])
    assert report.updated == ["beta"]
    assert sorted(report.unchanged) == ["alpha", "gamma"]
    texts = [h.text for h in assistant.retrieve("How long will the Port Amber tram line be?", k=3)]
    assert any("15 kilometres" in t for t in texts) and not any("14 kilometres" in t for t in texts)
    assert len(assistant.ingest([tiny_corpus]).unchanged) == 3              # stamps were refreshed


def test_answers_from_an_int8_index_cite_exact_source_text(tmp_path, tiny_corpus):
    assistant = _onnx_assistant(tmp_path / "home")
    assistant.ingest([tiny_corpus])
    answer = assistant.ask("When was the Blue River dam finished?")
    assert not answer.abstained
    for c in answer.citations:
        assert assistant.document(c.doc_id).text[c.start:c.end] == c.snippet
    assert any("2021" in c.snippet for c in answer.citations)


def test_reingest_of_unchanged_folder_checks_the_index_without_opening_the_vector_store(tmp_path, tiny_corpus):
    """The check every ingest runs first trusts the embedded store's seal (index/check.py): an
    unchanged re-ingest, in a fresh process, never imports chromadb; an emptied store is noticed."""
    import shutil
    import subprocess
    import sys

    _onnx_assistant(tmp_path / "home").ingest([tiny_corpus])
    script = ("import sys; from rag import Assistant; r = Assistant(home=sys.argv[1]).ingest([sys.argv[2]]); "
              "print(len(r.unchanged), len(r.repaired), 'chromadb' in sys.modules)")
    run = [sys.executable, "-c", script, str(tmp_path / "home"), str(tiny_corpus)]
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.split() == ["3", "0", "False"]
    shutil.rmtree(tmp_path / "home" / "chroma")
    assert subprocess.run(run, capture_output=True, text=True, check=True).stdout.split() == ["3", "3", "True"]
