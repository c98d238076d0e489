"""reStructuredText as the plain text a reader sees, by a few rules (no docutils).

Heading underlines and overlines go, and the heading stays a line of its own; roles keep their
text (":class:`~mail.Message`" -> "`mail.Message`", ":rfc:`5322`" -> "RFC 5322"); ``literals``
become `literals`; links keep their words; emphasis marks go; a paragraph ending in "::" ends in
":"; directives' and comments' markup lines go (".. note::" becomes "Note:"). Wrapped lines are
joined later, by cleaning (index/clean.py).
"""

from __future__ import annotations

import re

_ADORNMENT = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1{2,}\s*$")
_RFC = re.compile(r":rfc:`(\d+)`")
_ROLE = re.compile(r":[\w:+-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]+>`__?")
_REFERENCE = re.compile(r"`([^`]+)`__?")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_DIRECTIVE = re.compile(r"^(\s*)\.\.\s+([\w-]+)::\s*(.*)$")
_COMMENT = re.compile(r"^\s*\.\.(?:\s|$)")
_ADMONITIONS = {"note", "warning", "tip", "important", "caution", "danger", "attention", "hint",
                "seealso", "deprecated", "versionadded", "versionchanged"}


def rst_text(source: str) -> tuple[str, str]:
    """(plain text, title): the title is the first heading's text, or ""."""
    lines = source.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    title = ""
    for line in lines:
        if _ADORNMENT.match(line.strip()) and len(line.strip()) >= 3:
            if out and out[-1].strip() and not title:
                title = _inline(out[-1].strip()).replace("`", "")
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            name, rest = directive.group(2).lower(), directive.group(3).strip()
            if name in _ADMONITIONS:
                out.append(f"{directive.group(1)}{name.capitalize()}: {_inline(rest)}".rstrip())
            continue                  # code-block, image, toctree ...: their markup line goes
        if _COMMENT.match(line):
            continue
        if line.rstrip().endswith("::"):
            line = line.rstrip()[:-2].rstrip()
            line = line + ":" if line else ""
        out.append(_inline(line))
    return "\n".join(out), title


def _inline(text: str) -> str:
    text = _RFC.sub(r"RFC \1", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    text = _LITERAL.sub(r"`\1`", text)
    text = _LINK.sub(r"\1", text)
    text = _STRONG.sub(r"\1", text)
    return _EMPHASIS.sub(r"\1", text)
