"""The vector store on a real embedded Chroma: sentence vectors in, chunks scored by their best sentence out."""

import numpy as np

from index.records import Sentence
from index.store import ChromaStore


def _unit(*xs):
    v = np.zeros(384, dtype=np.float32)
    v[:len(xs)] = xs
    return v / np.linalg.norm(v)


def test_a_chunk_scores_its_best_sentence_and_a_shared_sentence_scores_both_chunks(tmp_path):
    store = ChromaStore(path=tmp_path / "chroma")
    sentences = [Sentence("a", 0, 0, 10, 0, 0), Sentence("a", 1, 11, 20, 0, 1),
                 Sentence("a", 2, 21, 30, 1, 1), Sentence("b", 0, 0, 10, 0, 0)]
    vectors = np.stack([_unit(1, 0), _unit(0.6, 0.8), _unit(0, 1), _unit(0.8, 0.6)])
    store.upsert(sentences, vectors)
    got = dict(store.query(_unit(1, 0), 10))
    assert set(got) == {"a:0", "a:1", "b:0"}
    assert abs(got["a:0"] - 1.0) < 1e-3                        # its best sentence, a:s0
    assert abs(got["a:1"] - 0.6) < 1e-3                        # via a:s1, shared with a:0
    assert abs(got["b:0"] - 0.8) < 1e-3
    assert [cid for cid, _ in store.query(_unit(1, 0), 2)] == ["a:0", "b:0"]
    assert [cid for cid, _ in store.query(_unit(1, 0), 5, doc_ids=["b"])] == ["b:0"]
    assert store.query(_unit(1, 0), 5, doc_ids=[]) == []


def test_delete_beyond_drops_the_sentences_a_shorter_document_no_longer_has(tmp_path):
    store = ChromaStore(path=tmp_path / "chroma")
    store.upsert([Sentence("a", n, 0, 1, 0, 0) for n in range(4)] + [Sentence("b", 0, 0, 1, 0, 0)],
                 np.stack([_unit(1, n) for n in range(5)]))
    store.delete_beyond({"a": 2, "b": 1})
    assert store.ids() == ["a:s0", "a:s1", "b:s0"]
    store.delete_document("a")
    assert store.ids() == ["b:s0"]
