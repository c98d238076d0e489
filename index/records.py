"""Records that cross the index's seams: a cleaned Document, the Chunks cut from it (one vector
each in the store), and Spans (sentences, with their vectors in the catalog, for the answerer).

Metadata is flat scalars only (Chroma rejects lists and None): an unknown date is "".
Offsets are character offsets into the cleaned `Document.text`, so `text[start:end] == chunk.text`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    doc_id: str          # stable: the file stem
    title: str
    text: str            # cleaned text; every offset in the index points into it
    source: str          # absolute path of the file it came from
    date: str = ""       # ISO "YYYY-MM-DD", "--MM-DD" when the text states no year, or ""
    content_hash: str = ""


@dataclass(frozen=True)
class Chunk:
    chunk_id: str        # f"{doc_id}:{n}", deterministic, so re-ingesting upserts in place
    doc_id: str
    n: int
    text: str
    start: int
    end: int


def chunk_id(doc_id: str, n: int) -> str:
    return f"{doc_id}:{n}"


def doc_of(chunk_id: str) -> str:
    """The document a chunk id (or a vector id, "<chunk id>@<version>") belongs to."""
    return chunk_id.rsplit(":", 1)[0]


@dataclass(frozen=True)
class Span:
    """A sentence (or any passage) of a document, by offsets into its cleaned text."""
    doc_id: str
    start: int
    end: int
    text: str
