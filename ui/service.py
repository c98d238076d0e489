"""The server's one Assistant, shared by the web UI and the HTTP API.

The Assistant is not safe for an ingest or delete running beside a question, so every call goes
through a readers-writer lock: questions and listings run side by side, uploads and deletes run
alone. A streamed answer holds the read lock only while it computes its next piece, never while
it waits for the client to take it, so a client that goes away cannot stall writers.

Everything goes through rag's public API (Assistant, records, errors); this module knows
nothing of Gradio or FastAPI.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from rag.errors import BadDocument, DocumentNotFound, RagError
from rag.records import Answer
from ui.uploads import DEFAULT_MAX_BYTES, check_size, safe_name


class RWLock:
    """Many readers or one writer; a waiting writer goes before new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self):
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self):
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


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
        self.max_upload_bytes = max_upload_bytes
        self.lock = RWLock()

    # -- reads ----------------------------------------------------------------------------
    def warm(self) -> str:
        """Load the model and open the index now, so the first question is fast and concurrent
        questions find everything open. Returns "" or why the index cannot answer yet."""
        with self.lock.write():
            return self._warm()

    def ask(self, question: str, **kwargs) -> Answer:
        with self.lock.read():
            return self.assistant.ask(question, **kwargs)

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        """Assistant.stream, with the read lock held only while each piece is computed."""
        pieces = self.assistant.stream(question, **kwargs)
        try:
            while True:
                with self.lock.read():
                    try:
                        piece = next(pieces)
                    except StopIteration:
                        return
                yield piece
        finally:
            pieces.close()

    def docs(self) -> list:
        with self.lock.read():
            try:
                return self.assistant.docs()
            except RagError:
                return []

    def texts(self, doc_ids: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
        """Cleaned text and date of each article (missing ones are left out)."""
        texts, dates = {}, {}
        with self.lock.read():
            for doc_id in dict.fromkeys(doc_ids):
                try:
                    doc = self.assistant.document(doc_id)
                except DocumentNotFound:
                    continue
                texts[doc_id], dates[doc_id] = doc.text, doc.date
        return texts, dates

    @property
    def modes(self) -> list[str]:
        """Answer modes a user may pick: the LLM only when one is configured."""
        return ["llm", "extractive"] if self.assistant.settings.llm_configured else ["extractive"]

    # -- writes ---------------------------------------------------------------------------
    def upload(self, source: Path, name: str) -> UploadResult:
        """Store an uploaded file under RAG_HOME/uploads/ and ingest it. A file that is refused
        (type, size, name, unreadable, id taken by another article) leaves nothing stored, and
        a refused replacement keeps the earlier upload."""
        stored = safe_name(name)
        check_size(Path(source), stored, self.max_upload_bytes)
        target = self.uploads_dir / stored
        doc_id = target.stem
        with self.lock.write():
            known = {d.doc_id: d for d in self._docs()}
            if doc_id in known and Path(known[doc_id].source).resolve() != target:
                raise BadDocument(f"{stored}: an article with id {doc_id!r} is already indexed "
                                  f"(from {Path(known[doc_id].source).name}); rename the file")
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            backup = None
            if target.exists():
                backup = Path(tempfile.mkdtemp(dir=self.uploads_dir.parent)) / stored
                shutil.move(target, backup)
            try:
                shutil.copyfile(source, target)
                report = self.assistant.ingest([target])
                if report.skipped:
                    raise BadDocument(report.skipped[0][1])
            except BaseException:
                target.unlink(missing_ok=True)
                if backup is not None:
                    shutil.move(backup, target)
                self._warm()
                raise
            finally:
                if backup is not None:
                    shutil.rmtree(backup.parent, ignore_errors=True)
            chunks = next((d.n_chunks for d in self._docs() if d.doc_id == doc_id), 0)
            self._warm()
        return UploadResult(stored, doc_id, chunks, replaced=backup is not None)

    def delete(self, doc_id: str) -> None:
        """Remove an article from the index; an uploaded article's file is removed too."""
        with self.lock.write():
            source = next((d.source for d in self._docs() if d.doc_id == doc_id), None)
            self.assistant.delete(doc_id)
            if source and Path(source).resolve().parent == self.uploads_dir:
                Path(source).unlink(missing_ok=True)
            self._warm()

    # -- inside the lock ------------------------------------------------------------------
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
