"""The web UI in real Chromium (Playwright, /usr/bin/chromium) against a real `rag serve`:
streamed cited answers, citation passages, upload -> answer -> delete, inert XSS, phone + dark,
a page that runs under its Content-Security-Policy, and pages of other origins that cannot make
the server answer a question.

Screenshots go to a temporary folder (printed with -s); set RAG_SCREENSHOTS to keep them.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from evals.perf_common import free_port
from openai_stub import openai_stub  # noqa: F401  (fixture)
from tests.browsing import ask, browser, upload  # noqa: F401  (browser: fixture)
from tests.serving import copy_home, gradio_fn, start

pytestmark = pytest.mark.browser
FERRY = ("Gull Island, May 2 - The Harbour Line ferry to Gull Island started service this week. "
         "The ferry carries 300 passengers and crosses the bay in 25 minutes.")
XSS = ("Zephyr Bridge <script>window.__xss = 1; alert(1)</script> opened in June.\n"
       "Mayor Quill Vantablack said the Zephyr Bridge toll is <img src=x onerror=\"window.__xss = 2; "
       "alert(2)\"> four dollars <a href=\"javascript:window.__xss = 3\">details</a> "
       "[more](javascript:alert(4)) {{constructor.constructor('alert(5)')()}} ${alert(6)}.")


@pytest.fixture(scope="module")
def server(corpus_assistant, tmp_path_factory):
    home = copy_home(corpus_assistant.settings.home, tmp_path_factory.mktemp("browser") / "home")
    served = start(home, free_port())
    yield served
    served.stop()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("RAG_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server.url + "/", wait_until="domcontentloaded")
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    page.wait_for_selector("#rag-chat", state="attached", timeout=60_000)   # Gradio may draw it later
    yield page
    context.close()


def test_question_streams_an_answer_with_numbered_citations(page, shots):
    page.evaluate("""() => {
        window.__partials = [];
        new MutationObserver(() => {
            document.querySelectorAll('#rag-chat .rag-streaming').forEach(
                (e) => window.__partials.push(e.textContent));
        }).observe(document.querySelector('#rag-chat'),
                   {subtree: true, childList: true, characterData: true});
    }""")
    ask(page, "Why was Turkey removed from the F-35 programme?")
    answer = page.locator("#rag-chat .rag-answer").last
    final = answer.inner_text()
    partials = [p for p in dict.fromkeys(page.evaluate("window.__partials")) if p.strip("… ")]
    assert len(partials) >= 2, f"no streaming seen: {partials}"
    assert all(final.startswith(p.strip()[:20]) for p in partials)
    markers = answer.locator(".rag-cite")
    assert markers.count() >= 1 and re.fullmatch(r"\[\d+\]", markers.first.inner_text())
    assert page.locator("#rag-sources .rag-src").count() >= 1
    page.screenshot(path=str(shots / "laptop-answer.png"), full_page=True)


def test_clicking_a_citation_opens_the_highlighted_passage(page, shots):
    ask(page, "What does US law require?")
    marker = page.locator("#rag-chat .rag-answer .rag-cite").first
    detail = page.locator("#rag-chat details.rag-cite-detail").first
    snippet = " ".join(detail.locator("blockquote").text_content().split())
    assert snippet
    assert not detail.evaluate("d => d.open")
    marker.click()
    assert detail.evaluate("d => d.open")
    cls = next(c for c in marker.get_attribute("class").split() if c.startswith("rag-c-"))
    source = page.locator(f"#src-{cls[len('rag-c-'):]}")
    highlighted = source.locator("mark")
    assert highlighted.is_visible()
    assert " ".join(highlighted.inner_text().split()) == snippet
    context = source.locator(".rag-ctx").inner_text()
    assert len(context) > len(highlighted.inner_text()) + 40   # shown in context, not alone
    page.screenshot(path=str(shots / "laptop-citation.png"), full_page=True)


def test_uploaded_article_is_answered_with_a_citation_then_deleted(page, tmp_path, shots):
    path = tmp_path / "gull ferry.txt"
    path.write_text(FERRY, encoding="utf-8")
    status = upload(page, path)
    assert "Added gull_ferry.txt as gull_ferry" in status
    assert page.locator('#rag-doc-table tr[data-doc="gull&#95;ferry"], #rag-doc-table code',
                        has_text="gull_ferry").count() >= 1
    page.screenshot(path=str(shots / "documents.png"), full_page=True)

    page.get_by_role("tab", name="Chat").click()
    ask(page, "How many passengers does the Gull Island ferry carry?")
    assert "id gull_ferry" in page.locator("#rag-sources").inner_text()
    assert "300 passengers" in page.locator("#rag-chat .rag-answer").last.inner_text()

    page.get_by_role("tab", name="Documents").click()
    page.click("#rag-delete-pick input")
    page.locator("#rag-delete-pick input").fill("gull")
    page.get_by_role("option", name=re.compile("gull_ferry")).click()
    page.click("#rag-delete")
    page.locator("#rag-delete-confirm").wait_for(timeout=10_000)       # asks first ...
    page.click("#rag-delete-no")
    page.wait_for_timeout(500)
    assert "gull_ferry" in page.locator("#rag-doc-table").inner_text()    # ... and Cancel keeps it
    page.click("#rag-delete")
    page.click("#rag-delete-yes")
    page.locator("#rag-doc-status .rag-ok", has_text="Deleted gull_ferry").wait_for(timeout=60_000)
    assert "gull_ferry" not in page.locator("#rag-doc-table").inner_text()

    page.get_by_role("tab", name="Chat").click()
    ask(page, "How many passengers does the Gull Island ferry carry?")
    assert "gull_ferry" not in page.locator("#rag-sources").inner_text()


def test_a_document_with_script_and_handlers_renders_as_inert_text(page, tmp_path, shots):
    path = tmp_path / "zephyr.txt"
    path.write_text(XSS, encoding="utf-8")
    assert "Added zephyr.txt" in upload(page, path)
    table = page.locator("#rag-doc-table").inner_text()
    assert "<script>" in table                                  # the title, shown as text
    page.get_by_role("tab", name="Chat").click()
    ask(page, "What is the Zephyr Bridge toll, according to Mayor Quill Vantablack?")
    page.locator("#rag-chat .rag-answer .rag-cite").first.click()
    page.wait_for_timeout(1500)                                 # give any handler time to fire
    shown = page.locator("#rag-sources").inner_text() + page.locator("#rag-chat").inner_text()
    assert "onerror=" in shown and "javascript:" in shown       # the payload is visible as text
    assert page.dialogs == []
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"], a[href^="javascript"], #rag-sources script, #rag-chat script').count() == 0
    page.screenshot(path=str(shots / "xss-inert.png"), full_page=True)


@pytest.mark.parametrize("size, theme", [((390, 844), "dark"), ((1366, 768), "dark"),
                                         ((390, 844), "light")])
def test_layout_fits_phone_and_laptop_in_light_and_dark(browser, server, shots, size, theme):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.goto(f"{server.url}/?__theme={theme}", wait_until="domcontentloaded")
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    ask(page, "What did Hakan Fidan say?")
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0] + 1
    is_dark = page.evaluate("document.body.classList.contains('dark') || "
                            "document.documentElement.classList.contains('dark')")
    assert is_dark == (theme == "dark")
    text_color = page.locator("#rag-chat .rag-answer").last.evaluate("e => getComputedStyle(e).color")
    light_text = sum(int(v) for v in re.findall(r"\d+", text_color)[:3]) > 384
    assert light_text == (theme == "dark"), text_color
    page.screenshot(path=str(shots / f"{theme}-{size[0]}x{size[1]}.png"), full_page=True)
    context.close()


CSP_WATCH = """window.__csp = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_the_page_runs_under_its_content_security_policy(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.add_init_script(CSP_WATCH)
    page = context.new_page()
    response = page.goto(server.url + "/", wait_until="domcontentloaded")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    ask(page, "What does US law require?")
    page.locator("#rag-chat .rag-answer .rag-cite").first.click()
    path = tmp_path / "owl.txt"
    path.write_text("A rare orange owl was seen in the Kestrel Valley forest last week. Birdwatchers "
                    "counted three nests near the river.", encoding="utf-8")
    assert "Added owl.txt" in upload(page, path)
    assert page.evaluate("window.__csp") == []
    context.close()


ATTACK = """async ({url, fn, trigger}) => {
    const question = "What does US law require?";
    const bodies = {
        "/api/ask": JSON.stringify({question}),
        "/v1/chat/completions": JSON.stringify({model: "newsrag", messages: [{role: "user", content: question}]}),
        "/gradio_api/queue/join": JSON.stringify({data: [question, [], "", "llm", 4, [], "", ""], fn_index: fn,
                                                  trigger_id: trigger, session_hash: "attacker1", event_data: null}),
    };
    const seen = [];
    for (const [path, body] of Object.entries(bodies)) {
        for (const [mode, type] of [["no-cors", "text/plain"], ["cors", "application/json"]]) {
            try {
                const r = await fetch(url + path, {method: "POST", mode, credentials: "include", body,
                                                   headers: {"Content-Type": type}});
                seen.push(`${path} ${mode}: ${r.type} ${r.status}`);
            } catch (e) { seen.push(`${path} ${mode}: ${e}`); }
        }
        // an HTML form needs no script permission at all: text/plain whose text is JSON
        const frame = document.createElement("iframe");
        frame.name = "sink" + seen.length;
        document.body.appendChild(frame);
        const form = document.createElement("form");
        Object.assign(form, {method: "POST", action: url + path, enctype: "text/plain", target: frame.name});
        const field = document.createElement("input");
        field.name = body.slice(0, -1) + ', "x": "';
        field.value = '"}';
        form.appendChild(field);
        document.body.appendChild(form);
        form.submit();
    }
    await new Promise((done) => setTimeout(done, 3000));
    return seen;
}"""


@pytest.fixture(scope="module")
def elsewhere():
    """Another web server on this machine (another app, a dev server, a page that got in), whose
    page the browser lets reach 127.0.0.1: a page of a public site it would not (Chromium's
    local network access rules), so that case tests the browser, not this server."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>elsewhere</title><p>another site</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return

    site = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield site.server_address[1]
    site.shutdown()
    site.server_close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_page_of_another_origin_cannot_make_the_server_answer(browser, corpus_assistant, tmp_path,
                                                                openai_stub, elsewhere, host):
    """Every question the server answers calls its LLM (here a stub that records each call), so
    an empty record means no attempt got a question answered; the server's own page then does."""
    home = copy_home(corpus_assistant.settings.home, tmp_path / "home")
    served = start(home, free_port(), env={"RAG_LLM_MODEL": "stub-model", "RAG_LLM_MAX_RETRIES": "0",
                                           "OPENAI_BASE_URL": openai_stub.url})
    try:
        fn, trigger = gradio_fn(served.url, "rag-question", "submit")
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://{host}:{elsewhere}/page.html")
        seen = page.evaluate(ATTACK, {"url": served.url, "fn": fn, "trigger": trigger})
        assert openai_stub.requests == [], f"a page of {host}:{elsewhere} made the server answer: {seen}"

        page.goto(served.url + "/", wait_until="domcontentloaded")       # the server's own page
        page.wait_for_selector("#rag-question textarea", timeout=60_000)
        ask(page, "What does US law require?")
        for _ in range(600):      # the instant extractive draft can show before the LLM is asked
            if openai_stub.requests:
                break
            page.wait_for_timeout(100)
        assert openai_stub.requests, "the server's own page should reach the LLM"
        context.close()
    finally:
        served.stop()


def test_with_a_token_the_page_logs_in_then_answers(browser, corpus_assistant):
    token = "browser-token-for-tests"
    served = start(corpus_assistant.settings.home, free_port(), env={"RAG_UI_TOKEN": token})
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(served.url + "/", wait_until="domcontentloaded")
        password = page.locator("input[type=password]")
        password.wait_for(timeout=60_000)
        page.locator("input:not([type=password]), textarea").first.fill("anyone")
        password.fill(token)
        page.get_by_role("button", name=re.compile("log ?in", re.I)).click()
        page.wait_for_selector("#rag-question textarea", timeout=60_000)
        ask(page, "What does US law require?")
        assert page.locator("#rag-chat .rag-answer .rag-cite").count() >= 1
        context.close()
    finally:
        served.stop()
