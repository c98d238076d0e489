"""Local MiniLM embeddings without torch at run time: fp32 on ONNX Runtime, int8 on OpenVINO.

The same all-MiniLM-L6-v2 as `embed_local.py` (same tokenizer, 256 word-piece limit, mean
pooling, L2 normalisation), run from an export cached by `onnx_export.py`. fp32 gives the
sentence-transformers vectors (cosine 1.0000); int8 gives cosine ~0.99 at a fraction of the cost.
Both report the same `model_id` as the torch embedder, on purpose: an index built at one
precision can be queried at another (docs/performance.md has the measured agreement).

Texts are batched by length (sorted by word-piece count), so a short text is never padded to the
length of a long one, in small batches (a budget of padded word pieces, per runtime) that stay
in the core's cache. Batches run longest first, one single-threaded run per core at a time (on
OpenVINO a small job, such as a question, runs spread over the cores instead). `embed_spans` also
pools the token states of given spans of each text (a sentence read in its chunk's context), in
the same pass. Nothing is loaded until the first call, so building one is free (ingesting an
unchanged corpus never loads a model).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from index.embed import Spans, finish_spans, normalise, pool
from rag.errors import EmbeddingUnavailable

MODEL = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
# Word pieces (padded) up to which a job runs its batches one after another on the question's
# request (OpenVINO): a question's new words for term expansion, a short upload. The per-core
# queue that ingest uses is compiled only for larger jobs; compiling it costs ~0.65 s.
SMALL_JOB = 4096


class OnnxEmbedder:
    dim = 384

    def __init__(self, model: str = MODEL, *, precision: str = "int8", cache: Path,
                 batch_size: int = 32, threads: int = 0, on_prepare=None) -> None:
        """`on_prepare` hears of the one-time export of the model into `cache`, if it is needed
        (index.onnx_export.Preparing events)."""
        if model != MODEL:
            raise EmbeddingUnavailable(f"local embedding model {model!r} is not shipped; "
                                       f"use {MODEL!r} or RAG_EMBED_BACKEND=openai")
        self.model_id = f"local:{MODEL}"
        self.precision, self.cache = precision, Path(cache)
        self.batch_size, self.threads = batch_size, threads or os.cpu_count() or 1
        if precision not in RUNTIMES:
            raise EmbeddingUnavailable(f"embed_precision {precision!r} has no ONNX model; "
                                       f"use one of {', '.join(RUNTIMES)}")
        self.batch_tokens = RUNTIMES[precision][1]
        self.on_prepare = on_prepare
        self._runner = None
        self._tokenizer = None
        self._loading = threading.Lock()   # threads asking at once load the model once

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        first: dict[str, int] = {}      # a text repeated (a boilerplate line, a chunk that is one
        rows = [first.setdefault(t, len(first)) for t in texts]   # sentence) is embedded once
        out = np.empty((len(first), self.dim), dtype=np.float32)

        def mean(j: int, states: np.ndarray, encoding) -> None:
            out[j] = states.mean(axis=0)

        self._run(list(first), mean)
        return normalise(out)[rows]

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Spans]) -> tuple[np.ndarray, list[np.ndarray]]:
        """One pass over each text: its vector, and one per span from the same token states."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        pooled: list[list] = [[] for _ in texts]

        def both(j: int, states: np.ndarray, encoding) -> None:
            out[j] = states.mean(axis=0)
            pooled[j] = pool(states, encoding.offsets, encoding.special_tokens_mask, spans[j])

        self._run(texts, both)
        return normalise(out), finish_spans(self, texts, spans, pooled)

    def _run(self, texts: Sequence[str], consume: Callable[[int, np.ndarray, object], None]) -> None:
        """Run the model over `texts`; hand each text's token states (no padding) to `consume`."""
        if not texts:
            return
        runner, tokenizer = self._load()
        encodings = self._tokenize(tokenizer, list(texts))
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
        # longest batches first, so the cores finish together (no long batch left for one core)
        batches = _batches(lengths, self.batch_size, self.batch_tokens)[::-1]

        def padded(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            width = int(lengths[rows].max())
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, j in enumerate(rows):
                ids[r, :lengths[j]] = encodings[j].ids
                mask[r, :lengths[j]] = 1
            return ids, mask

        def done(k: int, hidden: np.ndarray) -> None:
            for r, j in enumerate(batches[k]):
                consume(j, hidden[r, :lengths[j]], encodings[j])

        runner([padded(rows) for rows in batches], done)

    def _tokenize(self, tokenizer, texts: list[str]) -> list:
        """Word pieces of every text; halves of a long list on two threads (the tokenizer releases
        the GIL, and its own threads are off: TOKENIZERS_PARALLELISM=false)."""
        if self.threads < 2 or len(texts) < 256:
            return tokenizer.encode_batch(texts)
        from concurrent.futures import ThreadPoolExecutor

        half = len(texts) // 2
        with ThreadPoolExecutor(2) as workers:
            first, second = workers.map(tokenizer.encode_batch, (texts[:half], texts[half:]))
        return first + second

    def _load(self):
        with self._loading:
            if self._runner is None:
                self._runner, self._tokenizer = self._load_now()
        return self._runner, self._tokenizer

    def _load_now(self):
        try:
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingUnavailable(f"local embeddings need {exc.name}: run `make setup` "
                                       "(pip install -e .)") from None
        from index.onnx_export import ensure_model, model_dir

        path = ensure_model(self.cache, self.precision, self.on_prepare)
        tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()
        try:
            runner = RUNTIMES[self.precision][0](path, self.threads)
        except ImportError as exc:
            raise EmbeddingUnavailable(f"embed_precision {self.precision!r} needs {exc.name}: "
                                       "run `make setup` (pip install -e .)") from None
        except Exception as exc:  # each runtime raises its own types for a bad file
            raise EmbeddingUnavailable(f"the cached model {path} cannot be loaded "
                                       f"({type(exc).__name__}): delete it; it is exported "
                                       "again at next use") from None
        return runner, tokenizer


Batch = tuple[np.ndarray, np.ndarray]          # (ids, mask), padded to one width
Runner = Callable[[Sequence[Batch], Callable[[int, np.ndarray], None]], None]
# runner(batches, done) calls done(k, token states of batch k) once per batch, in any order


def _onnxruntime(path: Path, threads: int) -> Runner:
    """Batches run concurrently, one single-threaded run per core: faster than one run spread over
    the cores (no barriers between the cores inside each operator). ONNX Runtime releases the GIL
    while it runs."""
    from concurrent.futures import ThreadPoolExecutor

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def one(batch: Batch) -> np.ndarray:
        ids, mask = batch
        return session.run(None, {"input_ids": ids, "attention_mask": mask,
                                  "token_type_ids": np.zeros_like(ids)})[0]

    def run(batches: Sequence[Batch], done: Callable[[int, np.ndarray], None]) -> None:
        if len(batches) == 1:
            return done(0, one(batches[0]))
        with ThreadPoolExecutor(threads) as workers:
            for k, states in enumerate(workers.map(one, batches)):
                done(k, states)

    return run


def _openvino(path: Path, threads: int) -> Runner:
    """A small job (a question, its words: up to SMALL_JOB word pieces) runs on one request spread
    over the cores (the LATENCY hint), a batch at a time; larger ones (ingest) run as
    single-threaded requests, one per core (THROUGHPUT), from a queue fed by one thread that keeps
    two requests per core in flight, so a core never waits for its next input.
    Each is compiled at its first use; calls queue on a lock. Widths are padded to a multiple of 8
    (masked, so the states of real tokens do not change): OpenVINO prepares each new input shape
    once, and a few shapes keep that off the query path."""
    import openvino

    core = openvino.Core()
    network = core.read_model(str(path))
    ready: dict[str, object] = {}
    one_at_a_time = threading.Lock()

    def ready_for(hint: str):
        if hint not in ready:
            compiled = core.compile_model(network, "CPU", {
                "PERFORMANCE_HINT": hint, "NUM_STREAMS": str(1 if hint == "LATENCY" else threads),
                "INFERENCE_NUM_THREADS": str(threads), "INFERENCE_PRECISION_HINT": "f32"})
            ready[hint] = (compiled.create_infer_request() if hint == "LATENCY"
                           else openvino.AsyncInferQueue(compiled, 2 * threads))
        return ready[hint]

    def inputs(batch: Batch) -> dict[str, np.ndarray]:
        pad = ((0, 0), (0, -batch[0].shape[1] % 8))
        ids, mask = np.pad(batch[0], pad), np.pad(batch[1], pad)
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}

    def run(batches: Sequence[Batch], done: Callable[[int, np.ndarray], None]) -> None:
        def states(request, k: int) -> np.ndarray:
            return request.get_output_tensor(0).data[:, :batches[k][0].shape[1]]

        with one_at_a_time:
            if sum(batch[0].size for batch in batches) <= SMALL_JOB:
                request = ready_for("LATENCY")
                for k, batch in enumerate(batches):
                    request.infer(inputs(batch))
                    done(k, states(request, k))
                return
            queue = ready_for("THROUGHPUT")
            queue.set_callback(lambda request, k: done(k, states(request, k)))
            for k, batch in enumerate(batches):
                queue.start_async(inputs(batch), k)
            queue.wait_all()

    return run


def _batches(lengths: np.ndarray, most: int, budget: int) -> list[np.ndarray]:
    """Row numbers, shortest texts first, cut into batches of at most `most` rows and (past the
    first row) `budget` padded word pieces: a few sentences, or a few chunks."""
    out, rows = [], []
    for j in np.argsort(lengths, kind="stable"):
        if rows and (len(rows) == most or (len(rows) + 1) * lengths[j] > budget):
            out.append(np.array(rows))
            rows = []
        rows.append(j)
    if rows:
        out.append(np.array(rows))
    return out


# precision -> (its runtime, word pieces per padded batch: the fastest here for each; docs/performance.md)
RUNTIMES: dict[str, tuple[Callable[[Path, int], Runner], int]] = {
    "fp32": (_onnxruntime, 256),
    "int8": (_openvino, 1024),
}
