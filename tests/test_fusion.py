"""Fusion options and per-document ranking in rag.retrieve (pure functions, no index)."""

import pytest

from rag.retrieve import best_per_doc, fuse


def test_per_document_fusion_scores_each_article_once_by_its_best_chunks():
    dense = [("a:1", 0.9), ("b:0", 0.8), ("a:0", 0.7)]
    lexical = [("b:2", 10.0), ("a:0", 5.0)]
    fused = fuse(best_per_doc(dense), best_per_doc(lexical), how="weighted", lexical_weight=0.5,
                 key=lambda cid: cid.split(":")[0])
    # a: 0.5*0.9/0.9 + 0.5*5/10 = 0.75; b: 0.5*0.8/0.9 + 0.5*1 = 0.944
    assert [cid for cid, _ in fused] == ["b:0", "a:1"]
    assert fused[0][1] == pytest.approx(0.5 * 0.8 / 0.9 + 0.5)


def test_minmax_fusion_gives_the_weakest_candidate_nothing():
    dense = [("x", 0.9), ("y", 0.5)]
    lexical = [("y", 8.0), ("x", 4.0)]
    got = dict(fuse(dense, lexical, how="minmax", lexical_weight=0.35))
    assert got["x"] == pytest.approx(0.65)
    assert got["y"] == pytest.approx(0.35)


def test_lexical_weight_decides_which_list_wins():
    dense, lexical = [("d", 1.0)], [("l", 1.0)]
    assert fuse(dense, lexical, how="weighted", lexical_weight=0.35)[0][0] == "d"
    assert fuse(dense, lexical, how="weighted", lexical_weight=0.65)[0][0] == "l"
