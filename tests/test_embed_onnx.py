"""The torch-free embedder (fp32 on ONNX Runtime, int8 on OpenVINO) agrees with sentence-transformers
(the real MiniLM, both sides)."""

from __future__ import annotations

import numpy as np
import pytest

from rag.settings import Settings
from tests.threads import at_once

TEXTS = [
    "Turkey bought the Russian S-400 air-defence system in 2019.",
    "The United States removed Turkey from the F-35 fighter jet programme.",
    "What does US law require?",
    "A rare orange owl was seen in the Kestrel Valley forest last week.",
    "Mayor Lena Ostrova said the first trams should run in 2027, after the council voted on "
    "Tuesday to build a 14-kilometre line from the harbour to the university. " * 6,  # ~210 pieces
    "ok",
]


@pytest.fixture(scope="module")
def torch_embedder():
    """The reference: sentence-transformers fp32 on torch."""
    from index.embed_local import LocalEmbedder

    return LocalEmbedder()


@pytest.fixture(scope="module")
def onnx_embedders():
    """Both precisions, using the machine's model cache (exported once if missing)."""
    from index.embed_onnx import OnnxEmbedder

    cache = Settings.load().models_dir
    return {p: OnnxEmbedder(precision=p, cache=cache) for p in ("fp32", "int8")}


def test_onnx_fp32_vectors_match_sentence_transformers(torch_embedder, onnx_embedders):
    cos = np.sum(torch_embedder.embed(TEXTS) * onnx_embedders["fp32"].embed(TEXTS), axis=1)
    assert cos.min() > 0.9999, cos


def test_onnx_int8_vectors_stay_close_to_fp32(torch_embedder, onnx_embedders):
    cos = np.sum(torch_embedder.embed(TEXTS) * onnx_embedders["int8"].embed(TEXTS), axis=1)
    assert cos[:-1].min() > 0.99, cos      # sentences, questions, long passages
    assert cos[-1] > 0.95, cos             # a two-letter text: the least stable case
    short = ["What happened?", "Who is the mayor?", "tariffs", "climate change"]
    cos = np.sum(torch_embedder.embed(short) * onnx_embedders["int8"].embed(short), axis=1)
    assert cos.min() > 0.97, cos           # short questions keep their meaning too


def test_int8_ranks_passages_like_fp32_for_a_question(torch_embedder, onnx_embedders):
    passages = TEXTS[:2] + TEXTS[3:5]
    q = "Why was Turkey removed from the F-35 programme?"
    for e in (torch_embedder, onnx_embedders["int8"]):
        scores = e.embed(passages) @ e.embed([q])[0]
        assert int(np.argmax(scores)) == 1


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_padding_never_leaks_into_the_pooled_vectors(onnx_embedders, precision, monkeypatch):
    # int8 activation ranges are calibrated once (static), so a text's batch company does not
    # move its vector either
    e = onnx_embedders[precision]
    monkeypatch.setattr(e, "batch_tokens", 100_000)
    together = e.embed(TEXTS)           # one batch, padded to the longest text
    alone = np.stack([e.embed([t])[0] for t in TEXTS])
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4)


def test_onnx_embedder_shares_the_model_id_and_loads_nothing_until_used(embedder, tmp_path):
    from index.embed_onnx import OnnxEmbedder

    fresh = OnnxEmbedder(precision="int8", cache=tmp_path / "never-created")
    assert fresh.model_id == embedder.model_id
    assert fresh.embed([]).shape == (0, 384)
    assert not (tmp_path / "never-created").exists()


def test_unknown_precision_is_refused_with_the_choices():
    from rag.errors import ConfigError

    with pytest.raises(ConfigError, match="int8, fp32, torch"):
        Settings.load(env={}, embed_precision="fp16")


def test_an_embedder_for_a_precision_without_a_model_is_refused_with_the_choices(tmp_path):
    from index.embed_onnx import OnnxEmbedder
    from rag.errors import EmbeddingUnavailable

    with pytest.raises(EmbeddingUnavailable, match="'fp16' has no ONNX model; use one of fp32, int8"):
        OnnxEmbedder(precision="fp16", cache=tmp_path)
    assert not any(tmp_path.iterdir())


