"""Markdown as the plain text a reader sees: the words without the markup.

A paragraph's wrapped lines are one line (Markdown joins them), so a sentence is never cut at a
line break; headings, list items ("- x", "1. x"), table rows and code lines each keep a line of
their own. Links keep their words and lose their targets; images and badges go, and so do
emphasis marks and HTML tags; inline code keeps its backticks, and each line of a code block is
written as inline code. A table row reads as "Header: cell; Header: cell". A line ending in ":"
is not cut by a blank line from the list, code or table it introduces. Front matter ("---" ...
"---") is left out (dates are read from the raw file).
"""

from __future__ import annotations

import re
from functools import lru_cache

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_HTML = re.compile(r"<!--.*?-->|<[^>]+>", re.S)
_RUNS = ("item", "row", "code")    # blocks of these kinds follow one another line by line


def markdown_text(source: str) -> tuple[str, str]:
    """(plain text, title): the title is the first top-level heading's text, or ""."""
    tokens = _parser().parse(_FRONT_MATTER.sub("", source, count=1))
    blocks: list[tuple[str, str]] = []          # (kind, text)
    title, marks, header, row, cell = "", [], [], [], None
    for i, tok in enumerate(tokens):
        kind = tok.type
        if kind == "bullet_list_open":
            marks.append(None)
        elif kind == "ordered_list_open":
            marks.append(int(tok.attrs.get("start") or 1))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            marks.pop()
        elif kind == "list_item_open":
            number = marks[-1]
            blocks.append(("item", "- " if number is None else f"{number}. "))
            if number is not None:
                marks[-1] = number + 1
        elif kind in ("th_open", "td_open"):
            cell = header if kind == "th_open" else row
        elif kind == "tr_close":
            if any(row):
                named = zip(header + [""] * len(row), row)
                blocks.append(("row", "; ".join(f"{h}: {c}" if h and c else c or h for h, c in named)))
            row, cell = [], None
        elif kind == "table_close":
            header = []
        elif kind == "inline":
            text = _inline(tok)
            if cell is not None:
                cell.append(text)
                cell = None
            elif blocks and blocks[-1][0] == "item" and blocks[-1][1].endswith(" "):
                blocks[-1] = ("item", blocks[-1][1] + text)     # an item's first paragraph
            elif text:
                heading = tokens[i - 1].type == "heading_open"
                if heading and tokens[i - 1].tag == "h1" and not title:
                    title = text
                blocks.append(("heading" if heading else "para", text))
        elif kind in ("fence", "code_block"):
            lines = [code_line(line.rstrip()) for line in tok.content.split("\n") if line.strip()]
            if lines:
                blocks.append(("code", "\n".join(lines)))
        elif kind == "html_block":
            text = " ".join(_HTML.sub(" ", tok.content).split())
            if text:
                blocks.append(("para", text))
    return _layout(blocks), title


def _layout(blocks: list[tuple[str, str]]) -> str:
    """A blank line between blocks, but a single line break inside a run of list items, table
    rows or code, and after a line ending in ":" (what it introduces stays with it)."""
    out = ""
    previous = ""
    for kind, text in blocks:
        text = text.strip()
        if not text or re.fullmatch(r"-|\d+\.", text):      # a list item with no text of its own
            continue
        if out:
            together = (kind == previous and kind in _RUNS) or out.endswith(":")
            out += "\n" if together else "\n\n"
        out += text
        previous = kind
    return out + "\n"


def _inline(token) -> str:
    """An inline run's words: link text without its target, no images, no emphasis marks."""
    parts = []
    for child in token.children or []:
        if child.type == "text":
            parts.append(child.content)
        elif child.type == "code_inline":
            parts.append(f"`{child.content}`")
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
    return "".join(parts).strip()


def code_line(line: str) -> str:
    """A code line as inline code: "- stable" in a YAML block is no list item of the text."""
    return f"`` {line} ``" if "`" in line else f"`{line}`"


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").enable("strikethrough")
