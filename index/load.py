"""Read files into cleaned Documents: .txt, .md, .rst, .html/.htm and .pdf.

Finding files, reading them and extracting the title live here; cleaning rules live in clean.py,
date rules in dates.py (given the raw file's parts too: HTML meta tags, front matter, PDF
metadata, the file name). A file that cannot be used raises BadDocument with its name and the
reason; callers report it and go on with the rest.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path
from typing import Iterable, Iterator

from index.dates import (
    DATELINE,
    choose,
    find_date,
    front_matter_date,
    html_dates,
    name_date,
    pdf_dates,
)
from index.records import Document
from rag.errors import BadDocument

__all__ = ["SUPPORTED", "find_date", "find_files", "guess_title", "load"]

SUPPORTED = (".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = 20 * 1024 * 1024


def find_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given files or folders, sorted; hidden files and folders are skipped."""
    for path in paths:
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                rel = p.relative_to(path)
                if p.is_file() and not any(part.startswith(".") for part in rel.parts):
                    yield p
        else:
            yield path


def load(path: Path) -> Document:
    """Read, clean and describe one file. Raises BadDocument when it cannot be used."""
    from index.clean import clean   # here: finding files must not import the cleaners (ftfy)

    suffix = path.suffix.lower()
    if any("\udc80" <= ch <= "\udcff" for ch in path.name):
        shown = path.name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise BadDocument(f"{shown}: the file name is not valid UTF-8 (it names the article); "
                          "rename the file")
    if suffix not in SUPPORTED:
        raise BadDocument(f"{path.name}: unsupported format {suffix or '(none)'}; "
                          f"use one of {', '.join(SUPPORTED)}")
    data = _read(path)
    page_dates: list[str] = []   # what an HTML page declares: its publisher's word
    pdf_meta: list[str] = []     # a PDF's CreationDate/ModDate: often when it was exported
    title = ""
    if suffix == ".pdf":
        raw, pdf_meta = _pdf_text(path, data)
    elif suffix in (".html", ".htm"):
        raw, title, page_dates = _html_text(_decode(path, data))
    else:
        raw = _decode(path, data)
    plain = raw
    if suffix in (".md", ".markdown"):
        from index.markdown import markdown_text

        plain, title = markdown_text(raw)
    elif suffix == ".rst":
        from index.rst import rst_text

        plain, title = rst_text(raw)
    text = clean(plain)
    if len(re.findall(r"\w", text)) < 20:
        raise BadDocument(f"{path.name}: has no readable text; nothing was ingested from it")
    stated = front_matter_date(raw) or find_date(text)
    date = choose(stated, [*page_dates, name_date(path.stem), *pdf_meta])
    return Document(doc_id=path.stem, title=title or guess_title(text), text=text,
                    source=str(path.resolve()), date=date,
                    content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest()[:16])


def _read(path: Path) -> bytes:
    """The file's bytes. Never blocks: a pipe, device or socket is refused, not read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise BadDocument(f"{path.name}: is not a regular file (a pipe, device or socket); "
                                  "save its contents to a file and ingest that")
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise BadDocument(f"{path.name}: cannot be read ({exc.strerror or exc}); check the path "
                          "and its permissions") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadDocument(f"{path.name}: {max(info.st_size, len(data)):,} bytes is over the "
                          f"{MAX_FILE_BYTES:,}-byte limit; split the file")
    return data


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):   # UTF-16 has NULs
        raise BadDocument(f"{path.name}: looks binary (NUL bytes); save it as UTF-8 text")
    for encoding in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            if not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                break
    raise BadDocument(f"{path.name}: is not valid UTF-8 text; re-save it as UTF-8")


def _html_text(html: str) -> tuple[str, str, list[str]]:
    """The page's text, title and declared publication dates (read before cleaning drops them)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    dates = html_dates(soup)
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "aside", "form"]):
        tag.decompose()
    title = ""
    heading = soup.find("h1") or soup.find("title")
    if heading:
        title = heading.get_text(" ", strip=True)
    blocks = [el.get_text(" ", strip=True)
              for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre"])
              if not el.find_parent(["p", "li", "blockquote"])]
    text = "\n".join(b for b in blocks if b) or soup.get_text("\n", strip=True)
    return text, title, dates


def _pdf_text(path: Path, data: bytes) -> tuple[str, list[str]]:
    """The PDF's text and the dates its metadata gives (CreationDate, then ModDate)."""
    import io
    import logging

    from pypdf import PdfReader

    # pypdf logs each flaw of a damaged file on stderr; the BadDocument below is the one message
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as exc:   # a damaged PDF can fail anywhere inside the parser
        raise BadDocument(f"{path.name}: is not a readable PDF ({type(exc).__name__}: "
                          f"{str(exc)[:100] or 'no detail'}); export it again") from None
    try:
        return text, pdf_dates(reader.metadata)
    except Exception:   # damaged metadata costs the date only, not the text
        return text, []


def guess_title(text: str, limit: int = 120) -> str:
    """A short headline as the title when the text starts with one, else its first sentence."""
    from index.sentences import split_sentences

    first_line = text.split("\n", 1)[0].strip().lstrip("# ")
    if match := DATELINE.match(first_line):
        first_line = first_line[match.end():].strip()
        first_line = first_line[:1].upper() + first_line[1:]
    if len(first_line.split()) <= 16 and not first_line.endswith((".", "!", "?")):
        return first_line
    spans = split_sentences(first_line)
    title = first_line[: spans[0][1]] if spans else first_line
    if len(title) > limit:
        title = title[:limit].rsplit(" ", 1)[0] + "…"
    return title

