"""The web UI (Gradio Blocks): saved chats, streamed cited answers, sources, documents.

Layout: a sidebar with the saved conversations (new, open, rename, delete); a Chat tab (the
conversation with Stop, Regenerate and Edit, example questions that ask on click, a settings
drawer, and the sources panel, which stacks under the chat on a phone); a Documents tab (the
indexed articles, upload, delete after a confirmation). Citation markers show the quoted
passage in a popover on hover or focus and, when clicked, open it under the answer and in the
sources panel; Copy and Copy as Markdown give plain text (ui/static/app.js).

All HTML comes from ui/render.py, which escapes every piece of text; the handlers are in
ui/chat.py. Expected failures (rag.errors) become a message in the chat or the documents tab;
anything else is logged on the server and shown as "internal error", never as a stack trace.
The one event a program may call through gradio_client is `/chat`
(message, mode, k, articles, from, to) -> (box, chat, sources, chat list); the session's
turns and conversation id are server-side state that no client can set.
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from ui import chat as handlers
from ui import render
from ui.service import Service
from ui.uploads import ALLOWED

STATIC = Path(__file__).resolve().parent / "static"
EXAMPLES = [
    "What does US law require?",
    "Why was Turkey removed from the F-35 programme?",
    "What did Hakan Fidan say?",
    "Summarize the articles",
]
NO_DATES = ("No indexed article states a full date (with its year), so there is nothing to "
            "filter by date.")
log = logging.getLogger("rag.serve")


def build(service: Service) -> gr.Blocks:
    modes = service.modes
    top_k = service.assistant.settings.top_k
    empty_sources = render.sources_html([], {}, {})

    with gr.Blocks(title="newsrag", fill_width=False) as demo:
        turns, conv = gr.State([]), gr.State("")
        # which chat to reopen after a reload; a fixed key, so it also survives a server restart
        # (Gradio encrypts it with a random key per process otherwise; the id is no secret)
        saved = gr.BrowserState("", storage_key="newsrag-conversation", secret="newsrag-conversation")
        with gr.Sidebar(label="Chats", open=True, elem_id="rag-sidebar", width=280):
            new = gr.Button("New chat", variant="primary", elem_id="rag-new", size="sm")
            listed = gr.Radio([], value=None, label="Saved chats", elem_id="rag-convs",
                              show_label=True)
            with gr.Accordion("Rename or delete this chat", open=False, elem_id="rag-conv-edit"):
                title = gr.Textbox(label="New title", max_lines=1, elem_id="rag-title")
                rename = gr.Button("Rename", size="sm", elem_id="rag-rename")
                drop = gr.Button("Delete chat", variant="stop", size="sm", elem_id="rag-drop")
                with gr.Row(visible=False, elem_id="rag-drop-confirm") as drop_confirm:
                    drop_yes = gr.Button("Yes, delete it", variant="stop", size="sm", elem_id="rag-drop-yes")
                    drop_no = gr.Button("Keep it", size="sm", elem_id="rag-drop-no")
            conv_status = gr.HTML(elem_id="rag-conv-status")
        gr.HTML('<div class="rag-header"><h1>newsrag</h1><p>Answers from your news articles, '
                'each sentence with its source. Runs offline.</p></div>')
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(elem_id="rag-chat", height=520, show_label=False,
                                          sanitize_html=True, latex_delimiters=[],
                                          feedback_options=None, buttons=[],
                                          placeholder="Ask about the articles in the index. "
                                                      "Answers cite their sources as [1], [2]…")
                        with gr.Row(elem_id="rag-ask-row"):
                            box = gr.Textbox(elem_id="rag-question", show_label=False, scale=5,
                                             placeholder="Ask a question…", max_lines=4,
                                             autofocus=True, submit_btn=False)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80,
                                             elem_id="rag-send")
                            stop = gr.Button("Stop", variant="secondary", scale=1, min_width=70,
                                             elem_id="rag-stop")
                        with gr.Row(elem_id="rag-turn-actions"):
                            regen = gr.Button("↻ Regenerate", size="sm", elem_id="rag-regen")
                            edit = gr.Button("✎ Edit last question", size="sm", elem_id="rag-edit")
                        with gr.Row(elem_id="rag-examples"):
                            gr.HTML('<span class="rag-try">Try:</span>', padding=False)
                            tries = [gr.Button(q, size="sm", elem_classes=["rag-example"]) for q in EXAMPLES]
                    with gr.Column(scale=2, min_width=300):
                        with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
                            mode = gr.Radio(modes, value=modes[0], label="Answer mode",
                                            info="llm: written by the model, every sentence checked "
                                                 "against its source; extractive: instant quotes."
                                            if len(modes) > 1 else
                                            "Extractive: quotes sentences. Install the local LLM "
                                            "(make setup) or set RAG_LLM_GGUF / RAG_LLM_MODEL to "
                                            "get written answers.")
                            k = gr.Slider(1, 20, value=top_k, step=1, label="Passages to read")
                            only = gr.Dropdown([], value=[], multiselect=True, label="Only these articles",
                                               elem_id="rag-filter")
                            with gr.Row(visible=False, elem_id="rag-dates") as dated:
                                since = gr.Textbox(label="From (YYYY-MM-DD)", max_lines=1, elem_id="rag-since")
                                until = gr.Textbox(label="To (YYYY-MM-DD)", max_lines=1, elem_id="rag-until")
                            no_dates = gr.HTML(f'<div class="rag-meta">{render.esc(NO_DATES)}</div>',
                                               elem_id="rag-no-dates")
                        sources = gr.HTML(empty_sources, elem_id="rag-sources", show_label=False,
                                          container=True, padding=True, max_height=640)
            with gr.Tab("Documents", id="docs"):
                table = gr.HTML(elem_id="rag-doc-table")
                with gr.Row(equal_height=False):
                    with gr.Column(min_width=300):
                        upload = gr.File(label=f"Upload articles ({', '.join(ALLOWED)}, up to "
                                               f"{service.max_upload_bytes // 2**20} MB each)",
                                         file_count="multiple", file_types=list(ALLOWED),
                                         type="filepath", elem_id="rag-upload")
                    with gr.Column(min_width=300):
                        doomed = gr.Dropdown([], label="Article to delete", elem_id="rag-delete-pick")
                        remove = gr.Button("Delete from the index", variant="stop", elem_id="rag-delete")
                        with gr.Row(visible=False, elem_id="rag-delete-confirm") as remove_confirm:
                            remove_yes = gr.Button("Yes, delete it", variant="stop", size="sm",
                                                   elem_id="rag-delete-yes")
                            remove_no = gr.Button("Cancel", size="sm", elem_id="rag-delete-no")
                status = gr.HTML(elem_id="rag-doc-status")

        # -- asking -------------------------------------------------------------------------
        def respond(message, turns, conv, mode, k, only, since, until):
            yield from handlers.respond(service, message, turns, conv, mode, k, only, since, until)

        def regenerate(turns, conv, mode, k, only, since, until):
            question, turns = handlers.take_back(service, turns, conv)
            yield from handlers.respond(service, question, turns, conv, mode, k, only, since, until)

        def edit_last(turns, conv):
            question, turns = handlers.take_back(service, turns, conv)
            return question, handlers.messages(turns), handlers.sources(service, turns), turns

        settings = [mode, k, only, since, until]
        answered = [box, chat, sources, turns, conv, listed]
        asked = [box.submit(respond, [box, turns, conv, *settings], answered, api_name="chat",
                            concurrency_limit=4),
                 send.click(respond, [box, turns, conv, *settings], answered,
                            api_visibility="private", concurrency_limit=4),
                 regen.click(regenerate, [turns, conv, *settings], answered,
                             api_visibility="private", concurrency_limit=4)]
        asked += [b.click(respond, [b, turns, conv, *settings], answered, api_visibility="private",
                          concurrency_limit=4) for b in tries]
        # the browser remembers which chat to reopen after a reload
        conv.change(lambda c: c, [conv], [saved], api_visibility="private", queue=False)
        # cancelling the event closes the answer's stream, which stops the LLM at its next token
        stop.click(None, None, None, cancels=asked, api_visibility="private")
        edit.click(edit_last, [turns, conv], [box, chat, sources, turns], api_visibility="private")

        # -- conversations ------------------------------------------------------------------
        def show(conv_id, note=""):
            conv_id, loaded, missing = handlers.opened(service, conv_id)
            note = note or missing
            return (handlers.messages(loaded), handlers.sources(service, loaded), loaded, conv_id,
                    gr.update(choices=handlers.choices(service), value=conv_id or None),
                    render.status_html(note, False) if note else "", gr.update(visible=False))

        shown = [chat, sources, turns, conv, listed, conv_status, drop_confirm]
        for trigger in (new.click, chat.clear):       # Clear: a new chat, history and sources reset
            trigger(lambda: show(""), None, shown, api_visibility="private", cancels=asked)
        listed.input(show, [listed], shown, api_visibility="private", cancels=asked)

        def restore(conv_id):
            if conv_id:
                return show(conv_id)
            # nothing to reopen: only list the chats (a question asked meanwhile is not cleared)
            keep = gr.update()
            return keep, keep, keep, keep, gr.update(choices=handlers.choices(service)), keep, keep

        demo.load(restore, [saved], shown, api_visibility="private")

        def do_rename(conv_id, new_title):
            if not conv_id:
                return gr.update(), render.status_html("Ask a question first: a chat is saved with "
                                                       "its first answer.", False), gr.update()
            try:
                renamed = service.conversations.rename(conv_id, new_title)
            except RagError as exc:
                return gr.update(), render.status_html(str(exc), False), gr.update()
            return (gr.update(choices=handlers.choices(service), value=renamed.id),
                    render.status_html(f"Renamed to “{renamed.title}”.", True), "")

        rename.click(do_rename, [conv, title], [listed, conv_status, title], api_visibility="private")
        drop.click(lambda c: gr.update(visible=bool(c)), [conv], [drop_confirm], api_visibility="private")
        drop_no.click(lambda: gr.update(visible=False), None, [drop_confirm], api_visibility="private")

        def do_drop(conv_id):
            note = ""
            try:
                service.conversations.delete(conv_id)
            except RagError as exc:
                note = str(exc)
            return show("", note)

        drop_yes.click(do_drop, [conv], shown, api_visibility="private", cancels=asked)

        # -- documents ----------------------------------------------------------------------
        def listing():
            docs = service.docs()
            labels = [(render.doc_label(d.title, d.doc_id), d.doc_id) for d in docs]
            has_dates = any(d.date and not d.date.startswith("-") for d in docs)
            return (render.documents_html(docs, str(service.uploads_dir) + "/"),
                    gr.update(choices=labels, value=None), gr.update(choices=labels),
                    gr.update(visible=has_dates), gr.update(visible=not has_dates))

        def add_files(paths, progress=gr.Progress()):
            keep = gr.update()
            yield "", keep, keep, keep, keep, keep, keep    # the last upload's message goes at once
            lines = _ingest_files(service, paths or [], progress)
            yield (render.status_html(" ".join(m for m, _ in lines), all(ok for _, ok in lines)),
                   None, *listing())

        def confirm_delete(doc_id):
            if not doc_id:
                return render.status_html("Pick an article to delete first.", False), gr.update(visible=False)
            return (render.status_html(f"Delete {doc_id} from the index? Its passages can no longer "
                                       "be cited; an uploaded file is removed too.", False),
                    gr.update(visible=True))

        def delete(doc_id):
            hide = gr.update(visible=False)
            if not doc_id:
                return render.status_html("Pick an article to delete first.", False), hide, *listing()
            try:
                service.delete(doc_id)
            except RagError as exc:
                return render.status_html(str(exc), False), hide, *listing()
            return render.status_html(f"Deleted {doc_id}.", True), hide, *listing()

        docs_shown = [table, doomed, only, dated, no_dates]
        upload.upload(add_files, [upload], [status, upload, *docs_shown], api_visibility="private",
                      concurrency_limit=1, show_progress="full")
        remove.click(confirm_delete, [doomed], [status, remove_confirm], api_visibility="private")
        remove_no.click(lambda: ("", gr.update(visible=False)), None, [status, remove_confirm],
                        api_visibility="private")
        remove_yes.click(delete, [doomed], [status, remove_confirm, *docs_shown],
                         api_visibility="private", concurrency_limit=1)
        doomed.change(lambda: gr.update(visible=False), None, [remove_confirm], api_visibility="private")
        demo.load(listing, None, docs_shown, api_visibility="private")
    return demo


def head() -> str:
    return f"<style>{(STATIC / 'app.css').read_text(encoding='utf-8')}</style>"


def js() -> str:
    return (STATIC / "app.js").read_text(encoding="utf-8")


def _ingest_files(service: Service, paths: list[str], progress) -> list[tuple[str, bool]]:
    lines = []
    for i, path in enumerate(paths):
        name = Path(path).name
        progress((i, len(paths)), desc=f"ingesting {name}")
        try:
            result = service.upload(Path(path), name)
        except RagError as exc:
            lines.append((f"Not added: {exc}", False))
            continue
        except OSError as exc:
            lines.append((f"Not added: {name}: {exc.strerror or exc}", False))
            continue
        verb = "Replaced" if result.replaced else "Added"
        chunks = f"{result.chunks} chunk{'s' if result.chunks != 1 else ''}"
        lines.append((f"{verb} {result.name} as {result.doc_id} ({chunks}): "
                      "ask about it in the Chat tab.", True))
    progress((len(paths), len(paths)), desc="done")
    return lines or [("No file received.", False)]
