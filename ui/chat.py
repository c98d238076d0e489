"""The chat's handlers: asking (streamed), regenerate, edit, and the saved conversations.

A session holds its conversation as `turns`, a list of {"question", "answer": Answer.to_dict()}.
The chat, the sources panel and the follow-up history are all drawn from it, so they can never
disagree (Clear and New chat reset all three at once). Each finished answer is also saved to
the conversation store (rag.conversations) under the session's conversation id (`conv`),
which the browser keeps across reloads; a store that fails costs the saving, never the answer.

Every handler returns plain values for ui/app.py to wire; nothing here lays out components.
"""

from __future__ import annotations

import logging
from typing import Iterator

import gradio as gr

from rag.errors import ConversationNotFound, IndexNotBuilt, RagError
from rag.records import Answer
from ui import render
from ui.service import Service

log = logging.getLogger("rag.serve")
NO_INDEX_HINT = "Upload articles in the Documents tab, or index a folder with `rag ingest`."


def answers(turns: list[dict]) -> list[Answer]:
    return [Answer.from_dict(t["answer"]) for t in turns]


def messages(turns: list[dict]) -> list[dict]:
    out = []
    for n, (turn, answer) in enumerate(zip(turns, answers(turns)), 1):
        out.append({"role": "user", "content": render.user_html(turn["question"])})
        out.append({"role": "assistant", "content": render.answer_html(answer, n)})
    return out


def sources(service: Service, turns: list[dict]) -> str:
    found = answers(turns)
    texts, dates = service.texts([c.doc_id for a in found for c in a.citations])
    return render.sources_html(found, texts, dates)


def choices(service: Service) -> list[tuple[str, str]]:
    """The sidebar's list: (title, id), newest first; empty when the store cannot be read."""
    try:
        return [(c.title, c.id) for c in service.conversations.list()]
    except RagError as exc:
        log.warning("conversations not listed (%s)", exc)
        return []


def opened(service: Service, conversation_id: str) -> tuple[str, list[dict], str]:
    """(id, turns, note) of a saved conversation; a new empty one, with a note, when it is gone."""
    if not conversation_id:
        return "", [], ""
    try:
        found = service.conversations.get(conversation_id)
    except RagError as exc:
        return "", [], str(exc)
    return found.id, [{"question": t.question, "answer": t.answer.to_dict()} for t in found.turns], ""


def respond(service: Service, message: str, turns: list[dict], conv: str, mode: str, k: float,
            only: list[str], date_from: str, date_to: str) -> Iterator[tuple]:
    """Yields (box, chat, sources, turns, conv, conversation list) while the answer streams."""
    turns, question = list(turns or []), (message or "").strip()
    shown = messages(turns)
    if not question:
        yield "", shown, gr.update(), turns, conv, gr.update()
        return
    shown.append({"role": "user", "content": render.user_html(question)})
    shown.append({"role": "assistant", "content": render.pending_html("…")})
    yield "", shown, gr.update(), turns, conv, gr.update()
    n, answer, text = len(turns) + 1, None, ""
    history = [(t["question"], t["answer"]["answer"]) for t in turns]
    try:
        for piece in service.stream(question, history=history, k=int(k), doc_ids=list(only or []) or None,
                                    mode=mode or None, date_from=(date_from or "").strip(),
                                    date_to=(date_to or "").strip()):
            if isinstance(piece, Answer) and piece.draft:
                shown[-1] = {"role": "assistant", "content": render.draft_html(piece, n)}
            elif isinstance(piece, Answer):
                answer = piece
                continue
            elif piece:         # "" is the model still reading: only a chance to stop
                text += piece
                shown[-1] = {"role": "assistant", "content": render.pending_html(text)}
            yield "", shown, gr.update(), turns, conv, gr.update()
    except RagError as exc:
        hint = NO_INDEX_HINT if isinstance(exc, IndexNotBuilt) else ""
        shown[-1] = {"role": "assistant", "content": render.error_html(str(exc), hint)}
        yield question, shown, gr.update(), turns, conv, gr.update()
        return
    except Exception:
        log.exception("answering %r failed", question[:80])
        shown[-1] = {"role": "assistant",
                     "content": render.error_html("internal error; the server log has the details")}
        yield question, shown, gr.update(), turns, conv, gr.update()
        return
    if answer is None:
        return
    turns.append({"question": question, "answer": answer.to_dict()})
    conv, problem = _save(service, conv, question, answer)
    shown[-1] = {"role": "assistant", "content": render.answer_html(answer, n)
                 + (render.status_html(f"Not saved: {problem}", False) if problem else "")}
    listed = gr.update(choices=choices(service), value=conv or None)
    yield "", shown, sources(service, turns), turns, conv, listed


def take_back(service: Service, turns: list[dict], conv: str) -> tuple[str, list[dict]]:
    """Remove the newest turn (to ask it again, or edit it): (its question, the turns left)."""
    turns = list(turns or [])
    if not turns:
        return "", turns
    last = turns.pop()
    if conv:
        try:
            service.conversations.drop_last_turn(conv)
        except RagError as exc:
            log.warning("the last turn was not removed from the saved conversation (%s)", exc)
    return last["question"], turns


def _save(service: Service, conv: str, question: str, answer: Answer) -> tuple[str, str]:
    """(conversation id, "" or why the turn was not saved)."""
    store = service.conversations
    try:
        if conv:
            try:
                store.add_turn(conv, question, answer)
                return conv, ""
            except ConversationNotFound:      # deleted meanwhile (another tab): start afresh
                pass
        conv = store.start(question).id
        store.add_turn(conv, question, answer)
        return conv, ""
    except RagError as exc:
        log.warning("the answer was not saved (%s)", exc)
        return conv, str(exc)
