"""Question answering with exact citations over a news corpus.

    from rag import Assistant
    assistant = Assistant()
    assistant.ingest()
    answer = assistant.ask("What does US law require?")

Names are imported lazily so `import rag` stays cheap (the CLI's cold start depends on it).
"""

from __future__ import annotations

__all__ = ["Assistant", "Answer", "Citation", "Conversations", "Hit", "Settings", "errors"]


def __getattr__(name: str):
    if name == "Assistant":
        from rag.assistant import Assistant

        return Assistant
    if name in ("Answer", "Citation", "Hit"):
        from rag import records

        return getattr(records, name)
    if name == "Conversations":
        from rag.conversations import Conversations

        return Conversations
    if name == "Settings":
        from rag.settings import Settings

        return Settings
    if name == "errors":
        from rag import errors

        return errors
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
