"""`rag chat`'s line editing and question history (GNU readline, kept in the home)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


class QuestionHistory:
    """Line editing and Up/Down recall for `rag chat` through the stdlib's GNU readline (which
    `input()` then uses): the questions of earlier chats are loaded from `path`, this chat's are
    appended to it at exit, the file keeps the last LINES. A file that cannot be read or written
    costs one warning on stderr, never the chat. Only for a terminal; knows nothing of answers."""

    LINES = 1000

    @classmethod
    def on_terminal(cls, path: Path) -> QuestionHistory | None:
        """The history, when stdin is a terminal and this Python has readline; else None."""
        if not sys.stdin.isatty():
            return None
        try:
            import readline   # imported only here: on import it takes over input() for good
        except ImportError:
            return None
        return cls(path, readline)

    def __init__(self, path: Path, readline) -> None:
        self.path, self.added, self.warned, self._rl = path, 0, False, readline
        readline.set_auto_history(False)        # questions only: no blank lines, no duplicates
        readline.set_history_length(self.LINES)
        readline.clear_history()
        try:
            readline.read_history_file(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self._warn("read", exc)

    def add(self, question: str) -> None:
        n = self._rl.get_current_history_length()
        if n and self._rl.get_history_item(n) == question:
            return
        self._rl.add_history(question)
        self.added += 1

    def save(self) -> None:
        """Append this chat's questions (another chat's, saved meanwhile, are kept), then cut the
        file to its last LINES."""
        if not self.added:
            return
        try:
            self.path.touch()                   # readline appends only to a file that exists
            self._rl.append_history_file(min(self.added, self.LINES), self.path)
        except OSError as exc:
            self._warn("write", exc)

    def _warn(self, verb: str, exc: OSError) -> None:
        if not self.warned:
            self.warned = True
            click.echo(f"warning: cannot {verb} the chat history {self.path} "
                       f"({exc.strerror or exc}); going on without it", err=True)
