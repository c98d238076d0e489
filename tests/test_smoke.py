def test_bundled_corpus_answers_us_law_question_with_citations(corpus_assistant):
    answer = corpus_assistant.ask("What does US law require?")
    assert not answer.abstained
    assert answer.citations
    for c in answer.citations:
        doc = corpus_assistant.document(c.doc_id)
        assert doc.text[c.start:c.end] == c.snippet


def test_chroma_server_fixture_serves_heartbeat(chroma_server):
    import urllib.request, json
    reply = json.load(urllib.request.urlopen(chroma_server + "/api/v2/heartbeat", timeout=5))
    assert reply
