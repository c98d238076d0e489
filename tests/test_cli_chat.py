"""`rag chat` in a real pseudo-terminal: line editing and a history of questions that outlives the
chat (GNU readline through input()), and what happens when the history file cannot be used."""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

import pytest

from conftest import BIN, write_articles
from test_cli import rag

QUESTION = "When was the Blue River dam finished?"
UP = "\x1b[A"
PROMPT = r"(?m)^> "      # the chat's prompt at the start of a line: one more after each answer


@pytest.fixture(scope="module")
def tiny_home(tmp_path_factory):
    folder = write_articles(tmp_path_factory.mktemp("chat-articles"))
    home = tmp_path_factory.mktemp("chat-home")
    result = rag("ingest", str(folder), home=home)
    assert result.returncode == 0, result.stderr
    return home


class Terminal:
    """`rag chat` with stdin, stdout and stderr on a pseudo-terminal; with `stderr_apart`, stderr
    goes to a pipe (then the prompt is on the terminal only if readline prints it)."""

    def __init__(self, home, stderr_apart: bool = False):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RAG_", "OPENAI_")) or k in ("RAG_MODEL_CACHE", "RAG_LLM_GGUF")}
        env.update(TERM="xterm", INPUTRC=os.devnull)     # the developer's ~/.inputrc stays out
        self.fd, child = os.openpty()
        self.process = subprocess.Popen([str(BIN / "rag"), "--home", str(home), "chat", "--mode", "extractive"],
                                        stdin=child, stdout=child, env=env,
                                        stderr=subprocess.PIPE if stderr_apart else child,
                                        start_new_session=True)
        os.close(child)
        self.seen = ""

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60) -> str:
        """Read until `pattern` has been printed `count` times; everything printed so far."""
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.seen)) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"waited {timeout}s for {pattern!r} x{count}; the terminal shows:\n{self.seen}"
            if select.select([self.fd], [], [], left)[0]:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:         # the chat has ended and closed the terminal
                    data = b""
                assert data, f"the chat ended before {pattern!r} x{count}:\n{self.seen}"
                self.seen += data.decode(errors="replace").replace("\r\n", "\n")
        return self.seen

    def quit(self) -> str:
        """Ctrl-D at the prompt; the chat's stderr, if apart."""
        self.type("\x04")
        try:
            _, err = self.process.communicate(timeout=30)
        finally:
            os.close(self.fd)
        assert self.process.returncode == 0, (err or b"").decode() + self.seen
        return (err or b"").decode()


def answers(screen: str) -> int:
    return screen.count("\nSources:\n")


def test_up_arrow_recalls_the_last_question_in_this_chat_and_in_the_next(tiny_home):
    history = tiny_home / "chat_history"
    history.unlink(missing_ok=True)

    first = Terminal(tiny_home)
    first.wait_for(PROMPT)
    first.type(QUESTION + "\r")
    first.wait_for(PROMPT, count=2)
    assert answers(first.seen) == 1 and "2021" in first.seen
    first.type(UP + "\r")                           # the same question again, recalled
    screen = first.wait_for(PROMPT, count=3)
    first.quit()
    assert answers(screen) == 2, screen
    assert screen.count(f"> {QUESTION}\n") == 2 and "^[[A" not in screen, screen
    assert "error" not in screen and "warning" not in screen, screen
    assert history.read_text().splitlines() == [QUESTION]  # once: a recalled question is no new line

    second = Terminal(tiny_home)                    # a new chat: the file brings the question back
    second.wait_for(PROMPT)
    second.type(UP + "\r")
    screen = second.wait_for(PROMPT, count=2)
    second.quit()
    assert answers(screen) == 1 and f"> {QUESTION}\n" in screen and "^[[A" not in screen, screen


def test_a_history_file_that_cannot_be_used_costs_one_warning_not_the_chat(tiny_home, tmp_path):
    history = tiny_home / "chat_history"
    history.unlink(missing_ok=True)
    history.mkdir()                                 # neither readable nor writable as a file
    try:
        chat = Terminal(tiny_home, stderr_apart=True)
        chat.wait_for(PROMPT)
        chat.type(QUESTION + "\r")
        screen = chat.wait_for(PROMPT, count=2)
        err = chat.quit()
    finally:
        history.rmdir()
    assert answers(screen) == 1
    assert err.count("\n") == 1 and err.startswith("warning: cannot read the chat history"), err
    assert str(history) in err and "Traceback" not in err


def test_chat_from_a_pipe_keeps_no_history(tiny_home):
    history = tiny_home / "chat_history"
    history.unlink(missing_ok=True)
    result = rag("chat", "--mode", "extractive", home=tiny_home, input=QUESTION + "\n\n")
    assert result.returncode == 0, result.stderr
    assert "2021" in result.stdout and not history.exists()
