"""The web UI (Gradio Blocks): chat with streamed, cited answers; sources; documents; settings.

Layout: a Chat tab (the conversation, example questions, a settings drawer and the sources
panel, which stacks under the chat on a phone) and a Documents tab (the indexed articles,
upload, delete). Citation markers in an answer show the quoted passage on hover and, when
clicked, open it under the answer and in the sources panel (ui/static/app.js).

All HTML comes from ui/render.py, which escapes every piece of text. Expected failures
(rag.errors) become a message in the chat or the documents tab; anything else is logged on the
server and shown as "internal error", never as a stack trace. The one event a program may call
through gradio_client is `/chat` (message, chat, mode, k, articles) -> (box, chat, sources).
"""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from rag.errors import RagError
from rag.records import Answer
from ui import render
from ui.service import Service
from ui.uploads import ALLOWED

STATIC = Path(__file__).resolve().parent / "static"
EXAMPLES = [
    "What does US law require?",
    "Why was Turkey removed from the F-35 programme?",
    "What did Hakan Fidan say?",
]
log = logging.getLogger("rag.serve")


def build(service: Service) -> gr.Blocks:
    modes = service.modes
    top_k = service.assistant.settings.top_k

    with gr.Blocks(title="newsrag", fill_width=False) as demo:
        history = gr.State([])
        gr.HTML('<div class="rag-header"><h1>newsrag</h1><p>Answers from your news articles, '
                'each sentence with its source. Runs offline.</p></div>')
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat = gr.Chatbot(elem_id="rag-chat", height=520, show_label=False,
                                          sanitize_html=True, latex_delimiters=[],
                                          feedback_options=None, buttons=["copy"],
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
                        gr.Examples(EXAMPLES, inputs=[box], label="Try")
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
                        sources = gr.HTML(render.sources_html(None, {}, {}, 0), elem_id="rag-sources",
                                          show_label=False, container=True, padding=True,
                                          max_height=640)
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
                status = gr.HTML(elem_id="rag-doc-status")

        def respond(message, messages, mode, k, only, turns):
            yield from _respond(service, message, messages, mode, k, only, turns)

        ask_inputs = [box, chat, mode, k, only, history]
        ask_outputs = [box, chat, sources, history]
        asked = [box.submit(respond, ask_inputs, ask_outputs, api_name="chat", concurrency_limit=4),
                 send.click(respond, ask_inputs, ask_outputs, api_visibility="private", concurrency_limit=4)]
        # cancelling the event closes the answer's stream, which stops the LLM at its next token
        stop.click(None, None, None, cancels=asked, api_visibility="private")

        def listing():
            docs = service.docs()
            choices = [(f"{d.title or d.doc_id} ({d.doc_id})"[:120], d.doc_id) for d in docs]
            return (render.documents_html(docs, str(service.uploads_dir) + "/"),
                    gr.update(choices=choices, value=None), gr.update(choices=choices))

        def add_files(paths, progress=gr.Progress()):
            lines = _ingest_files(service, paths or [], progress)
            return (render.status_html(" ".join(m for m, _ in lines), all(ok for _, ok in lines)),
                    None, *listing())

        def delete(doc_id):
            if not doc_id:
                return render.status_html("Pick an article to delete first.", False), *listing()
            try:
                service.delete(doc_id)
            except RagError as exc:
                return render.status_html(str(exc), False), *listing()
            return render.status_html(f"Deleted {doc_id}.", True), *listing()

        listed = [table, doomed, only]
        upload.upload(add_files, [upload], [status, upload, *listed], api_visibility="private",
                      concurrency_limit=1, show_progress="full")
        remove.click(delete, [doomed], [status, *listed], api_visibility="private",
                     concurrency_limit=1)
        demo.load(listing, None, listed, api_visibility="private")
    return demo


def head() -> str:
    return f"<style>{(STATIC / 'app.css').read_text(encoding='utf-8')}</style>"


def js() -> str:
    return (STATIC / "app.js").read_text(encoding="utf-8")


def _respond(service: Service, message, messages, mode, k, only, turns):
    messages, turns = list(messages or []), list(turns or [])
    question = (message or "").strip()
    if not question:
        yield "", messages, gr.update(), turns
        return
    turn = 1 + sum(1 for m in messages if _role(m) == "user")
    messages.append({"role": "user", "content": render.user_html(question)})
    messages.append({"role": "assistant", "content": render.pending_html("…")})
    yield "", messages, gr.update(), turns
    answer, text = None, ""
    try:
        for piece in service.stream(question, history=turns, k=int(k), doc_ids=list(only or []) or None,
                                    mode=mode or None):
            if isinstance(piece, Answer) and piece.draft:
                messages[-1] = {"role": "assistant", "content": render.draft_html(piece, turn)}
                yield "", messages, gr.update(), turns
            elif isinstance(piece, Answer):
                answer = piece
            else:
                text += piece
                messages[-1] = {"role": "assistant", "content": render.pending_html(text)}
                yield "", messages, gr.update(), turns
    except RagError as exc:
        messages[-1] = {"role": "assistant", "content": render.error_html(str(exc))}
        yield "", messages, gr.update(), turns
        return
    except Exception:
        log.exception("answering %r failed", question[:80])
        messages[-1] = {"role": "assistant",
                        "content": render.error_html("internal error; the server log has the details")}
        yield "", messages, gr.update(), turns
        return
    if answer is None:
        return
    texts, dates = service.texts([c.doc_id for c in answer.citations])
    messages[-1] = {"role": "assistant", "content": render.answer_html(answer, turn)}
    turns.append((question, answer.text))
    yield "", messages, render.sources_html(answer, texts, dates, turn), turns


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


def _role(message) -> str:
    return message.get("role", "") if isinstance(message, dict) else getattr(message, "role", "")
