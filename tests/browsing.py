"""What the browser tests share: Chromium under Playwright, and asking and uploading as a user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make browser` (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def ask(page, question: str) -> None:
    before = page.locator("#rag-chat .rag-timings, #rag-chat .rag-error").count()
    page.fill("#rag-question textarea", question)
    page.click("#rag-send")
    page.wait_for_function(
        "n => document.querySelectorAll('#rag-chat .rag-timings, #rag-chat .rag-error').length > n",
        arg=before, timeout=60_000)


def upload(page, path: Path) -> str:
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#rag-upload input[type=file]", str(path))
    status = page.locator("#rag-doc-status .rag-ok, #rag-doc-status .rag-error")
    status.first.wait_for(timeout=120_000)
    return status.first.inner_text()


def delete_article(page, doc_id: str) -> None:
    """Delete an indexed article in the Documents tab, confirming when asked."""
    page.get_by_role("tab", name="Documents").click()
    page.click("#rag-delete-pick input")
    page.get_by_role("option", name=re.compile(doc_id)).click()
    page.click("#rag-delete")
    page.click("#rag-delete-yes")
    page.locator("#rag-doc-status .rag-ok", has_text=f"Deleted {doc_id}").wait_for(timeout=60_000)
