"""Records that cross the index's seams: a cleaned Document, the Chunks cut from it, and the
Sentences that are embedded (one vector each, serving both dense retrieval and the answerer).

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


@dataclass(frozen=True)
class Sentence:
    """The unit that is embedded: a sentence, or a window of one too long for one chunk, with
    the chunks it lies in (numbered `first`..`last`), so that a dense hit on it scores them."""
    doc_id: str
    n: int
    start: int
    end: int
    first: int
    last: int

    @property
    def sentence_id(self) -> str:
        return f"{self.doc_id}:s{self.n}"


@dataclass(frozen=True)
class Span:
    """A sentence (or any passage) of a document, by offsets into its cleaned text."""
    doc_id: str
    start: int
    end: int
    text: str
