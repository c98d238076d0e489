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
from typing import Iterable, Mapping, Sequence

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
    """A question, with a Copy action that copies its text."""
    return (f'<div class="rag-q">{esc(question)}</div>'
            f'<div class="rag-actions">{_action("rag-copy", "Copy")}</div>'
            f'{_copy_source("rag-copy-plain", question.splitlines())}')


def pending_html(text: str) -> str:
    """A partial answer while it streams: plain escaped text."""
    return f'<div class="rag-answer rag-streaming">{esc(text)}</div>'


def draft_html(answer: Answer, turn: int) -> str:
    """The instant extractive answer, marked as a draft, while the LLM reads the sources."""
    return (f'<div class="rag-draft"><div class="rag-draft-label">Draft · instant, quoted from the '
            f'sources · the LLM is writing its answer…</div>{answer_html(answer, turn)}</div>')


def error_html(message: str, hint: str = "") -> str:
    """A one-line error; `commands` in it are shown as code, `hint` follows as its own line."""
    extra = f'<div class="rag-hint">{_with_code(hint)}</div>' if hint else ""
    return f'<div class="rag-error" role="alert"><b>Could not answer.</b> {_with_code(message)}{extra}</div>'


def answer_html(answer: Answer, turn: int) -> str:
    """A finished answer: how the question was read when that is not as asked, text with
    clickable [n] markers, a notice, citations, timings.

    A marker and its details share the class `rag-c-<turn>-<n>` (the chat's sanitiser drops
    data- and id attributes); the sources panel's passage has the id `src-<turn>-<n>`."""
    parts = []
    if answer.query and answer.query != answer.question:   # a follow-up resolved, a typo read
        scope = f" (in: {_short(answer.scope, 60)})" if answer.scope else ""   # one article named
        parts.append(f'<div class="rag-query">Read as: {esc(answer.query + scope)}</div>')
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
    if answer.read:
        parts.append(_read_html(answer.read, numbered=answer.mode == "llm"))
    if answer.timings_ms:
        parts.append(f'<div class="rag-timings">{esc(timings_text(answer))}</div>')
    if not answer.draft:
        parts.append(f'<div class="rag-actions">{_action("rag-copy", "Copy")}'
                     f'{_action("rag-copy-md", "Copy as Markdown")}</div>'
                     + _copy_source("rag-copy-plain", plain_text(answer).split("\n"))
                     + _copy_source("rag-copy-markdown", markdown_text(answer).split("\n")))
    return "".join(parts)


def plain_text(answer: Answer) -> str:
    """What Copy gives: the answer with its [n] markers, then the numbered sources."""
    lines = [answer.text]
    if answer.citations:
        lines += ["", "Sources:"]
        lines += [f'[{c.n}] {c.title or c.doc_id} ({c.doc_id}): "{_flat(c.snippet)}"' for c in answer.citations]
    return "\n".join(lines)


def markdown_text(answer: Answer) -> str:
    """What Copy as Markdown gives: the answer, then each source as a bold title and a quote."""
    lines = [answer.text]
    if answer.citations:
        lines += ["", "**Sources**", ""]
        for c in answer.citations:
            lines += [f"[{c.n}] **{c.title or c.doc_id}** (`{c.doc_id}`)", f"> {_flat(c.snippet)}", ""]
        lines.pop()
    return "\n".join(lines)


def doc_label(title: str, doc_id: str, limit: int = 60) -> str:
    """A dropdown label: the title shortened, then the whole id (never cut)."""
    title = _short(title or "", limit)
    return f"{title} ({doc_id})" if title and title != doc_id else doc_id


def timings_text(answer: Answer) -> str:
    t = answer.timings_ms
    order = [k for k in ("embed", "retrieve", "answer", "llm") if k in t]
    steps = " · ".join(f"{k} {t[k]:.0f} ms" for k in order)
    total = f"{t['total']:.0f} ms" if "total" in t else ""
    label = answer.mode + (f" · {steps}" if steps else "")
    return f"{label} · total {total}" if total else label


