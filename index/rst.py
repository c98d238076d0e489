"""reStructuredText as the plain text a reader sees, by a few rules (no docutils).

Heading underlines and overlines go, and the heading stays a line of its own; roles keep their
text (":class:`~mail.Message`" -> "`mail.Message`", ":rfc:`5322`" -> "RFC 5322"); ``literals``
become `literals`; links keep their words; emphasis marks go; a paragraph ending in "::" ends in
":" and the literal block after it keeps a line each; directives' and comments' markup lines go
(".. note::" becomes "Note:"); a definition list's term and the definition indented under it are
one list item ("- Parser: Takes a sequence ..."), kept right under the line that introduces them.
"""

from __future__ import annotations

import re

from index.markdown import code_line

_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_RFC = re.compile(r":rfc:`(\d+)`")
_ROLE = re.compile(r":[\w:+-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]+>`__?")
# a reference (`Cards`_), not the "` object `_" between two interpreted texts
_REFERENCE = re.compile(r"(?<![\w`])`([^`\s][^`]*?)`__?(?!\w)")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w-]+)::\s*(.*)$")
_COMMENT = re.compile(r"^\s*\.\.(?:\s|$)")
_TERM = re.compile(r"^[^\s.:;!?][^.:;!?]{0,60}$")      # a short line with no stop: a term, maybe
_ITEM = re.compile(r"^(?:[-*+•]|\d+[.)]|#\.)\s")
_ADMONITIONS = {"note", "warning", "tip", "important", "caution", "danger", "attention", "hint",
                "seealso", "deprecated", "versionadded", "versionchanged"}


def rst_text(source: str) -> tuple[str, str]:
    """(plain text, title): the title is the first heading's text, or "". A paragraph's lines
    (same indent) are joined into one; a literal block (the indented lines after "::") keeps a
    line each, as inline code."""
    out: list[str] = []
    title = ""
    joinable = False              # the last line out is paragraph text the next one may continue
    term = item = -1              # the line out that may be a definition's term; the last item made
    indent = literal = -1         # the last text line's indent; a literal block's lead-in indent
    for line in source.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip())
        if literal >= 0 and (not line.strip() or depth > literal):
            if line.strip():
                out.append(code_line(line.strip()))
            continue
        literal = -1
        if not line.strip():
            out.append("")
            joinable = False
            continue
        if _ADORNMENT.match(line.strip()):
            if out and out[-1].strip() and not title:
                title = out[-1].strip().replace("`", "")
            joinable = False
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            name, rest = directive.group(2).lower(), directive.group(3).strip()
            if name in _ADMONITIONS:
                out.append(f"{name.capitalize()}: {_inline(rest)}".rstrip())
            joinable = False
            continue                  # code-block, image, toctree ...: their markup line goes
        if _COMMENT.match(line):
            continue
        text = line.strip()
        if text.endswith("::"):
            literal = depth
            text = text[:-2].rstrip() + ":" if text[:-2].strip() else ""
        text = _inline(text)
        if joinable and depth == indent and not _ITEM.match(text) and text:
            out[-1] += " " + text
            term = -1
        elif text and joinable and term == len(out) - 1 and depth > indent:
            # a definition list's term with its definition indented under it: one item ("- Model:
            # An object ..."), kept right under the lead-in or the item before it
            if len(out) >= 3 and out[-2] == "" and (out[-3].endswith(":") or item == len(out) - 3):
                del out[-2]
            out[-1] = f"- {out[-1]}: {text}"
            item, term = len(out) - 1, -1
        elif text:
            out.append(text)
            term = len(out) - 1 if _TERM.match(text) and (len(out) < 2 or not out[-2]) else -1
        joinable, indent = bool(text) and literal < 0, depth
    return "\n".join(out), title


def _inline(text: str) -> str:
    text = _RFC.sub(r"RFC \1", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    text = _LITERAL.sub(r"`\1`", text)
    text = _REFERENCE.sub(r"\1", _LINK.sub(r"\1", text))
    text = _STRONG.sub(r"\1", text)
    return _EMPHASIS.sub(r"\1", text)
