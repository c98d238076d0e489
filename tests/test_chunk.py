"""Chunking: token bounds, sentence boundaries, overlap, and offsets that round-trip."""

from pathlib import Path

import pytest

from index.chunk import chunk_document, count_tokens, holders, sentence_pieces
from index.load import load
from index.records import Document
from index.sentences import split_sentences

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_every_chunk_of_the_corpus_round_trips_through_its_offsets():
    for path in CORPUS.glob("*.txt"):
        doc = load(path)
        for size, overlap in ((64, 16), (200, 40), (512, 0)):
            chunks = chunk_document(doc, size, overlap)
            assert chunks
            for chunk in chunks:
                assert doc.text[chunk.start:chunk.end] == chunk.text
                assert count_tokens(chunk.text) <= size


def test_chunks_cover_the_whole_text_in_order():
    doc = load(next(CORPUS.glob("002_*.txt")))
    chunks = chunk_document(doc, 100, 20)
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)
    for a, b in zip(chunks, chunks[1:]):
        assert not doc.text[a.end:b.start].strip()  # nothing but whitespace between chunks
        assert b.start > a.start          # progress
    assert [c.n for c in chunks] == list(range(len(chunks)))
    assert all(c.chunk_id == f"{doc.doc_id}:{c.n}" for c in chunks)


def test_overlap_repeats_the_last_sentence_of_the_previous_chunk():
    doc = load(next(CORPUS.glob("000_*.txt")))
    chunks = chunk_document(doc, 120, 60)
    assert any(b.start < a.end for a, b in zip(chunks, chunks[1:]))
    no_overlap = chunk_document(doc, 120, 0)
    assert all(b.start >= a.end for a, b in zip(no_overlap, no_overlap[1:]))


def test_chunks_end_on_sentence_boundaries():
    doc = load(next(CORPUS.glob("001_*.txt")))
    ends = {e for _, e in split_sentences(doc.text)}
    assert all(c.end in ends for c in chunk_document(doc, 80, 0))


def test_a_sentence_longer_than_the_chunk_size_is_cut_at_token_boundaries():
    text = "word " * 500 + "end."
    doc = Document("long", "t", text.strip(), "/x")
    chunks = chunk_document(doc, 64, 0)
    assert len(chunks) >= 7
    assert all(count_tokens(c.text) <= 64 for c in chunks)
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)


def test_each_sentence_is_read_in_the_first_chunk_that_holds_it_whole():
    overlapping = 0
    for path in CORPUS.glob("*.txt"):
        doc = load(path)
        spans = sentence_pieces(doc.text, 120)
        chunks = chunk_document(doc, 120, 60, spans)
        assert chunks == chunk_document(doc, 120, 60)
        for (s, e), n in zip(spans, holders(spans, chunks)):
            inside = [c.n for c in chunks if c.start <= s and e <= c.end]
            assert inside and n == inside[0]
            overlapping += len(inside) > 1
    assert overlapping                    # the overlap puts some sentences in two chunks


def test_sentence_pieces_cut_a_long_sentence_the_way_the_chunks_do():
    text = "A short one. Then " + "word " * 300 + "end."
    doc = Document("long", "t", text.strip(), "/x")
    spans = sentence_pieces(doc.text, 64)
    assert doc.text[slice(*spans[0])] == "A short one."
    assert len(spans) >= 6 and all(count_tokens(doc.text[s:e]) <= 63 for s, e in spans)
    chunks = chunk_document(doc, 64, 0)
    assert all(chunks[n].start <= s and e <= chunks[n].end for (s, e), n in zip(spans, holders(spans, chunks)))


def test_sentence_splitter_keeps_abbreviations_inside_sentences():
    text = "The U.S. Ambassador spoke. Mr. Barrack said no. It was 3.5 billion."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["The U.S. Ambassador spoke.", "Mr. Barrack said no.",
                                             "It was 3.5 billion."]


TRICKY = ["He said approx. 300 were there. Then e.g. Ankara replied.", "Wait... What?! No. Yes.",
          "J. R. R. Tolkien wrote it. Sept. 5 came. Gen. Smith left.", "xapprox. Next one.",
          "“Done.” Then (Later.) [Yes.] 'Quote.' Another.", "U.S.-made jets. U.K. said so. U.N. Done.",
          "A.  B.\tC.\n\nD. e. F", ". . . A ! ! ? B", "No. 5 is next. Inc. Co. vs. Jr. St. Louis.",
          "Two parts:\n1. A cable. It is long.\n 12. Fuse. Then 3. Done."]


def test_the_number_of_a_list_item_is_no_sentence_of_its_own():
    text = "It has two properties:\n1. It is reversible. It is lossless.\n2. It works on any text."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "It has two properties:", "1. It is reversible.", "It is lossless.", "2. It works on any text."]


def test_sentence_splitter_agrees_with_the_plain_rule_on_the_corpus_and_on_tricky_text():
    from evals.bench_split import plain_split

    texts = [load(p).text for p in sorted(CORPUS.glob("*.txt"))] + TRICKY
    for text in texts:
        assert split_sentences(text, 7) == [(s + 7, e + 7) for s, e in plain_split(text)], text[:80]


@pytest.mark.timeout(60)   # a hang guard, not a benchmark: these take well under a second
def test_sentence_splitter_handles_one_very_long_line():
    prose = " ".join(" ".join(load(p).text.split()) for p in sorted(CORPUS.glob("*.txt")))
    per_copy = len(split_sentences(prose))
    line = " ".join([prose] * (1_000_000 // len(prose) + 1))       # about 1 MB, no line break
    assert len(split_sentences(line)) == per_copy * (1_000_000 // len(prose) + 1)
    assert split_sentences("." * 200_000) == [(0, 200_000)]      # a run of stops is one end
    assert len(split_sentences("Yes!! " * 100_000)) == 100_000
