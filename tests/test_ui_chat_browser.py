"""The chat's everyday actions in real Chromium against a real `rag serve`: saved chats across a
reload and a restart, Clear, Copy (read back from the clipboard), citation popovers and old
citations, Stop, what the LLM read, Regenerate, Edit, examples, rename and delete of a chat,
delete confirmation, filters and dates, the no-index message, and phone width.
"""

from __future__ import annotations

import re
import time
from contextlib import contextmanager

import pytest

from evals.perf_common import free_port
from openai_stub import Reply, openai_stub  # noqa: F401  (fixture)
from rag.conversations import Conversations
from tests.browsing import ask, browser, delete_article, upload  # noqa: F401  (browser: fixture)
from tests.serving import copy_home, start

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(corpus_assistant, tmp_path_factory):
    home = copy_home(corpus_assistant.settings.home, tmp_path_factory.mktemp("chat") / "home")
    server = start(home, free_port())
    server.home = home
    yield server
    server.stop()


def open_page(browser, url: str, size=(1366, 900)):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = context.new_page()
    page.goto(url + "/", wait_until="domcontentloaded")
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    return page


@pytest.fixture
def page(browser, served):
    page = open_page(browser, served.url)      # a new browser profile: a new chat
    yield page
    page.context.close()


def questions(page) -> list[str]:
    return [" ".join(q.split()) for q in page.locator("#rag-chat .rag-q").all_inner_texts()]


def newest(home) -> object:
    return Conversations(home).get(Conversations(home).list()[0].id)


def test_a_chat_is_saved_and_comes_back_after_a_reload_and_a_server_restart(browser, corpus_assistant,
                                                                            tmp_path):
    home = copy_home(corpus_assistant.settings.home, tmp_path / "home")
    port = free_port()
    server = start(home, port)
    try:
        page = open_page(browser, server.url)
        ask(page, "What does US law require?")
        ask(page, "Who is the US ambassador to Turkey?")
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector("#rag-chat .rag-q", timeout=30_000)
        assert questions(page) == ["What does US law require?", "Who is the US ambassador to Turkey?"]
        server.stop()
        server = start(home, port)                 # same address: the browser keeps its storage
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector("#rag-chat .rag-q", timeout=60_000)
        assert questions(page) == ["What does US law require?", "Who is the US ambassador to Turkey?"]
        assert page.locator("#rag-chat .rag-answer .rag-cite").count() >= 2   # citations kept
        assert "What does US law require?" in page.locator("#rag-convs").inner_text()
        page.click("#rag-new")
        page.wait_for_function("() => !document.querySelector('#rag-chat .rag-q')")
        page.locator("#rag-convs label", has_text="What does US law require?").click()   # reopen
        page.wait_for_selector("#rag-chat .rag-q", timeout=30_000)
        assert len(questions(page)) == 2
        page.context.close()
    finally:
        server.stop()


def test_clicking_a_citation_of_an_older_answer_shows_that_answers_passage(page, served):
    ask(page, "What does US law require?")
    ask(page, "What did Hakan Fidan say?")
    first = page.locator("#rag-chat .rag-answer").first.locator(".rag-cite").first
    cls = next(c for c in first.get_attribute("class").split() if re.fullmatch(r"rag-c-1-\d+", c))
    source = page.locator(f"#src-{cls[len('rag-c-'):]}")
    assert not source.is_visible()                 # the panel shows the newest answer's sources
    first.click()
    source.locator("mark").wait_for(state="visible", timeout=5_000)
    quote = page.locator(f"#rag-chat details.{cls} blockquote").first.text_content()
    assert " ".join(source.locator("mark").inner_text().split()) == " ".join(quote.split())
    assert not page.locator("#rag-sources .rag-src-turn-2").is_visible()


def test_a_citation_shows_a_popover_on_hover_and_on_keyboard_focus(page):
    ask(page, "What does US law require?")
    marker = page.locator("#rag-chat .rag-answer .rag-cite").first
    cls = next(c for c in marker.get_attribute("class").split() if c.startswith("rag-c-"))
    detail = page.locator(f"#rag-chat details.{cls}").first
    quote = " ".join(detail.locator("blockquote").text_content().split())
    title = " ".join(detail.locator(".rag-cite-title").text_content().split())
    popover = page.locator("#rag-pop")
    assert not popover.is_visible()
    marker.hover()
    popover.wait_for(state="visible", timeout=3_000)
    assert quote in " ".join(popover.inner_text().split()) and title in popover.inner_text()
    page.mouse.move(5, 5)
    popover.wait_for(state="hidden", timeout=3_000)
    marker.focus()                                  # keyboard: Tab lands on the marker
    popover.wait_for(state="visible", timeout=3_000)
    assert marker.get_attribute("aria-describedby") == "rag-pop"
    page.keyboard.press("Escape")
    popover.wait_for(state="hidden", timeout=3_000)


