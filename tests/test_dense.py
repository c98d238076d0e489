"""What ingest stores for dense retrieval, and how a chunk's dense score is made (real MiniLM,
real embedded Chroma): one vector per chunk in Chroma, one per sentence in the catalog."""

import numpy as np
import pytest

from rag.errors import IndexMismatch

QUESTION = "How many passengers used the new ferry?"


def _stored(assistant):
    """The index, its chunks, their vectors (by chunk id: the store's ids are chunk id @ version)
    and the sentences with theirs."""
    index = assistant._open_index()
    vectors = {vid.partition("@")[0]: v for vid, v in index.store.vectors(index.store.ids()).items()}
    chunks = {cid: chunk for cid, (chunk, _, _) in index.catalog.chunks(list(vectors)).items()}
    return index, chunks, vectors, index.catalog.sentences(chunks.values())


@pytest.mark.parametrize("mode", ["alone", "in_chunk"])
def test_chroma_holds_chunk_vectors_and_the_catalog_sentence_vectors(make_assistant, tiny_corpus, embedder, mode):
    assistant = make_assistant(sentence_vectors=mode)
    report = assistant.ingest([tiny_corpus])
    _, chunks, vectors, sentences = _stored(assistant)
    assert report.embedded == len(chunks) == len(vectors) > 0
    ids = sorted(chunks)
    own = embedder.embed([chunks[c].text for c in ids])
    # int8 vectors depend a little on the batch they were computed in (test_embed_onnx)
    assert np.sum(np.stack([vectors[c] for c in ids]) * own, axis=1).min() > 0.98
    alone = embedder.embed([span.text for span, _ in sentences])
    cos = np.sum(np.stack([v for _, v in sentences]) * alone, axis=1)
    if mode == "alone":
        assert cos.min() > 0.98
    else:                                          # read in the chunk's context: related, not equal
        multi = [i for i, (span, _) in enumerate(sentences)
                 if any(c.doc_id == span.doc_id and c.text != span.text for c in chunks.values())]
        assert multi and cos[multi].mean() < 0.95 and cos.min() > 0.5


def test_switching_sentence_vectors_on_a_built_index_asks_for_a_rebuild(make_assistant, tiny_corpus):
    make_assistant().ingest([tiny_corpus])
    with pytest.raises(IndexMismatch, match="sentence_vectors"):
        make_assistant(sentence_vectors="in_chunk").ingest([tiny_corpus])


@pytest.mark.parametrize("weight", [0.0, 0.5, 1.0])
def test_a_chunk_scores_its_own_similarity_mixed_with_its_best_sentences(make_assistant, tiny_corpus,
                                                                          embedder, weight):
    assistant = make_assistant(sentence_weight=weight)
    assistant.ingest([tiny_corpus])
    _, chunks, vectors, sentences = _stored(assistant)
    q = embedder.embed([QUESTION])[0]
    expected = {}
    for cid, chunk in chunks.items():
        best = max(float(v @ q) for span, v in sentences
                   if span.doc_id == chunk.doc_id and chunk.start <= span.start and span.end <= chunk.end)
        expected[cid] = (1 - weight) * float(vectors[cid] @ q) + weight * best
    hits = assistant.retrieve(QUESTION, k=len(chunks), method="dense")
    assert [h.chunk_id for h in hits] == sorted(expected, key=lambda c: -expected[c])
    assert all(abs(h.dense - expected[h.chunk_id]) < 2e-3 for h in hits)
