"""Publication dates: what the text states and what the file declares about itself.

A date is ISO "YYYY-MM-DD", "--MM-DD" when only month and day are known, or "" when unknown.
The text's own date comes first (front matter, a leading "Date:" line, a dateline, a full date
near the start); the file's metadata (HTML meta tags, an ISO date in the file name, PDF
CreationDate/ModDate) gives the date when the text states none, and the year when the text
states only month and day and the metadata agrees on both (`choose`).

It deliberately never guesses: no year from the file's modification time, none from years
mentioned in the body, and no numeric day/month orders that differ by country ("03/05/2024").
A date that does not exist in the calendar is ignored.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterable
from typing import Any

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
MONTH = (r"(January|February|March|April|May|June|July|August|September|October|November|December"
         r"|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
# "Paris, March 5 -", "WASHINGTON, Dec. 14, 2024 (Reuters) —": place, month, day, optional year
DATELINE = re.compile(rf"^[A-Z\u00c0-\u00de](?:[^\W\d_]|[ .'’-]){{1,40}},\s+{MONTH}\s+(\d{{1,2}})"
                      rf"(?:,?\s+(\d{{4}}))?\s*(?:\([^()\n]{{1,40}}\)\s*)?[-–—]")
_MONTH_DAY_YEAR = re.compile(rf"\b{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,\s*|\s+)(\d{{4}})\b")
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{MONTH},?\s+(\d{{4}})\b")
_MONTH_DAY = re.compile(rf"^{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
_ISO = re.compile(r"(?<![\d-])((?:19|20)\d\d)([-/])(\d\d)\2(\d\d)(?!\d)")
_COMPACT = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)(?!\d)")
_LABELLED = re.compile(r"^(?:dated|date|published on|published|posted on|posted|first published|"
                       r"publication date|pub date)\s*[:–—-]?\s+(.+)$", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FRONT_DATE = re.compile(r"^(?:date|published|publish_date|pubdate|created)\s*:\s*['\"]?([^'\"\n]+)",
                         re.IGNORECASE | re.MULTILINE)
# <meta> keys (property, name or itemprop, lower case) that state the publication date, best first
_META_KEYS = ("article:published_time", "og:published_time", "datepublished", "date",
              "dc.date.issued", "dc.date", "dcterms.issued", "dcterms.date", "pubdate",
              "publishdate", "publish-date", "publish_date", "parsely-pub-date", "sailthru.date",
              "citation_publication_date", "citation_date")
_NAME_ISO = re.compile(r"(?<![^\W_])((?:19|20)\d\d)-(\d\d)-(\d\d)(?![^\W_])")
_NAME_COMPACT = re.compile(r"(?<![^\W_])((?:19|20)\d\d)(\d\d)(\d\d)(?![^\W_])")
_PDF_DATE = re.compile(r"^\s*(?:D:)?((?:19|20)\d\d)(\d\d)(\d\d)")


def iso(year: int | str | None, month: int | str, day: int | str) -> str:
    """ "YYYY-MM-DD" (or "--MM-DD" without a year) if the calendar has that day, else ""."""
    try:
        datetime.date(int(year) if year else 2000, int(month), int(day))   # 2000: February 29 exists
    except (TypeError, ValueError):
        return ""
    return f"{int(year):04d}-{int(month):02d}-{int(day):02d}" if year else f"--{int(month):02d}-{int(day):02d}"


def _month(name: str) -> int:
    return next(i for i, m in enumerate(_MONTHS, 1) if m.startswith(name.rstrip(".").lower()[:3]))


def parse_date(value: str, *, partial: bool = False) -> str:
    """The date a metadata value or a labelled line starts with: ISO ("2024-03-05",
    "2024-03-05T10:00:00Z", "2024/03/05", "20240305"), "March 5, 2024", "5 March 2024", and with
    `partial` also "March 5" (as "--03-05"). "" when it is none of these."""
    value = value.strip()
    if (m := _ISO.match(value)) or (m := _COMPACT.match(value)):
        y, mo, d = m.group(1), m.groups()[-2], m.groups()[-1]
        return iso(y, mo, d)
    head = value[:40]
    if m := _MONTH_DAY_YEAR.search(head):
        return iso(m.group(3), _month(m.group(1)), m.group(2))
    if m := _DAY_MONTH_YEAR.search(head):
        return iso(m.group(3), _month(m.group(2)), m.group(1))
    if partial and (m := _MONTH_DAY.match(value)):
        return iso(None, _month(m.group(1)), m.group(2))
    return ""


def find_date(text: str) -> str:
    """The publication date a text states near its start: its front matter's `date:`, a leading
    "Date:"/"Published:" line, a dateline ("Paris, March 5 -"), else a full date in its first
    200 characters. Leading blank lines are skipped. ISO, "--MM-DD" or ""."""
    if date := front_matter_date(text):
        return date
    head = text.lstrip()[:400]
    lines = [line.strip() for line in head.split("\n") if line.strip()][:3]
    for line in lines:
        if (m := _LABELLED.match(line)) and (date := parse_date(m.group(1), partial=True)):
            return date
    for line in lines:
        if m := DATELINE.match(line):
            return iso(m.group(3), _month(m.group(1)), m.group(2))
    found = [(m.start(), iso(m.group(3), _month(m.group(1)), m.group(2)))
             for m in _MONTH_DAY_YEAR.finditer(head[:200])]
    found += [(m.start(), iso(m.group(3), _month(m.group(2)), m.group(1)))
              for m in _DAY_MONTH_YEAR.finditer(head[:200])]
    found += [(m.start(), iso(m.group(1), m.group(3), m.group(4))) for m in _ISO.finditer(head[:200])]
    return next((date for _, date in sorted(found) if date), "")


def front_matter_date(text: str) -> str:
    """The `date:` of a leading "---" front matter block, or ""."""
    block = _FRONT_MATTER.match(text)
    match = _FRONT_DATE.search(block.group(1)) if block else None
    return parse_date(match.group(1)) if match else ""


def html_dates(soup: Any) -> list[str]:
    """Publication dates a parsed HTML page declares, best first: <meta> tags, schema.org
    datePublished (an attribute or JSON-LD), then <time datetime> (one marked pubdate first).
    Read it before the page is cleaned: the <time> often sits in a header that cleaning drops."""
    metas: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        key = (tag.get("property") or tag.get("name") or tag.get("itemprop") or "").strip().lower()
        if key in _META_KEYS and tag.get("content"):
            metas.setdefault(key, tag["content"])
    dates = [parse_date(metas[k]) for k in _META_KEYS if k in metas]
    for tag in soup.find_all(attrs={"itemprop": "datePublished"}):
        dates.append(parse_date(tag.get("content") or tag.get("datetime") or tag.get_text(" ")))
    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        dates.extend(parse_date(v) for v in _json_values(script.string or "", "datePublished"))
    times = soup.find_all("time", attrs={"datetime": True})
    for tag in sorted(times, key=lambda t: not t.has_attr("pubdate")):
        dates.append(parse_date(tag["datetime"]))
    return [d for d in dates if d]


def _json_values(text: str, key: str) -> Iterable[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    out: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            if isinstance(item.get(key), str):
                out.append(item[key])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


def name_date(stem: str) -> str:
    """An ISO date in a file name ("2024-03-05-talks", "20240305_talks"), or ""."""
    m = _NAME_ISO.search(stem) or _NAME_COMPACT.search(stem)
    return iso(*m.groups()) if m else ""


def pdf_dates(metadata: Any) -> list[str]:
    """A PDF's CreationDate then ModDate ("D:20240305101500+01'00'"), those that parse."""
    if not metadata:
        return []
    dates = []
    for key in ("/CreationDate", "/ModDate"):
        value = metadata.get(key)
        m = _PDF_DATE.match(str(value)) if value else None
        dates.append(iso(*m.groups()) if m else "")
    return [d for d in dates if d]


def choose(stated: str, declared: Iterable[str]) -> str:
    """The text's date `stated` if it is a full date; else the first `declared` (metadata, best
    first) date, which must agree on month and day when the text stated those without a year."""
    if stated and not stated.startswith("--"):
        return stated
    for date in declared:
        if date and (not stated or date[4:] == stated[1:]):
            return date
    return stated
