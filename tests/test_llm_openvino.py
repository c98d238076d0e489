"""The OpenVINO runtime's own parts, with the real tiny SmolLM2-135M GGUF: the one-time conversion
into the model cache (atomic, reused, redone for an edited file), the runtime setting, and the
one-line errors for a broken model and a prompt too long for the context. (The chat contract it
shares with the other backends is in test_llm_contract.py.)"""

from __future__ import annotations

import os
import shutil

import pytest

from conftest import smollm2
from rag.errors import LLMUnavailable
from rag.llm import open_llm, runtime_for
from rag.llm.local import LocalLLM
from rag.llm.openvino import OpenVinoLLM, computes_in_bf16, converted
from rag.settings import Settings


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


def test_the_model_is_converted_once_and_again_only_when_the_file_changes(cache, tmp_path):
    gguf = tmp_path / "tiny.gguf"
    shutil.copyfile(smollm2(), gguf)
    first = converted(gguf, cache)
    made = (first / "openvino_model.xml").stat().st_mtime_ns
    assert converted(gguf, cache) == first                        # reused, not redone
    assert (first / "openvino_model.xml").stat().st_mtime_ns == made
    assert not list(first.parent.glob(".converting-*"))           # no half-written copy left
    os.utime(gguf, ns=(made + 10**9, made + 10**9))               # the user replaced the file
    assert converted(gguf, cache) != first


def test_a_gguf_that_cannot_be_converted_is_a_one_line_error_and_leaves_nothing(cache, tmp_path):
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(64))                       # the magic, then nothing usable
    with pytest.raises(LLMUnavailable, match="RAG_LLM_RUNTIME=llama.cpp") as caught:
        converted(broken, cache)
    assert "\n" not in str(caught.value)
    assert not [p for p in (cache / "openvino").iterdir() if p.name.startswith(("broken", ".converting-"))]


def test_a_prompt_longer_than_the_context_is_a_one_line_error_that_names_the_fix(cache):
    llm = OpenVinoLLM(smollm2(), cache, threads=2, context=256)
    long = [{"role": "user", "content": " ".join(f"word{i}" for i in range(300))}]
    with pytest.raises(LLMUnavailable, match="RAG_LLM_CONTEXT_WINDOW"):
        llm.complete(long, max_tokens=8)
    assert llm.complete([{"role": "user", "content": "Say blue."}], max_tokens=4).text   # still usable


def test_the_runtime_setting_picks_the_backend(tmp_path):
    for runtime, backend in (("llama.cpp", LocalLLM), ("openvino", OpenVinoLLM)):
        settings = Settings(home=tmp_path, llm_gguf=str(smollm2()), llm_threads=2, llm_runtime=runtime)
        assert runtime_for(settings) == runtime and isinstance(open_llm(settings), backend)
    # auto: OpenVINO exactly where the CPU computes in bf16 (its fast path), else llama.cpp
    assert runtime_for(Settings()) == ("openvino" if computes_in_bf16() else "llama.cpp")