def test_batches_hold_similar_lengths_within_the_token_budget():
    from index.embed_onnx import _batches

    lengths = np.array([7, 250, 30, 31, 12, 40, 9, 200, 33, 30, 8, 64] * 5)
    batches = _batches(lengths, 4, 256)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(len(lengths)))         # every text once
    assert np.all(np.diff(lengths[rows]) >= 0)                         # shortest first
    for b in batches:
        assert 1 <= len(b) <= 4
        assert len(b) == 1 or len(b) * lengths[b].max() <= 256
    assert [len(b) for b in _batches(np.array([5] * 10), 4, 256)] == [4, 4, 2]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_two_cores_give_the_same_vectors_as_one(precision):
    # both runtimes run many batches one per core: two cores must not change a vector
    from index.embed_onnx import OnnxEmbedder

    cache = Settings.load().models_dir
    texts = [f"{t} ({i})" for i in range(50) for t in TEXTS]   # 300: many batches, tokenised in halves
    parallel = OnnxEmbedder(precision=precision, cache=cache, batch_size=16, threads=2).embed(texts)
    serial = OnnxEmbedder(precision=precision, cache=cache, batch_size=16, threads=1).embed(texts)
    assert np.array_equal(parallel, serial)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_question_alone_gets_the_vector_it_gets_among_many(onnx_embedders, precision):
    # a small job (a question) and a large one (ingest) run differently: on OpenVINO, one
    # request over both cores, a batch at a time, against a queue of one request per core
    from index.embed_onnx import SMALL_JOB

    e = onnx_embedders[precision]
    fillers = [f"filler sentence {i} about tariffs on steel" for i in range(SMALL_JOB // 8)]
    many = e.embed(TEXTS + fillers)
    few = e.embed(TEXTS + fillers[:40])
    alone = np.stack([e.embed([t])[0] for t in TEXTS])
    assert np.allclose(many[:len(TEXTS)], alone, atol=1e-4)
    assert np.allclose(few[:len(TEXTS)], alone, atol=1e-4)


def test_a_small_job_of_many_batches_needs_no_per_core_queue(monkeypatch):
    # a question's words for term expansion come in several batches; compiling the per-core
    # queue that ingest uses would cost a fresh process ~0.65 s on its first such question
    import openvino

    from index.embed_onnx import OnnxEmbedder

    def no_queue(*args, **kwargs):
        raise AssertionError("the per-core queue was compiled for a small job")

    monkeypatch.setattr(openvino, "AsyncInferQueue", no_queue)
    e = OnnxEmbedder(precision="int8", cache=Settings.load().models_dir, batch_size=8, threads=2)
    words = ["sanctions", "removed", "penalties", "scrapped", "diplomat", "quickly", "soon", "lifted"] * 5
    vectors = e.embed([f"{w}{i}" for i, w in enumerate(words)])
    assert vectors.shape == (40, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("backend", ["fp32", "int8", "torch"])
def test_threads_embedding_at_once_load_the_model_once(backend, monkeypatch):
    import time

    if backend == "fp32":
        import onnxruntime as module
        from index.embed_onnx import OnnxEmbedder

        name, embedder = "InferenceSession", OnnxEmbedder(precision="fp32", cache=Settings.load().models_dir)
    elif backend == "int8":
        import openvino as module
        from index.embed_onnx import OnnxEmbedder

        name, embedder = "Core", OnnxEmbedder(precision="int8", cache=Settings.load().models_dir)
    else:
        import sentence_transformers as module
        from index.embed_local import LocalEmbedder

        name, embedder = "SentenceTransformer", LocalEmbedder()
    loads, real = [], getattr(module, name)

    def slow(*args, **kwargs):      # widens the window in which threads could race
        loads.append(args[:1])
        time.sleep(0.2)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    out, errors = at_once(lambda: embedder.embed(TEXTS[:2]), 3)
    assert not errors and len(loads) == 1 and len(out) == 3
    assert all(np.array_equal(v, out[0]) for v in out)


def test_a_chunk_pass_gives_the_chunk_vector_and_its_sentences_read_in_context(torch_embedder, onnx_embedders):
    from index.embed import embed_in_context

    chunk = TEXTS[0] + " " + TEXTS[1]
    spans = [(0, len(TEXTS[0])), (len(TEXTS[0]) + 1, len(chunk))]
    alone = torch_embedder.embed(TEXTS[:2])
    results = {}
    for name, e in (("torch", torch_embedder), ("fp32", onnx_embedders["fp32"]), ("int8", onnx_embedders["int8"])):
        whole, (parts,) = embed_in_context(e, [chunk], [spans])
        assert float(whole[0] @ e.embed([chunk])[0]) > 0.9999     # the same vector `embed` gives
        assert np.allclose(np.linalg.norm(parts, axis=1), 1.0, atol=1e-5)
        results[name] = parts
    cos_alone = np.sum(results["torch"] * alone, axis=1)
    assert np.all(cos_alone < 0.99) and np.all(cos_alone > 0.6)    # read in context: related, not equal
    assert np.sum(results["torch"] * results["fp32"], axis=1).min() > 0.9999
    assert np.sum(results["torch"] * results["int8"], axis=1).min() > 0.95
    # with `alone`, each span is embedded on its own
    _, (own,) = embed_in_context(onnx_embedders["fp32"], [chunk], [spans], alone=True)
    assert np.sum(own * alone, axis=1).min() > 0.9999


def test_a_span_beyond_the_model_limit_is_embedded_on_its_own(onnx_embedders):
    e = onnx_embedders["fp32"]
    long = TEXTS[4] * 2                  # over 256 word pieces: its end is cut off in the pass
    tail = (len(long) - 60, len(long))
    _, (parts,) = e.embed_spans([long], [[(0, 40), tail]])
    assert float(parts[1] @ e.embed([long[tail[0]:tail[1]]])[0]) > 0.9999
    assert float(parts[0] @ e.embed([long[:40]])[0]) < 0.99


def test_a_broken_cached_model_is_refused_with_what_to_do(tmp_path):
    from index.embed_onnx import OnnxEmbedder
    from index.onnx_export import model_path
    from rag.errors import EmbeddingUnavailable

    for precision in ("fp32", "int8"):
        path = model_path(tmp_path, precision)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not a model")
        with pytest.raises(EmbeddingUnavailable, match=f"{path.name} cannot be loaded .*delete it"):
            OnnxEmbedder(precision=precision, cache=tmp_path).embed(["a question"])


def test_int8_is_calibrated_on_the_bundled_corpus_only():
    from index.onnx_export import calibration_texts
    from rag.settings import BUNDLED_CORPUS

    texts = calibration_texts()
    corpus = " ".join(p.read_text(encoding="utf-8") for p in BUNDLED_CORPUS.glob("*.txt"))
    assert len(texts) > 100 and all(t in corpus for t in texts)
    assert min(map(len, texts)) < 80 < max(map(len, texts))     # paragraphs and short sentences


def test_a_repeated_text_is_embedded_once_and_gets_the_same_vector(onnx_embedders, monkeypatch):
    e = onnx_embedders["int8"]
    seen: list[int] = []
    real = e._run
    monkeypatch.setattr(e, "_run", lambda texts, consume: (seen.append(len(texts)), real(texts, consume)))
    vectors = e.embed([TEXTS[0], TEXTS[1], TEXTS[0], TEXTS[0]])
    assert seen == [2]
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[0], vectors[3])
    assert float(vectors[0] @ vectors[1]) < 0.99


def test_a_failed_preparation_says_which_step_failed_and_leaves_nothing_behind(tmp_path, monkeypatch):
    # the quantisation step runs in a child process; here it reads an fp32 "model" that is not one
    from index.onnx_export import ensure_model, model_path
    from rag.errors import EmbeddingUnavailable

    fp32 = model_path(tmp_path / "cache", "fp32")
    fp32.parent.mkdir(parents=True)
    fp32.write_text("not a model")
    monkeypatch.chdir(tmp_path)
    seen = []
    with pytest.raises(EmbeddingUnavailable, match="failed while quantising it to int8"):
        ensure_model(tmp_path / "cache", "int8", on_prepare=seen.append)
    assert sorted(p.name for p in fp32.parent.iterdir()) == ["model-fp32.onnx"]   # no .export-* left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
    assert [(e.step, e.seconds is None) for e in seen] == [("prepare", True), ("quantise", True)]


def test_preparing_reports_each_step_as_it_starts_and_ends(tmp_path, monkeypatch):
    # the steps themselves (torch export, NNCF) are replaced by writing the file; the order of the
    # events and the files moved into place are what is tested
    import index.onnx_export as export

    def fake_step(target, step, fp32):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step)

    monkeypatch.setattr(export, "_atomic", fake_step)
    seen = []
    path = export.ensure_model(tmp_path, "int8", on_prepare=seen.append)
    assert path.read_text() == "quantise" and export.model_path(tmp_path, "fp32").read_text() == "export"
    assert [(e.step, e.seconds is None) for e in seen] == [
        ("prepare", True), ("export", True), ("export", False), ("quantise", True), ("quantise", False),
        ("prepare", False)]
    assert seen[0].expected_s == sum(s for _, s in (export.STEPS["export"], export.STEPS["quantise"]))
    seen.clear()
    assert export.ensure_model(tmp_path, "int8", on_prepare=seen.append) == path and seen == []
