"""The UI's pure parts and its shared service: escaping, citation markers, the auth rule,
upload names and the upload/delete cycle on a real index (real MiniLM, real Chroma)."""

from __future__ import annotations

from dataclasses import replace

import re
import threading
import time
from html import unescape
from pathlib import Path

import pytest

from rag.errors import BadDocument, ConfigError
from rag.records import Answer, Citation
from tests.threads import at_once
from ui import render
from ui.auth import Auth, is_loopback, resolve
from ui.uploads import safe_name

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) {{7*7}} ${7*7}'


def cite(n: int, snippet: str = "Dams hold water.", doc_id: str = "a") -> Citation:
    return Citation(n=n, doc_id=doc_id, title=XSS, snippet=snippet, start=0, end=len(snippet), score=1.0)


def test_escaped_text_contains_no_markup_or_template_characters():
    out = render.esc(XSS + "\nnext line")
    assert not re.search(r"[<>\[\](){}$`]", out.replace("<br>", ""))
    assert "<br>" in out and "javascript&#58;" in out


def test_answer_html_links_known_markers_and_leaves_out_of_range_ones_as_text():
    answer = Answer(question="q", text="Dams hold water. [1] Owls fly. [0] Trams run. [9]",
                    citations=(cite(1),), timings_ms={"total": 12.0})
    html = render.answer_html(answer, turn=3)
    assert html.count('class="rag-cite ') == 1 and "rag-c-3-1" in html
    assert "&#91;0&#93;" in html and "&#91;9&#93;" in html
    assert "<script" not in html and "<img" not in html


def test_an_llm_answer_folds_away_every_passage_the_model_read():
    read = (cite(1, "Dams hold water.", "a"), cite(2, "Owls <i>fly</i> at night.", "b"))
    answer = Answer(question="q", text="Dams hold water. [1]", citations=(cite(1),), mode="llm", read=read)
    html = render.answer_html(answer, 2)
    folded = re.search(r'<details class="rag-read"><summary>What the LLM read \(2 passages\)</summary>(.*?)</details>',
                       html).group(1)
    items = re.findall(r"<blockquote><strong>(.*?)</strong><br>(.*?)</blockquote>", folded)
    assert [(unescape(t), unescape(x)) for t, x in items] == [(f"[1] {XSS}", "Dams hold water."),
                                                              (f"[2] {XSS}", "Owls <i>fly</i> at night.")]
    assert "<i>" not in html and "<script" not in html
    # under the offline answer that replaced the LLM's, the prompt's numbers would mislead
    fallback = re.search(r'<details class="rag-read">(.*?)</details>',
                         render.answer_html(replace(answer, mode="extractive"), 2)).group(1)
    titles = [unescape(t) for t in re.findall(r"<strong>(.*?)</strong>", fallback)]
    assert titles == [XSS, XSS]
    assert "rag-read" not in render.answer_html(replace(answer, read=()), 2)


def test_abstention_and_notice_look_different_from_an_answer():
    abstained = render.answer_html(Answer(question="q", text="Not in the corpus.", abstained=True), 1)
    noticed = render.answer_html(Answer(question="q", text="A. [1]", citations=(cite(1),),
                                        notice="LLM unreachable: answered extractively"), 1)
    assert "Not found in the corpus" in abstained and "rag-answer" not in abstained
    assert "rag-notice" in noticed and "LLM unreachable" in noticed


def test_how_the_question_was_read_is_shown_only_when_it_is_not_as_asked():
    typo = render.answer_html(Answer(question="What does the law requre?", text="A. [1]",
                                     citations=(cite(1),), query="What does the law <require>?"), 1)
    assert "Read as: What does the law &#60;require&#62;?" in typo
    same = render.answer_html(Answer(question="What does the law require?", text="A. [1]",
                                     citations=(cite(1),), query="What does the law require?"), 1)
    assert "Read as" not in same
    scoped = render.answer_html(Answer(question="What did she say, per the Reuters story?", text="A. [1]",
                                       citations=(cite(1),), query="What did she say?",
                                       scope="Mayor opens the <new> harbour"), 1)
    assert "Read as: What did she say? &#40;in&#58; Mayor opens the &#60;new&#62; harbour&#41;" in scoped


