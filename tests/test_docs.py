"""The docs say what the program prints and what the commands measured: numbers and samples are
rendered from the JSON in docs/ (evals/render_docs.py), the samples are what the CLI and the API
print today, and the settings tables show the real defaults."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import pytest

from evals import render_docs, samples

ROOT = Path(__file__).resolve().parent.parent


def test_docs_show_exactly_what_the_checked_in_json_says():
    assert render_docs.main(["--check"]) == 0, "run: python -m evals.render_docs"


def test_a_number_typed_over_a_rendered_one_fails_the_check(tmp_path):
    data = render_docs.sources(ROOT)
    mrr = data["eval"]["metrics"]["overall"]["mrr"]
    text = "MRR <!-- rendered: eval metrics.overall.mrr .2f -->0.99<!-- /rendered --> and\n\n" \
           "<!-- rendered: eval-table -->\n<!-- /rendered -->\n"
    rendered = render_docs.render(text, data)
    assert rendered != text
    assert f"MRR <!-- rendered: eval metrics.overall.mrr .2f -->{mrr:.2f}<!-- /rendered -->" in rendered
    assert f"| mrr | {mrr:.3f} |" in rendered
    assert render_docs.render(rendered, data) == rendered          # rendering twice changes nothing
    with pytest.raises(KeyError, match="no source 'evl'"):
        render_docs.render("<!-- rendered: evl metrics.overall.mrr -->1<!-- /rendered -->", data)


def test_every_sample_is_rendered_somewhere():
    docs = "".join((ROOT / name).read_text() for name in render_docs.DOCS)
    for block in ("tour", "api-reply", "preparation"):
        assert f"<!-- rendered: {block} -->" in docs


def test_the_recorded_samples_are_what_the_commands_print_today(tmp_path):
    # the tour's commands and the API example, run again on the bundled corpus; numbers (timings,
    # scores, offsets) may differ, words may not. The model cache is the test session's, so the
    # first ingest prepares nothing here (tests/test_hygiene.py checks a fresh one).
    recorded = json.loads((ROOT / "docs" / "samples.json").read_text())["samples"]
    fresh = samples.run(tmp_path / "newsrag", model_cache=Path(os.environ["RAG_MODEL_CACHE"]))["samples"]
    assert set(fresh) == set(recorded)
    fix = "re-record: python -m evals.samples && python -m evals.render_docs"
    for name, now in fresh.items():
        was = recorded[name]
        if "reply" in now:
            assert samples.reply_shape(now["reply"]) == samples.reply_shape(was["reply"]), fix
            continue
        assert now["argv"] == was["argv"] and now["exit"] == was["exit"] == 0, now["stderr"][-2000:]
        assert samples.shape(now["stdout"]) == samples.shape(was["stdout"]), fix
        if name != "ingest":     # the recorded ingest also prepared the model (stderr)
            assert samples.shape(_unprepared(now["stderr"])) == samples.shape(_unprepared(was["stderr"])), fix


def _unprepared(stderr: str) -> str:
    """stderr without the local LLM's one-time preparation (the session's model cache may hold
    the joined model already, or not), and without the notes on what the verifier made of the
    model's reply: the model's runtime differs by CPU (rag.llm.runtime_for), and so may a
    citation it writes, while the answer printed (stdout) is the same."""
    return "\n".join(line for line in stderr.splitlines()
                     if not line.startswith(("preparing the local LLM", "local LLM ready in ", "note: ")))


def test_the_shape_of_an_output_keeps_its_words_and_hides_its_numbers():
    a = "5 added, 0 updated; 26 chunks embedded in 2.6s"
    assert samples.shape(a) == samples.shape("5 added, 0 updated; 26 chunks embedded in 41.9s")
    assert samples.shape(a) != samples.shape("5 added, 0 updated; 149 sentences embedded in 2.6s")
    assert samples.shape("costing $600 million, 5,183 abstracts") == "costing $# million, # abstracts"


_ROW = re.compile(r"^\| ((?:`[a-z_0-9]+`(?:, )?)+) \| [^|]* \| ([^|]*) \|", re.M)


@pytest.mark.parametrize("doc", ["README.md", "docs/llm.md", "docs/performance.md"])
def test_settings_tables_show_the_real_defaults(doc):
    # numbers, and `quoted` words for text settings ("embedded", "<home>/models" and the like
    # describe a default rather than show it, and are not checked)
    from rag.settings import Settings

    defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    checked = 0
    for names, shown in _ROW.findall((ROOT / doc).read_text()):
        names = [n.strip("` ") for n in names.split(",") if n.strip()]
        cells = [v.strip() for v in shown.split(",")]
        if len(cells) != len(names):
            continue
        for name, cell in zip(names, cells):
            default = defaults.get(name)
            if re.fullmatch(r"`?[\d.]+`?", cell) and isinstance(default, (int, float)):
                assert float(cell.strip("`")) == float(default), f"{doc}: {name} shows {cell}, the default is {default}"
            elif re.fullmatch(r"`[^`<]+`", cell) and isinstance(default, str):
                assert cell.strip("`") == default, f"{doc}: {name} shows {cell}, the default is {default!r}"
            else:
                continue
            checked += 1
    assert checked >= 2