def sources_html(answers: Sequence[Answer], texts: Mapping[str, str], dates: Mapping[str, str],
                 active: int = 0) -> str:
    """The sources panel for a whole conversation: for each answer (turn 1, 2, …) the articles
    it cites (title, id, date) with the quoted spans highlighted in context, in a group
    `rag-src-turn-<turn>`; only the `active` turn's group shows (the newest by default), and
    clicking a citation in any answer shows its turn's group (ui/static/app.js). `texts` maps
    doc_id to the article's cleaned text."""
    head = '<h3 class="rag-sources-title">Sources</h3>'
    if not answers:
        return head + _sources(None, texts, dates, 0)
    active = active or len(answers)
    groups = []
    for turn, answer in enumerate(answers, 1):
        hidden = "" if turn == active else " rag-hidden"
        label = f'<div class="rag-src-turn-label">Answer {turn}: {esc(_short(answer.question, 90))}</div>'
        groups.append(f'<div class="rag-src-turn rag-src-turn-{turn}{hidden}">{label}'
                      f'{_sources(answer, texts, dates, turn)}</div>')
    return head + "".join(groups)


def _sources(answer: Answer | None, texts: Mapping[str, str], dates: Mapping[str, str],
             turn: int) -> str:
    if answer is None:
        return ('<div class="rag-sources-empty">Ask a question: the articles an answer cites '
                'appear here, with the quoted passage highlighted.</div>')
    if not answer.citations:
        return '<div class="rag-sources-empty">This answer cites no article.</div>'
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
        return '<div class="rag-sources-empty">No documents yet: upload articles below, or index a folder with <code>rag ingest</code>.</div>'
    return ('<div class="rag-doc-wrap"><table class="rag-docs"><thead><tr><th>Title</th><th>Id</th>'
            '<th>Date</th><th>Chunks</th><th>Ingested (UTC)</th></tr></thead><tbody>'
            + "".join(rows) + f'</tbody></table></div><div class="rag-meta">{len(rows)} document{"s" if len(rows) != 1 else ""}</div>')


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
            out.append(f'<span class="rag-cite rag-c-{turn}-{c.n}" tabindex="0" role="button" '
                       f'aria-label="source {c.n}: {esc_attr(c.title or c.doc_id, 120)}">'
                       f'&#91;{c.n}&#93;</span>')
        at = m.end()
    out.append(esc(text[at:]))
    return "".join(out)


def _citation_detail(c: Citation, turn: int) -> str:
    return (f'<details class="rag-cite-detail rag-c-{turn}-{c.n}"><summary>&#91;{c.n}&#93; '
            f'<span class="rag-cite-title">{esc(c.title or c.doc_id)}</span></summary>'
            f'<blockquote>{esc(c.snippet)}</blockquote></details>')


def _read_html(read: tuple[Citation, ...], numbered: bool) -> str:
    """Every passage the LLM was shown, folded: what its answer (or the offline one that replaced
    it) was written from. Numbered as in the LLM's prompt only under the LLM's own answer, whose
    [n] point into it (an offline answer numbers its citations its own way)."""
    items = "".join(f'<blockquote><strong>{f"&#91;{c.n}&#93; " if numbered else ""}'
                    f"{esc(c.title or c.doc_id)}</strong><br>{esc(c.snippet)}</blockquote>" for c in read)
    return (f'<details class="rag-read"><summary>What the LLM read ({len(read)} '
            f'passage{"s" if len(read) != 1 else ""})</summary>{items}</details>')


def _action(kind: str, label: str) -> str:
    return f'<span class="rag-action {kind}" role="button" tabindex="0">{label}</span>'


def _copy_source(kind: str, lines: Iterable[str]) -> str:
    """Text for a Copy action, hidden, one span a line (the chat's sanitiser keeps classes)."""
    return (f'<div class="{kind} rag-hidden" aria-hidden="true">'
            + "".join(f"<span>{esc(line)}</span>" for line in lines) + "</div>")


def _with_code(text: str) -> str:
    """Escaped text in which `a command` is shown as code, not with literal backticks."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:          # an unpaired backtick: leave the text as it is
        return esc(text)
    return "".join(f"<code>{esc(p)}</code>" if i % 2 else esc(p) for i, p in enumerate(parts))


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def _short(text: str, limit: int) -> str:
    flat = _flat(text)
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


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
