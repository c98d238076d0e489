"""HTML for the web UI: answers with citation markers, the sources panel, the documents table.

Every piece of article, question or answer text goes through `esc`, which turns it into inert
text for all the places it lands: the HTML parser (`<`, `>`, `&`, quotes), the chat's Markdown
renderer (`[`, `*`, `_`, `` ` ``, ...: a `[x](javascript:...)` in an article stays text), and
Gradio's HTML templates (`{`, `}`, `$`). Numeric character references are text to every one of
them, so the page shows the original characters and runs nothing.

Pure functions of records and strings; no Gradio, no Assistant.
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

from rag.records import Answer, Citation

_SPECIAL = {c: f"&#{ord(c)};" for c in "&<>\"'`[]()*_~|\\#!{}$=:+-@^%"}
_SPECIAL.update({"\n": "<br>", "\r": ""})   # no blank line ever ends the HTML block
_MARKER = re.compile(r"\[(\d+)\]")
CONTEXT_CHARS = 320


def esc(text: object) -> str:
    """Text -> inert HTML text (see the module docstring); newlines become <br>."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def esc_attr(text: object, limit: int = 400) -> str:
    """Text for an attribute value (a tooltip): escaped, on one line, shortened."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[:limit - 1] + "…"
    return esc(flat)


def user_html(question: str) -> str:
    return f'<div class="rag-q">{esc(question)}</div>'


def pending_html(text: str) -> str:
    """A partial answer while it streams: plain escaped text."""
    return f'<div class="rag-answer rag-streaming">{esc(text)}</div>'


def draft_html(answer: Answer, turn: int) -> str:
    """The instant extractive answer, marked as a draft, while the LLM reads the sources."""
    return (f'<div class="rag-draft"><div class="rag-draft-label">Draft · instant, quoted from the '
            f'sources · the LLM is writing its answer…</div>{answer_html(answer, turn)}</div>')


def error_html(message: str) -> str:
    return f'<div class="rag-error" role="alert"><b>Could not answer.</b> {esc(message)}</div>'


def answer_html(answer: Answer, turn: int) -> str:
    """A finished answer: text with clickable [n] markers, a notice, citations, timings.

    A marker and its details share the class `rag-c-<turn>-<n>` (the chat's sanitiser drops
    data- and id attributes); the sources panel's passage has the id `src-<turn>-<n>`."""
    parts = []
    if answer.notice:
        parts.append(f'<div class="rag-notice" role="status">&#9888; {esc(answer.notice)}</div>')
    if answer.abstained:
        parts.append('<div class="rag-abstain"><span class="rag-badge">Not found in the corpus</span>'
                     f'<div class="rag-abstain-text">{esc(answer.text)}</div></div>')
    else:
        parts.append(f'<div class="rag-answer">{_with_markers(answer.text, answer.citations, turn)}</div>')
    if answer.citations:
        items = "".join(_citation_detail(c, turn) for c in answer.citations)
        parts.append(f'<div class="rag-cites">{items}</div>')
    if answer.timings_ms:
        parts.append(f'<div class="rag-timings">{esc(timings_text(answer))}</div>')
    return "".join(parts)


def timings_text(answer: Answer) -> str:
    t = answer.timings_ms
    order = [k for k in ("embed", "retrieve", "answer", "llm") if k in t]
    steps = " · ".join(f"{k} {t[k]:.0f} ms" for k in order)
    total = f"{t['total']:.0f} ms" if "total" in t else ""
    label = answer.mode + (f" · {steps}" if steps else "")
    return f"{label} · total {total}" if total else label


def sources_html(answer: Answer | None, texts: Mapping[str, str], dates: Mapping[str, str],
                 turn: int) -> str:
    """The sources panel: each cited article (title, id, date) with its quoted spans
    highlighted in context. `texts` maps doc_id to the article's cleaned text."""
    return '<h3 class="rag-sources-title">Sources</h3>' + _sources(answer, texts, dates, turn)