def test_copy_gives_plain_text_with_markers_and_sources_and_copy_as_markdown(page):
    ask(page, "What does US law require?")
    message = page.locator("#rag-chat .rag-answer").last
    shown = " ".join(message.inner_text().split())
    page.locator("#rag-chat .rag-copy").last.click()
    page.wait_for_timeout(300)
    plain = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in plain and "&#" not in plain
    text, _, listed = plain.partition("\n\nSources:\n")
    assert " ".join(text.split()) == shown and re.search(r"\[1\]", text)
    quote = " ".join(page.locator("#rag-chat details.rag-cite-detail blockquote").first.text_content().split())
    assert listed.startswith("[1] ") and quote in listed
    page.locator("#rag-chat .rag-copy-md").last.click()
    page.wait_for_timeout(300)
    markdown = page.evaluate("navigator.clipboard.readText()")
    assert markdown.startswith(text) and "\n**Sources**\n" in markdown and f"> {quote}" in markdown
    page.locator("#rag-chat .rag-q + .rag-actions .rag-copy").last.click()   # the question
    page.wait_for_timeout(300)
    assert page.evaluate("navigator.clipboard.readText()") == "What does US law require?"


def test_clear_resets_the_history_and_the_sources(page, served):
    ask(page, "What did Hakan Fidan say?")
    assert page.locator("#rag-sources .rag-src").count() >= 1
    page.locator("#rag-chat button[aria-label=Clear]").click()
    page.wait_for_function("() => !document.querySelector('#rag-chat .rag-q, #rag-sources .rag-src')")
    ask(page, "What did he say on X?")
    saved = newest(served.home)
    assert [t.question for t in saved.turns] == ["What did he say on X?"]
    assert saved.turns[0].answer.query in ("", "What did he say on X?")   # "he" was not resolved


def test_regenerate_asks_the_last_question_again_in_place(page, served):
    ask(page, "Who is the US ambassador to Turkey?")
    before = newest(served.home).turns[0].at
    page.click("#rag-regen")
    for _ in range(600):          # the answer is asked again and saved in place of the first
        saved = newest(served.home)
        if saved.turns and saved.turns[0].at > before:
            break
        time.sleep(0.1)
    page.wait_for_function("() => !document.querySelector('#rag-chat .rag-streaming') && "
                           "document.querySelectorAll('#rag-chat .rag-timings').length === 1", timeout=30_000)
    assert questions(page) == ["Who is the US ambassador to Turkey?"]
    assert [t.question for t in saved.turns] == ["Who is the US ambassador to Turkey?"]
    assert saved.turns[0].at > before


def test_edit_puts_the_last_question_back_and_resending_replaces_it(page, served):
    ask(page, "What does US law require?")
    ask(page, "Who is the US ambasador?")
    page.click("#rag-edit")
    page.wait_for_function("() => document.querySelectorAll('#rag-chat .rag-q').length === 1")
    box = page.locator("#rag-question textarea")
    assert box.input_value() == "Who is the US ambasador?"
    box.fill("Who is the US ambassador to Turkey?")
    ask(page, "Who is the US ambassador to Turkey?")
    assert questions(page) == ["What does US law require?", "Who is the US ambassador to Turkey?"]
    assert [t.question for t in newest(served.home).turns] == questions(page)


def test_an_example_question_asks_on_click(page):
    page.locator("#rag-examples button", has_text="Why was Turkey removed").click()
    page.wait_for_selector("#rag-chat .rag-timings", timeout=60_000)
    assert questions(page) == ["Why was Turkey removed from the F-35 programme?"]
    assert page.locator("#rag-chat .rag-answer .rag-cite").count() >= 1