def test_sources_panel_highlights_exactly_the_cited_span_in_context():
    text = "Intro words here. " * 30 + "Dams hold water." + " Outro words here." * 30
    start = text.index("Dams hold water.")
    c = Citation(n=1, doc_id="a", title="T", snippet="Dams hold water.", start=start,
                 end=start + 16, score=1.0)
    first = Answer(question="q1", text="y [1]", citations=(cite(1),))
    html = render.sources_html([first, Answer(question="q2", text="x [1]", citations=(c,))],
                               {"a": text}, {"a": "--03-03"})
    assert re.search(r"<mark>Dams hold water\.</mark>", html)
    assert 'id="src-2-1"' in html and "03-03 (year unknown)" in unescape(html)
    assert "Intro words here." in html and "…" in html
    # every answer's sources are there, one group a turn; only the newest shows until clicked
    assert 'class="rag-src-turn rag-src-turn-1 rag-hidden"' in html and 'id="src-1-1"' in html
    assert 'class="rag-src-turn rag-src-turn-2"' in html


def test_copy_texts_are_plain_with_markers_and_sources_and_markdown_quotes_them():
    c = Citation(n=1, doc_id="d7", title="Dam <report>", snippet="Dams\nhold water.", start=0, end=16,
                 score=1.0)
    answer = Answer(question="q", text="Dams hold water [1].", citations=(c,))
    assert render.plain_text(answer) == ('Dams hold water [1].\n\nSources:\n'
                                         '[1] Dam <report> (d7): "Dams hold water."')
    assert render.markdown_text(answer) == ("Dams hold water [1].\n\n**Sources**\n\n"
                                            "[1] **Dam <report>** (`d7`)\n> Dams hold water.")
    html = render.answer_html(answer, 1)
    assert "rag-copy-plain" in html and "&#60;report&#62;" in html and "<report>" not in html
    assert "rag-copy" not in render.answer_html(replace(answer, draft=True), 1)   # no copy of a draft


def test_dropdown_labels_shorten_the_title_and_keep_the_whole_id():
    label = render.doc_label("A very long headline " * 10, "004_e39b010501edc06a")
    assert label.endswith("… (004_e39b010501edc06a)") and len(label) < 90
    assert render.doc_label("", "x1") == "x1" and render.doc_label("Short", "s") == "Short (s)"


def test_commands_in_errors_show_as_code_and_unpaired_backticks_stay_text():
    html = render.error_html("no index in /h: run `rag ingest` first", "Upload in the Documents tab.")
    assert "<code>rag ingest</code>" in html and "`" not in unescape(re.sub(r"<[^>]+>", "", html))
    assert "Documents tab" in html
    assert "&#96;" in render.error_html("a ` b")


def test_context_window_cuts_at_spaces_and_keeps_the_span():
    text = "one two three four five six seven"
    before, span, after, cut_before, cut_after = render.context_window(text, 8, 13, chars=6)
    assert span == "three" and before.endswith("two ") and not before.startswith("o ")
    assert cut_before and cut_after


@pytest.mark.parametrize("name, stored", [
    ("../../x.txt", "x.txt"),
    ("..\\..\\evil.md", "evil.md"),
    ("/etc/passwd.txt", "passwd.txt"),
    ("Ünïcode news (1).HTML", "Unicode_news_1.html"),
    ("a b<script>.pdf", "a_b_script.pdf"),
])
def test_upload_names_are_sanitised_inside_the_folder(name, stored):
    assert safe_name(name) == stored


@pytest.mark.parametrize("name", ["x.exe", "notes", "....txt", ".txt", "x.txt.sh"])
def test_upload_names_with_bad_types_or_no_stem_are_refused(name):
    with pytest.raises(BadDocument):
        safe_name(name)


def test_only_127_0_0_1_and_localhost_are_open_without_a_token(tmp_path):
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")
    assert not resolve("127.0.0.1", no_auth=False, token_file=None, env={}).enabled
    with pytest.raises(ConfigError, match="RAG_UI_TOKEN"):
        resolve("0.0.0.0", no_auth=False, token_file=None, env={})
    assert not resolve("0.0.0.0", no_auth=True, token_file=None, env={}).enabled
    with pytest.raises(ConfigError, match="at least"):
        resolve("0.0.0.0", no_auth=False, token_file=None, env={"RAG_UI_TOKEN": "short"})
    (tmp_path / "token").write_text("from-a-file-token\n")
    auth = resolve("0.0.0.0", no_auth=False, token_file=tmp_path / "token", env={})
    assert auth.check_bearer("Bearer from-a-file-token") and not auth.check_bearer("Bearer nope")
    assert not auth.check_bearer(None) and "from-a-file" not in repr(auth)


def test_bearer_check_needs_the_scheme_and_the_exact_token():
    auth = Auth("0123456789abcdef")
    assert auth.check_bearer("bearer 0123456789abcdef")
    assert not auth.check_bearer("0123456789abcdef")
    assert not auth.check_bearer("Bearer 0123456789abcde")