def _sources(answer: Answer | None, texts: Mapping[str, str], dates: Mapping[str, str],
             turn: int) -> str:
    if answer is None:
        return ('<div class="rag-sources-empty">Ask a question: the articles an answer cites '
                'appear here, with the quoted passage highlighted.</div>')
    if not answer.citations:
        return '<div class="rag-sources-empty">The last answer cites no article.</div>'
    by_doc: dict[str, list[Citation]] = {}
    for c in answer.citations:
        by_doc.setdefault(c.doc_id, []).append(c)
    cards = []
    for doc_id, cites in by_doc.items():
        meta = f"id {esc(doc_id)}"
        if dates.get(doc_id):
            meta += f" · {esc(format_date(dates[doc_id]))}"
        spans = "".join(_span_in_context(c, texts.get(doc_id, ""), turn) for c in cites)
        cards.append(f'<section class="rag-src"><h4>{esc(cites[0].title or doc_id)}</h4>'
                     f'<div class="rag-meta">{meta}</div>{spans}</section>')
    return "".join(cards)


def documents_html(docs: Iterable, uploads_prefix: str = "") -> str:
    """The documents table: title, id, date, chunk count, when ingested."""
    rows = []
    for d in docs:
        origin = " <span class=\"rag-tag\">uploaded</span>" if uploads_prefix and \
            str(d.source).startswith(uploads_prefix) else ""
        rows.append(f'<tr data-doc="{esc(d.doc_id)}"><td>{esc(d.title or d.doc_id)}{origin}</td>'
                    f'<td><code>{esc(d.doc_id)}</code></td><td>{esc(format_date(d.date))}</td>'
                    f'<td class="num">{int(d.n_chunks)}</td><td>{esc(d.ingested_at.replace("T", " ")[:16])}</td></tr>')
    if not rows:
        return '<div class="rag-sources-empty">No documents yet: upload one below or run <code>rag ingest</code>.</div>'
    return ('<div class="rag-doc-wrap"><table class="rag-docs"><thead><tr><th>Title</th><th>Id</th>'
            '<th>Date</th><th>Chunks</th><th>Ingested (UTC)</th></tr></thead><tbody>'
            + "".join(rows) + f'</tbody></table></div><div class="rag-meta">{len(rows)} documents</div>')


def status_html(message: str, ok: bool) -> str:
    kind = "rag-ok" if ok else "rag-error"
    return f'<div class="{kind}" role="status">{esc(message)}</div>'


def format_date(date: str) -> str:
    """ISO "YYYY-MM-DD" as is; "--MM-DD" (no year in the text) as "MM-DD (year unknown)"."""
    if date.startswith("--"):
        return f"{date[2:]} (year unknown)"
    return date


def context_window(text: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str, str, bool, bool]:
    """(before, span, after, cut_before, cut_after) around text[start:end], cut at spaces."""
    lo, hi = max(0, start - chars), min(len(text), end + chars)
    if lo > 0 and (space := text.find(" ", lo, start)) != -1:
        lo = space + 1
    if hi < len(text) and (space := text.rfind(" ", end, hi)) != -1:
        hi = space
    return text[lo:start], text[start:end], text[end:hi], lo > 0, hi < len(text)


def _with_markers(text: str, citations: tuple[Citation, ...], turn: int) -> str:
    known = {c.n: c for c in citations}
    out, at = [], 0
    for m in _MARKER.finditer(text):
        out.append(esc(text[at:m.start()]))
        c = known.get(int(m.group(1)))
        if c is None:
            out.append(esc(m.group(0)))
        else:
            out.append(f'<span class="rag-cite rag-c-{turn}-{c.n}" tabindex="0" '
                       f'title="{esc_attr(c.snippet)}">&#91;{c.n}&#93;</span>')
        at = m.end()
    out.append(esc(text[at:]))
    return "".join(out)


def _citation_detail(c: Citation, turn: int) -> str:
    return (f'<details class="rag-cite-detail rag-c-{turn}-{c.n}"><summary>&#91;{c.n}&#93; '
            f'{esc(c.title or c.doc_id)}</summary><blockquote>{esc(c.snippet)}</blockquote></details>')


def _span_in_context(c: Citation, text: str, turn: int) -> str:
    if text and text[c.start:c.end] == c.snippet:
        before, span, after, cut_before, cut_after = context_window(text, c.start, c.end)
    else:  # the article changed since the answer; show the quoted snippet alone
        before, span, after, cut_before, cut_after = "", c.snippet, "", False, False
    lead = "…" if cut_before else ""
    tail = "…" if cut_after else ""
    return (f'<details class="rag-src-span" id="src-{turn}-{c.n}" open><summary>&#91;{c.n}&#93; '
            f'quoted passage</summary><p class="rag-ctx">{lead}{esc(before)}'
            f'<mark>{esc(span)}</mark>{esc(after)}{tail}</p></details>')
