"""Saved conversations: a title and its turns (a question and its Answer, citations included).

They live in one SQLite file, RAG_HOME/conversations.sqlite3, beside the index, so they survive
a reload of the page and a restart of the server. Every call opens its own connection, so the
web UI's and the API's threads (and other processes) can share the file; SQLite's own locking
keeps each write whole. Ids are random (uuid4 hex); a malformed id is simply not found.

It does not know users: everyone who may use the server sees the same conversations (the
server's token decides who that is, see ui/auth.py).
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from rag.errors import ConversationNotFound, ConversationStoreError
from rag.records import Answer

FILE_NAME = "conversations.sqlite3"
TITLE_CHARS = 80
_ID = re.compile(r"[0-9a-f]{32}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, position));
"""


@dataclass(frozen=True)
class Turn:
    question: str
    answer: Answer
    at: str                      # ISO time (UTC) it was saved

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.answer.to_dict(), "at": self.at}


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created_at: str
    updated_at: str
    turns: tuple[Turn, ...] = ()   # empty in listings

    def to_dict(self, *, with_turns: bool = True) -> dict:
        out = {"id": self.id, "title": self.title, "created_at": self.created_at,
               "updated_at": self.updated_at}
        if with_turns:
            out["turns"] = [t.to_dict() for t in self.turns]
        return out


class Conversations:
    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILE_NAME

    def list(self, limit: int = 200) -> list[Conversation]:
        """The newest first (by last change), without their turns."""
        with self._db() as db:
            rows = db.execute("SELECT id, title, created_at, updated_at FROM conversations "
                              "ORDER BY updated_at DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, conversation_id: str) -> Conversation:
        with self._db() as db:
            row = self._row(db, conversation_id)
            turns = db.execute("SELECT question, answer, at FROM turns WHERE conversation_id = ? "
                               "ORDER BY position", (conversation_id,)).fetchall()
        return Conversation(*row, turns=tuple(_turn(*t) for t in turns))

    def start(self, title: str) -> Conversation:
        """A new conversation, titled with `title` shortened to one line."""
        now = _now()
        conversation = Conversation(uuid.uuid4().hex, _title(title), now, now)
        with self._db() as db:
            db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?)",
                       (conversation.id, conversation.title, now, now))
        return conversation

    def add_turn(self, conversation_id: str, question: str, answer: Answer) -> Turn:
        turn = Turn(question, answer, _now())
        with self._db() as db:
            self._row(db, conversation_id)
            db.execute("INSERT INTO turns SELECT ?, COALESCE(MAX(position), -1) + 1, ?, ?, ? "
                       "FROM turns WHERE conversation_id = ?",
                       (conversation_id, question, json.dumps(answer.to_dict()), turn.at,
                        conversation_id))
            db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (turn.at, conversation_id))
        return turn

    def drop_last_turn(self, conversation_id: str) -> Turn | None:
        """Remove and return the newest turn (to regenerate or edit it); None when there is none."""
        with self._db() as db:
            self._row(db, conversation_id)
            row = db.execute("SELECT position, question, answer, at FROM turns WHERE conversation_id = ? "
                             "ORDER BY position DESC LIMIT 1", (conversation_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM turns WHERE conversation_id = ? AND position = ?",
                       (conversation_id, row[0]))
        return _turn(*row[1:])

    def rename(self, conversation_id: str, title: str) -> Conversation:
        with self._db() as db:
            self._row(db, conversation_id)
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (_title(title), conversation_id))
        return self.get(conversation_id)

    def delete(self, conversation_id: str) -> None:
        with self._db() as db:
            self._row(db, conversation_id)
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- helpers ----------------------------------------------------------------------------
    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        fix = f"move {self.path} aside to start with no saved conversations"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10)) as db:
                db.execute("PRAGMA foreign_keys = ON")
                with db:
                    db.executescript(_SCHEMA)
                with db:              # one transaction: committed whole, or rolled back
                    yield db
        except sqlite3.DatabaseError as exc:
            raise ConversationStoreError(f"the saved conversations cannot be used ({exc}): {fix}") from None
        except OSError as exc:
            raise ConversationStoreError(f"the saved conversations cannot be opened "
                                         f"({exc.strerror or exc}): check that {self.path.parent} "
                                         "is writable") from None

    @staticmethod
    def _row(db: sqlite3.Connection, conversation_id: str) -> tuple:
        row = None
        if isinstance(conversation_id, str) and _ID.fullmatch(conversation_id):
            row = db.execute("SELECT id, title, created_at, updated_at FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
        if row is None:
            raise ConversationNotFound(f"no saved conversation {str(conversation_id)[:40]!r}: "
                                       "list them with GET /v1/conversations or the sidebar")
        return row


def _turn(question: str, answer: str, at: str) -> Turn:
    return Turn(question, Answer.from_dict(json.loads(answer)), at)


def _title(text: str) -> str:
    flat = " ".join(str(text).split()) or "New chat"
    return flat if len(flat) <= TITLE_CHARS else flat[:TITLE_CHARS - 1].rstrip() + "…"


_last = [datetime.min.replace(tzinfo=timezone.utc)]


def _now() -> str:
    """The time (UTC, microseconds), later than any this process gave before: two changes in
    the same instant still list in the order they were made."""
    now = max(datetime.now(timezone.utc), _last[0] + timedelta(microseconds=1))
    _last[0] = now
    return now.isoformat(timespec="microseconds")
