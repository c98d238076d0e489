"""The same index on a real `chroma run` server instead of embedded Chroma."""

import pytest

from rag.errors import StoreUnavailable


def test_ingest_ask_reingest_delete_against_a_real_chroma_server(make_assistant, tiny_corpus, chroma_server, tmp_path):
    assistant = make_assistant(chroma_url=chroma_server, collection="server_test")
    report = assistant.ingest([tiny_corpus])
    assert sorted(report.added) == ["alpha", "beta", "gamma"]
    assert not (assistant.settings.home / "chroma").exists()     # vectors live on the server
    answer = assistant.ask("How long will the Port Amber tram line be?")
    assert not answer.abstained
    assert any(c.doc_id == "beta" and "14 kilometres" in c.snippet for c in answer.citations)
    again = assistant.ingest([tiny_corpus])
    assert again.embedded == 0 and len(again.unchanged) == 3
    store = assistant._open_index().store
    before = store.count()
    assistant.delete("gamma")
    assert store.count() < before
    assert all(not i.startswith("gamma:") for i in store.ids())


def test_unreachable_server_is_a_typed_error_naming_the_fix(make_assistant, tiny_corpus):
    assistant = make_assistant(chroma_url="http://127.0.0.1:9")
    with pytest.raises(StoreUnavailable, match="chroma run"):
        assistant.ingest([tiny_corpus])