def test_a_chat_can_be_renamed_and_is_deleted_only_after_a_confirmation(page, served):
    ask(page, "What did Hakan Fidan say?")
    conv_id = newest(served.home).id
    page.click("#rag-conv-edit")
    page.fill("#rag-title input, #rag-title textarea", "Fidan's words")
    page.click("#rag-rename")
    page.locator("#rag-convs label", has_text="Fidan's words").wait_for(timeout=10_000)
    assert Conversations(served.home).get(conv_id).title == "Fidan's words"
    page.click("#rag-drop")
    page.locator("#rag-drop-confirm").wait_for(timeout=5_000)
    page.click("#rag-drop-no")
    page.locator("#rag-drop-confirm").wait_for(state="hidden", timeout=5_000)
    assert Conversations(served.home).get(conv_id)          # Keep it kept it
    page.click("#rag-drop")
    page.click("#rag-drop-yes")
    page.wait_for_function("() => !document.querySelector('#rag-chat .rag-q')")
    assert conv_id not in [c.id for c in Conversations(served.home).list()]
    assert "Fidan's words" not in page.locator("#rag-convs").inner_text()


@contextmanager
def asking_the_stub(browser, corpus_assistant, tmp_path, openai_stub, question: str):
    """A `rag serve` whose LLM is the OpenAI-protocol stub (scripted by the caller first), and a
    page that has just sent `question`; both closed afterwards."""
    home = copy_home(corpus_assistant.settings.home, tmp_path / "home")
    server = start(home, free_port(), env={"RAG_LLM_MODEL": "stub-model", "RAG_LLM_MAX_RETRIES": "0",
                                          "OPENAI_BASE_URL": openai_stub.url})
    try:
        page = open_page(browser, server.url)
        page.fill("#rag-question textarea", question)
        page.click("#rag-send")
        yield page
        page.context.close()
    finally:
        server.stop()


def test_stop_ends_the_llms_generation_within_a_second(browser, corpus_assistant, tmp_path, openai_stub):
    long = " ".join(["The law bars the S-400 [1]."] * 200)
    openai_stub.script(Reply(long, chunk_chars=4, chunk_delay_s=0.05))
    with asking_the_stub(browser, corpus_assistant, tmp_path, openai_stub, "What does US law require?") as page:
        page.wait_for_selector("#rag-chat .rag-streaming", timeout=60_000)
        page.wait_for_timeout(500)
        assert not openai_stub.disconnects
        stop = page.locator("#rag-stop")
        stop.wait_for(state="visible")
        clicked = time.monotonic()
        stop.evaluate("button => button.click()")
        for _ in range(100):
            if openai_stub.disconnects:
                break
            page.wait_for_timeout(50)
        assert openai_stub.disconnects, "Stop did not stop the LLM's stream within 5 s"
        assert openai_stub.disconnects[0] - clicked < 1.0, openai_stub.disconnects[0] - clicked


def test_an_llm_answer_unfolds_every_passage_the_model_read(browser, corpus_assistant, tmp_path, openai_stub):
    def quoting(request):   # a "model" that states the first sentence of passage [1], cited
        first = re.search(r"^\[1\] (.+?[.!?])(?: |$)", request.messages[-1]["content"], re.M).group(1)
        return f"{first} [1]"

    openai_stub.script(quoting)
    with asking_the_stub(browser, corpus_assistant, tmp_path, openai_stub, "What does US law require?") as page:
        read = page.locator("#rag-chat details.rag-read")
        read.wait_for(state="attached", timeout=60_000)
        (request,) = openai_stub.requests
        shown = re.findall(r"^\[(\d+)\] (.*)$", request.messages[-1]["content"], re.M)
        assert read.locator("blockquote").count() == 0 or not read.locator("blockquote").first.is_visible()
        assert read.locator("summary").inner_text() == f"What the LLM read ({len(shown)} passages)"
        read.locator("summary").click()
        quotes = [" ".join(t.split()) for t in read.locator("blockquote").all_inner_texts()]
        assert len(quotes) == len(shown)
        assert all(q.startswith(f"[{n}] ") and q.endswith(text) for q, (n, text) in zip(quotes, shown))
        assert page.locator("#rag-chat .rag-answer").last.inner_text().startswith(shown[0][1][:40])


