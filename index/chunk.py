"""Cut a cleaned document into token-bounded chunks on sentence boundaries.

Sizes are counted in tiktoken cl100k_base tokens. Whole sentences are packed until the next one
would overflow `size`; the next chunk starts with the last sentences of the previous one, up to
`overlap` tokens. A single sentence longer than `size` is cut at token boundaries. Every chunk
keeps its offsets, so `doc.text[chunk.start:chunk.end] == chunk.text`.

The same pieces (sentences, long ones cut) are the units the answerer reads; each gets its vector
from the first chunk that holds it (`holders`).
"""

from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

from index.records import Chunk, Document, chunk_id
from index.sentences import split_sentences


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    from rag import offline

    offline.apply()      # the encoding ships with LlamaIndex: never download it

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def chunk_document(doc: Document, size: int, overlap: int,
                   spans: list[tuple[int, int]] | None = None) -> list[Chunk]:
    """Chunks of `doc`; `spans` are its `sentence_pieces(doc.text, size)` when already cut."""
    if spans is None:
        spans = sentence_pieces(doc.text, size)
    # +1 per sentence for the space or newline that joins it to the next
    pieces = [(s, e, count_tokens(doc.text[s:e]) + 1) for s, e in spans]
    chunks: list[Chunk] = []
    i = 0
    while i < len(pieces):
        j, tokens = i, 0
        while j < len(pieces) and (j == i or tokens + pieces[j][2] <= size):
            tokens += pieces[j][2]
            j += 1
        start, end = pieces[i][0], pieces[j - 1][1]
        chunks.append(Chunk(chunk_id(doc.doc_id, len(chunks)), doc.doc_id, len(chunks),
                            doc.text[start:end], start, end))
        if j >= len(pieces):
            break
        back, carried = j, 0          # carry whole sentences of up to `overlap` tokens
        while back - 1 > i and carried + pieces[back - 1][2] <= overlap:
            back -= 1
            carried += pieces[back][2]
        i = back
    return chunks


def holders(spans: list[tuple[int, int]], chunks: list[Chunk]) -> list[int]:
    """For each span, the number of the first chunk that holds it whole (chunks are packed from
    whole spans, so there always is one)."""
    ends = [c.end for c in chunks]
    return [bisect_left(ends, e) for _, e in spans]


def sentence_pieces(text: str, chunk_size: int) -> list[tuple[int, int]]:
    """The pieces chunks of `chunk_size` tokens are packed from: sentence spans, with any sentence
    over `chunk_size - 1` tokens (one is kept for the joining space) cut into windows that long."""
    size = chunk_size - 1
    out: list[tuple[int, int]] = []
    enc = _encoding()
    for start, end in split_sentences(text):
        sentence = text[start:end]
        tokens = enc.encode(sentence, disallowed_special=())
        if len(tokens) <= size:
            out.append((start, end))
            continue
        _, offsets = enc.decode_with_offsets(tokens)
        cuts = [offsets[k] for k in range(0, len(tokens), size)] + [len(sentence)]
        for a, b in zip(cuts, cuts[1:]):
            piece = sentence[a:b]
            left = len(piece) - len(piece.lstrip())
            right = len(piece.rstrip())
            if right > left:
                out.append((start + a + left, start + a + right))
    return out