# -- the service on a real index ---------------------------------------------------------------
@pytest.fixture
def service(make_assistant, tiny_corpus):
    from ui.service import Service

    assistant = make_assistant()
    assistant.ingest([tiny_corpus])
    return Service(assistant, max_upload_bytes=4000)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_uploaded_article_is_answerable_and_delete_removes_it_and_its_file(service, tmp_path):
    src = write(tmp_path, "tram.txt", "The Harbour Line ferry to Gull Island started service in "
                                       "May. It carries 300 passengers and crosses in 25 minutes.")
    result = service.upload(src, "../../tram.txt")
    assert result.doc_id == "tram" and result.chunks >= 1
    stored = service.uploads_dir / "tram.txt"
    assert stored.is_file() and stored.resolve().parent == service.uploads_dir
    answer = service.ask("How many passengers does the Gull Island ferry carry?")
    assert "tram" in {c.doc_id for c in answer.citations}
    service.delete("tram")
    assert "tram" not in {d.doc_id for d in service.docs()} and not stored.exists()
    answer = service.ask("How many passengers does the Gull Island ferry carry?")
    assert "tram" not in {c.doc_id for c in answer.citations}


@pytest.mark.parametrize("name, data, message", [
    ("big.txt", b"word " * 2000, "upload limit"),
    ("empty.txt", b"", "empty"),
    ("binary.txt", b"\x00\x01\x02 binary", "binary"),
    ("broken.pdf", b"%PDF-1.4 not really a pdf", "PDF"),
    ("run.sh", b"echo hi", "only"),
])
def test_a_bad_upload_gives_a_message_and_stores_nothing(service, tmp_path, name, data, message):
    before = service.docs()
    with pytest.raises(BadDocument, match=message):
        service.upload(write(tmp_path, name, data), name)
    assert service.docs() == before
    assert not any(service.uploads_dir.glob("*")) if service.uploads_dir.exists() else True


def test_an_upload_may_not_take_the_id_of_an_indexed_article(service, tmp_path):
    with pytest.raises(BadDocument, match="already indexed"):
        service.upload(write(tmp_path, "alpha.txt", "Something else entirely, about trains."), "alpha.txt")
    assert "Blue River dam" in service.assistant.document("alpha").text


def test_a_refused_replacement_keeps_the_earlier_upload(service, tmp_path):
    service.upload(write(tmp_path, "note.txt", "The lighthouse at Cape Wren was painted red in 1990."),
                   "note.txt")
    with pytest.raises(BadDocument):
        service.upload(write(tmp_path, "note2.txt", b"\x00\x00 binary now"), "note.txt")
    assert "lighthouse" in (service.uploads_dir / "note.txt").read_text()
    assert "lighthouse" in service.assistant.document("note").text


def test_concurrent_questions_during_an_upload_all_succeed(service, tmp_path):
    errors, answers = [], []

    def ask():
        try:
            for _ in range(3):
                answers.append(service.ask("When was the Blue River dam finished?"))
        except Exception as exc:    # any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    service.upload(write(tmp_path, "owl.txt", "Owls nested near the Blue River dam in April."), "owl.txt")
    service.delete("owl")
    for t in threads:
        t.join()
    assert not errors and len(answers) == 12
    assert all(any(c.doc_id == "alpha" for c in a.citations) for a in answers)


def test_threads_asking_a_fresh_assistant_at_once_open_its_index_once(make_assistant, tiny_corpus,
                                                                     monkeypatch):
    from index.lexical import LexicalIndex

    make_assistant().ingest([tiny_corpus])
    assistant = make_assistant()            # nothing opened yet
    loads, real_load = [], LexicalIndex.load

    def slow_load(root, name):               # widens the window in which threads could race
        loads.append(root)
        time.sleep(0.2)
        return real_load(root, name)

    monkeypatch.setattr(LexicalIndex, "load", staticmethod(slow_load))
    answers, errors = at_once(lambda: assistant.ask("When was the Blue River dam finished?"), 4)
    assert not errors and len(loads) == 1
    assert all(any(c.doc_id == "alpha" for c in a.citations) for a in answers) and len(answers) == 4


def test_llm_mode_is_offered_only_when_an_llm_is_configured(make_assistant):
    from ui.service import Service

    assert Service(make_assistant()).modes == ["extractive"]
    configured = make_assistant(llm_model="any-model", llm_base_url="http://127.0.0.1:9/v1")
    assert Service(configured).modes == ["llm", "extractive"]