def test_filters_show_full_ids_and_dates_only_when_articles_have_them(page, served, tmp_path):
    page.click("#rag-settings")
    page.click("#rag-filter input")
    labels = page.get_by_role("option").all_inner_texts()
    assert labels and all(re.search(r"\(\d{3}_[0-9a-f]{16}\)$", label) for label in labels), labels
    page.keyboard.press("Escape")
    assert not page.locator("#rag-dates").is_visible()
    assert "nothing to filter by date" in page.locator("#rag-no-dates").inner_text()
    path = tmp_path / "kite_festival.txt"
    path.write_text("Windmere, March 5, 2024 - The Windmere kite festival drew 4,000 visitors. "
                    "Organisers counted 350 kites over the dunes.", encoding="utf-8")
    assert "Added kite_festival.txt" in upload(page, path)
    page.get_by_role("tab", name="Chat").click()
    page.locator("#rag-dates").wait_for(state="visible", timeout=10_000)
    assert not page.locator("#rag-no-dates").is_visible()
    page.fill("#rag-since input, #rag-since textarea", "2024-01-01")
    ask(page, "How many visitors did the kite festival draw?")
    assert {s.split(" · ")[0] for s in page.locator("#rag-sources .rag-meta").all_inner_texts()} == {"id kite_festival"}
    delete_article(page, "kite_festival")


def test_a_failed_upload_message_goes_when_the_next_upload_starts(page, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"not a pdf at all")
    assert "Not added" in upload(page, bad)
    page.evaluate("""() => {
        window.__status = [];
        const status = document.querySelector('#rag-doc-status');
        new MutationObserver(() => window.__status.push(status.innerText.trim()))
            .observe(status, {subtree: true, childList: true, characterData: true});
    }""")
    good = tmp_path / "heron.txt"
    good.write_text("Grey herons nested by the Millbrook pond this spring. Volunteers counted twelve "
                    "nests.", encoding="utf-8")
    page.set_input_files("#rag-upload input[type=file]", str(good))
    page.locator("#rag-doc-status .rag-ok", has_text="Added heron.txt").wait_for(timeout=120_000)
    seen = page.evaluate("window.__status")
    cleared = seen.index("") if "" in seen else len(seen)
    added = next(i for i, text in enumerate(seen) if "Added heron.txt" in text)
    assert cleared < added, seen                 # the old error went before the new upload ended
    assert "Not added" not in page.locator("#rag-doc-status").inner_text()
    delete_article(page, "heron")


def test_with_no_index_the_chat_says_to_upload_in_the_documents_tab(browser, tmp_path):
    server = start(tmp_path / "empty-home", free_port())
    try:
        page = open_page(browser, server.url)
        ask(page, "What does US law require?")
        error = page.locator("#rag-chat .rag-error").last
        assert "Documents tab" in error.inner_text() and "`" not in error.inner_text()
        assert error.locator("code").count() >= 1
        page.context.close()
    finally:
        server.stop()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_phone_width_keeps_ids_on_one_line_and_the_popover_on_screen(browser, served, theme):
    page = open_page(browser, f"{served.url}/?__theme={theme}", size=(390, 844))
    page.wait_for_function("() => !document.querySelector('#rag-sidebar.open')", timeout=10_000)
    ask(page, "What did Hakan Fidan say?")
    page.locator("#rag-chat .rag-answer .rag-cite").last.click()    # a tap: the popover shows
    page.locator("#rag-pop").wait_for(state="visible", timeout=3_000)
    # the tap opens the passage under the answer, and Gradio scrolls a chat at its bottom to the
    # new bottom: the marker must stay put and its popover open once that has settled
    page.wait_for_timeout(1_500)
    assert page.locator("#rag-pop").is_visible()
    box = page.locator("#rag-pop").bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    page.keyboard.press("Escape")
    page.locator("#rag-pop").wait_for(state="hidden", timeout=3_000)
    page.get_by_role("tab", name="Documents").click()
    cell = page.locator("#rag-doc-table td code").first
    line = float(cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20"))
    assert cell.bounding_box()["height"] < 1.6 * line          # the id is on one line
    if theme == "dark":
        colours = page.locator("#rag-doc-table").evaluate(
            "e => [e, ...e.querySelectorAll('table, th, td, .prose')].map(x => getComputedStyle(x))"
            ".filter(s => parseFloat(s.borderTopWidth) > 0 && s.borderTopStyle !== 'none')"
            ".map(s => s.borderTopColor)")
        bright = [c for c in colours if sum(int(v) for v in re.findall(r"\d+", c)[:3]) > 600]
        assert bright == [], colours
    page.context.close()
