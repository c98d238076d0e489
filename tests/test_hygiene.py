"""The repository stays small and a run stays in its own folders: no big files tracked, nothing
left in the working folder by a first ingest (which prepares the model) and a question."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.llm import runtime_for
from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RAG = Path(sys.executable).parent / "rag"
MAX_TRACKED_BYTES = 2 * 2**20     # the largest tracked file today is ~0.2 MB (docs/eval/run.json)


def too_big(repo: Path) -> dict[str, int]:
    """Tracked files over the limit, by the size of the blob git stores (staged content, not the
    working tree's file)."""
    def git(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, text=True,
                              check=True).stdout

    entries = [line.split(None, 3) for line in git("ls-files", "--stage").splitlines()]
    paths = {sha: path for _mode, sha, _stage, path in entries}
    sizes = git("cat-file", "--batch-check=%(objectname) %(objectsize)", stdin="\n".join(paths))
    return {paths[sha]: int(size) for sha, size in (line.split() for line in sizes.splitlines())
            if int(size) > MAX_TRACKED_BYTES}


def test_no_tracked_file_is_larger_than_a_few_megabytes():
    if subprocess.run(["git", "rev-parse"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    big = too_big(ROOT)
    assert not big, f"tracked files over {MAX_TRACKED_BYTES >> 20} MiB (temporary files? `git rm` them): {big}"


def test_a_big_file_fails_the_size_check_as_soon_as_it_is_staged(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "small.txt").write_text("fine")
    (tmp_path / "54d6b116-e5c0.data").write_bytes(os.urandom(MAX_TRACKED_BYTES + 1))
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    assert too_big(tmp_path) == {"54d6b116-e5c0.data": MAX_TRACKED_BYTES + 1}


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI_"))}  # defaults
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([str(RAG), *args], cwd=folder, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)


@pytest.mark.slow
def test_a_first_ingest_and_question_leave_nothing_but_the_home_in_the_working_folder(tmp_path):
    # default settings in an empty folder: the home is ./.rag, and the model is prepared in
    # ./.rag/models (torch export, NNCF calibration, OpenVINO), which once left
    # sym_shape_infer_temp.onnx and a 90 MB <uuid>.data here
    folder = tmp_path / "work"
    folder.mkdir()
    ingest = _run(folder, "ingest")
    assert ingest.returncode == 0, ingest.stderr[-3000:]
    ask = _run(folder, "ask", "Why was Turkey removed from the F-35 programme?")
    assert ask.returncode == 0, ask.stderr[-3000:]
    assert sorted(os.listdir(folder)) == [".rag"]
    models = folder / ".rag" / "models"
    (model,) = models.glob("all-MiniLM-*")
    assert sorted(f.name for f in model.iterdir()) == ["model-fp32.onnx", "model-int8.bin", "model-int8.xml"]
    # the default answer comes from the bundled local LLM, joined once into the same cache (its
    # lock file stays; no partial file does), and on OpenVINO converted once beside it (no
    # half-written conversion stays)
    on_openvino = runtime_for(Settings()) == "openvino"
    assert sorted(f.name for f in models.iterdir()) == [
        ".qwen2.5-coder-1.5b-instruct-q4_k_m.gguf.lock", model.name,
        *(["openvino"] if on_openvino else []), "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"]
    if on_openvino:
        (converted,) = (models / "openvino").iterdir()
        assert converted.name.startswith("qwen2.5-coder-1.5b-instruct-q4_k_m-")
        assert (converted / "openvino_model.xml").is_file() and not (converted / "model.gguf").exists()
    assert "preparing the local LLM (once: joining 22 chunks, 1.1 GB)" in ask.stderr
    # the preparation says what it does and how long it took, on stderr; a second run says nothing
    lines = ingest.stderr.splitlines()
    assert lines[0].startswith("preparing the embedding model once (about ") and ".rag/models" in lines[0]
    assert any("exporting" in line for line in lines) and any("quantising" in line for line in lines)
    assert any(line.startswith("embedding model ready in ") and line.endswith(" s") for line in lines)
    assert "preparing the embedding model" not in ask.stderr and ask.stdout.strip()
