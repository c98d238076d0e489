"""Saved conversations (rag/conversations.py) on a real SQLite file in a temporary home."""

from __future__ import annotations

import pytest

from rag.conversations import Conversations
from rag.errors import ConversationNotFound, ConversationStoreError
from rag.records import Answer, Citation


def _answer(question: str, text: str) -> Answer:
    cite = Citation(n=1, doc_id="d1", title="A title", snippet="The sky is blue.", start=4, end=20,
                    score=0.5)
    return Answer(question=question, text=text, citations=(cite,), mode="llm", notice="checked",
                  timings_ms={"total": 12.5}, usage={"prompt_tokens": 40, "completion_tokens": 9})


def test_a_conversation_keeps_its_turns_with_their_citations_across_instances(tmp_path):
    first = Conversations(tmp_path)
    c = first.start("  What colour\n is the sky?  ")
    first.add_turn(c.id, "What colour is the sky?", _answer("What colour is the sky?", "Blue [1]."))
    first.add_turn(c.id, "Why?", _answer("Why?", "Scattering [1]."))
    again = Conversations(tmp_path).get(c.id)           # a new process would see the same
    assert again.title == "What colour is the sky?"
    assert [t.question for t in again.turns] == ["What colour is the sky?", "Why?"]
    assert again.turns[0].answer == _answer("What colour is the sky?", "Blue [1].")
    assert again.turns[1].answer.citations[0].snippet == "The sky is blue."


def test_listing_is_newest_first_and_rename_delete_and_drop_last_work(tmp_path):
    store = Conversations(tmp_path)
    a, b = store.start("first"), store.start("second")
    store.add_turn(a.id, "q", _answer("q", "x [1]."))                   # a changed last
    assert [c.id for c in store.list()] == [a.id, b.id]
    assert store.rename(b.id, "x" * 200).title == "x" * 79 + "…"
    assert store.drop_last_turn(a.id).question == "q"
    assert store.drop_last_turn(a.id) is None and store.get(a.id).turns == ()
    store.delete(a.id)
    assert [c.id for c in store.list()] == [b.id]
    with pytest.raises(ConversationNotFound):
        store.get(a.id)


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "0" * 32, "' OR 1=1 --", "A" * 32])
def test_unknown_or_malformed_ids_are_not_found(tmp_path, bad):
    store = Conversations(tmp_path)
    store.start("kept")
    for call in (store.get, store.delete, lambda i: store.rename(i, "t"),
                 lambda i: store.add_turn(i, "q", _answer("q", "a"))):
        with pytest.raises(ConversationNotFound, match="no saved conversation"):
            call(bad)
    assert len(store.list()) == 1


def test_a_corrupted_file_gives_a_one_line_error_naming_the_fix_and_is_left_alone(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConversationStoreError) as caught:
        Conversations(tmp_path).list()
    assert "\n" not in str(caught.value) and "move" in str(caught.value)
    assert path.read_bytes() == b"not a database at all" * 100
