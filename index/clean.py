"""Clean real-world news text before it is chunked.

Each rule is a small function with a name that says what it fixes; `clean` applies them in order.
The rules remove site boilerplate and repair noise; they never rewrite the wording of real
content (curly quotes, dashes and spelling are kept as published). Offsets everywhere else in
the index point into the text this module returns.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

# Whole lines that are site furniture, not reporting.
_BOILERPLATE = re.compile(
    r"^\s*(?:"
    r"read (?:also|more|next)\s*:"
    r"|also read\s*:"
    r"|related(?: articles?| stories| posts?)?\s*:"
    r"|discover more from\b"
    r"|subscribe (?:to|now|for)\b"
    r"|sign up (?:for|to)\b"
    r"|share (?:this|on)\b"
    r"|follow us\b"
    r"|click here\b"
    r"|advertisement\s*$"
    r"|continue reading\b"
    r")",
    re.IGNORECASE,
)
_MAX_BOILERPLATE_LINE = 200

# A line ending with one of these does not end a sentence.
_ABBREVIATIONS = ("U.S.", "U.K.", "U.N.", "E.U.", "Mr.", "Mrs.", "Ms.", "Dr.", "Gen.", "Sen.",
                  "Rep.", "Lt.", "Col.", "Gov.", "Pres.", "St.", "Jr.", "Inc.", "Co.", "No.", "vs.")
_SENTENCE_END = re.compile(r"[.!?:;…\"”’)\]]\s*$")
_BULLET = re.compile(r"^\s*(?:[-•*–]|\d+[.)])\s")
_RULE = re.compile(r"^\s*([=\-~^*#_])\1{2,}\s*$")      # a heading's underline, a separator
_MIN_WRAPPED_LINES = 8   # lines of prose (not list items) before a text counts as wrapped
_MIN_WRAP_WIDTH, _MAX_WRAP_WIDTH = 50, 120     # narrower lines are headings and stubs, wider ones paragraphs
_WRAP_SLACK = 20          # a wrapped line ends within this many characters of the width

# Scripts that do not belong inside a Latin-script article: a run of them glued to a Latin word
# ("Tomバーク") is a mis-encoded fragment.
_FOREIGN = r"\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f"
_GLUED_FOREIGN = re.compile(rf"(?<=[A-Za-z])[{_FOREIGN}]+|[{_FOREIGN}]+(?=[A-Za-z])")
_SPACE_BEFORE_PUNCT = re.compile(r"(?<=\S)[ \t\u00a0]+(?=[.,;:!?](?:\s|$|[\"”’)]))")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]{2,}")
_ZERO_WIDTH = re.compile(r"[\u200b-\u200d\u2060\ufeff\ufffd]")

_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, fix_latin_ligatures=True,
                             fix_character_width=True, normalization="NFC", explain=False)


def fix_encoding(text: str) -> str:
    """Repair mojibake (UTF-8 read as Latin-1, etc.) and drop replacement/zero-width characters."""
    return _ZERO_WIDTH.sub("", ftfy.fix_text(text, config=_FTFY))


def drop_control_characters(text: str) -> str:
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")


def drop_glued_foreign_fragments(text: str) -> str:
    """Remove runs of CJK/kana glued to Latin words, in text that is mostly Latin script."""
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters)
    if letters and latin / len(letters) < 0.9:
        return text
    return _GLUED_FOREIGN.sub("", text)


def drop_boilerplate_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n")
                     if not (len(line) <= _MAX_BOILERPLATE_LINE and _BOILERPLATE.match(line)))


def join_wrapped_lines(text: str) -> str:
    """In hard-wrapped text (emails, RFCs, plain-text READMEs, a PDF's extracted lines: most
    lines end near one width, most of those mid-sentence), a line that reaches that width runs on
    into the next, whatever the next one starts with. Text written a paragraph per line is left
    alone."""
    lines = text.split("\n")
    prose = [line.strip() for line in lines if _is_prose(line)]
    if len(prose) < _MIN_WRAPPED_LINES:
        return text
    width = sorted(map(len, prose))[int(0.9 * (len(prose) - 1))]
    near = [line for line in prose if width - _WRAP_SLACK <= len(line) <= width]
    mid_sentence = sum(not _SENTENCE_END.search(line) for line in near)
    if (not _MIN_WRAP_WIDTH <= width <= _MAX_WRAP_WIDTH or len(near) < 0.4 * len(prose)
            or mid_sentence < 0.5 * len(near)):
        return text
    out: list[str] = []
    last = 0                    # the length of the last line read, not of the line it joined
    for line in lines:
        if out and last >= width - _WRAP_SLACK and _is_prose(line):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
        last = len(line.strip())
    return "\n".join(out)


def _is_prose(line: str) -> bool:
    return bool(line.strip()) and not _BULLET.match(line) and not _RULE.match(line)


def join_broken_lines(text: str) -> str:
    """Join a line to the next when a sentence runs across the break."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        prev = out[-1] if out else ""
        if prev.strip() and line.strip() and _continues(prev.rstrip(), line.lstrip()):
            out[-1] = prev.rstrip() + " " + line.lstrip()
        else:
            out.append(line)
    return "\n".join(out)


def _continues(prev: str, nxt: str) -> bool:
    if _BULLET.match(nxt):
        return False
    if prev.endswith(_ABBREVIATIONS):
        return True
    # no sentence end before the break and the next line starts mid-sentence
    return not _SENTENCE_END.search(prev) and (nxt[0].islower() or nxt[0] in ",;)")


def fix_spacing(text: str) -> str:
    """Remove spaces before punctuation, collapse runs of spaces, trim lines and blank runs."""
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    text = _SPACES.sub(" ", text)
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


RULES = (fix_encoding, drop_control_characters, drop_glued_foreign_fragments,
         drop_boilerplate_lines, join_wrapped_lines, join_broken_lines, fix_spacing)


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for rule in RULES:
        text = rule(text)
    return text
