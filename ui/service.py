"""The server's one Assistant, shared by the web UI and the HTTP API.

The Assistant does its own locking, across threads and processes (index/lock.py): questions run
side by side, and during an upload, a delete, or an ingest run from another process, they wait
only for the moments in which the writer switches what they see; they then see the new index
(another process's writes are noticed and the index reopened). Uploads and deletes hold the
home's writer lock, so they never interleave with each other or with a `rag ingest`.

Uploads are crash-safe: the file is first copied beside the uploads folder, then switched into
place with one rename (the file it replaces stays hard-linked as a backup until the ingest has
published), so a crash leaves the earlier file or the new one, and uploading again converges.

Everything goes through rag's public API (Assistant, records, errors); this module knows
nothing of Gradio or FastAPI.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from index import faults
from rag.conversations import Conversations
from rag.errors import BadDocument, DocumentNotFound, RagError
from rag.records import Answer
from ui.uploads import DEFAULT_MAX_BYTES, check_size, safe_name

log = logging.getLogger("rag.serve")


@dataclass(frozen=True)
class UploadResult:
    name: str          # the stored file name
    doc_id: str
    chunks: int
    replaced: bool     # an earlier upload with this name was replaced


class Service:
    def __init__(self, assistant, *, max_upload_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.assistant = assistant
        self.uploads_dir = Path(assistant.settings.home).resolve() / "uploads"
        self.staging_dir = self.uploads_dir.parent / ".upload-tmp"
        self.max_upload_bytes = max_upload_bytes
        self.conversations = Conversations(assistant.settings.home)

    # -- reads ----------------------------------------------------------------------------
    def warm(self) -> str:
        """Load the model and open the index now, so the first question is fast and concurrent
        questions find everything open. Returns "" or why the index cannot answer yet."""
        return self._warm()

    def ask(self, question: str, **kwargs) -> Answer:
        return self.assistant.ask(question, **kwargs)

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        return self.assistant.stream(question, **kwargs)

    def docs(self) -> list:
        return self._docs()

    def texts(self, doc_ids: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Cleaned text and date of each article (missing ones are left out)."""
        texts, dates = {}, {}
        for doc_id in dict.fromkeys(doc_ids):
            try:
                doc = self.assistant.document(doc_id)
            except DocumentNotFound:
                continue
            texts[doc_id], dates[doc_id] = doc.text, doc.date
        return texts, dates

    @property
    def modes(self) -> list[str]:
        """Answer modes a user may pick: the LLM only when one is configured or installed."""
        return ["llm", "extractive"] if self.assistant.answer_mode("auto") == "llm" else ["extractive"]

    def warm_llm(self) -> str:
        """Load the LLM now (the local model: once per process), so the first answer does not
        wait for it. Returns "" or why no LLM can answer (answers are then extractive)."""
        if "llm" not in self.modes:
            return ""
        try:
            self.assistant.llm()
        except RagError as exc:
            return str(exc)
        return ""

    # -- writes ---------------------------------------------------------------------------
    def upload(self, source: Path, name: str) -> UploadResult:
        """Store an uploaded file under RAG_HOME/uploads/ and ingest it. A file that is refused
        (type, size, name, unreadable, id taken by another article) leaves nothing stored, and
        a refused replacement keeps the earlier upload. A server killed half-way leaves at most a
        file that no article comes from, which the next start removes (see `recover`)."""
        stored = safe_name(name)
        check_size(Path(source), stored, self.max_upload_bytes)
        target = self.uploads_dir / stored
        doc_id = target.stem
        with self.assistant.writing():
            known = {d.doc_id: d for d in self._docs()}
            if doc_id in known and Path(known[doc_id].source).resolve() != target:
                raise BadDocument(f"{stored}: an article with id {doc_id!r} is already indexed "
                                  f"(from {Path(known[doc_id].source).name}); rename the file")
            shutil.rmtree(self.staging_dir, ignore_errors=True)     # what a crashed upload left
            self.staging_dir.mkdir(parents=True)
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            incoming, backup = self.staging_dir / stored, None
            shutil.copyfile(source, incoming)
            _fsync(incoming)
            faults.point("upload.copied")
            if target.exists():
                backup = self.staging_dir / f"{stored}.old"
                os.link(target, backup)
            try:
                os.replace(incoming, target)
                faults.point("upload.replaced")
                report = self.assistant.ingest([target])
                if report.skipped:
                    raise BadDocument(report.skipped[0][1])
                faults.point("upload.ingested")
            except BaseException:
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink(missing_ok=True)
                raise
            finally:
                shutil.rmtree(self.staging_dir, ignore_errors=True)
            chunks = next((d.n_chunks for d in self._docs() if d.doc_id == doc_id), 0)
        return UploadResult(stored, doc_id, chunks, replaced=backup is not None)

    def recover(self) -> list[str]:
        """Clean up after a server killed during an upload: a file a replacement was overwriting
        is put back (and re-indexed), the staging folder goes, and so does any file in uploads/
        that no indexed article comes from (it never reached the index). Returns the names
        removed. Call it at start, before serving."""
        with self.assistant.writing():
            restored = []
            for backup in sorted(self.staging_dir.glob("*.old")):   # a replacement cut off:
                target = self.uploads_dir / backup.name[:-len(".old")]  # the earlier file is back
                os.replace(backup, target)
                restored.append(target)
            shutil.rmtree(self.staging_dir, ignore_errors=True)
            if restored:    # and the index made to match it again (nothing to do when it does)
                try:
                    self.assistant.ingest(restored)
                except RagError as exc:
                    log.warning("the restored uploads were not re-indexed (%s)", exc)
        if not self.uploads_dir.is_dir():
            return []
        removed = []
        with self.assistant.writing():
            try:
                sources = {Path(d.source).resolve() for d in self.assistant.docs()}
            except RagError as exc:   # no index, or it cannot be read: the files may be all there is
                log.warning("uploads not checked (%s)", exc)
                return []
            for path in sorted(self.uploads_dir.iterdir()):
                if path.is_file() and path.resolve() not in sources:
                    path.unlink()
                    removed.append(path.name)
        return removed

    def delete(self, doc_id: str) -> None:
        """Remove an article from the index; an uploaded article's file is removed first (so a
        crash in between never leaves a file that would bring the article back)."""
        with self.assistant.writing():
            source = next((d.source for d in self._docs() if d.doc_id == doc_id), None)
            if source is None:
                raise DocumentNotFound(f"no document {doc_id!r} in the index: `rag docs` lists the ids")
            if Path(source).resolve().parent == self.uploads_dir:
                Path(source).unlink(missing_ok=True)
            self.assistant.delete(doc_id)

    # -- helpers ----------------------------------------------------------------------------
    def _docs(self) -> list:
        try:
            return self.assistant.docs()
        except RagError:
            return []

    def _warm(self) -> str:
        try:
            self.assistant.retrieve("warm up", k=1)
        except RagError as exc:
            return str(exc)
        return ""


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
