"""The library's typed errors.

Every expected failure is one of these. The messages are written for people: they say what went
wrong and what to do. Only the CLI and the UI turn them into output; the library never prints.
This module imports nothing, so any room (index/, rag/, ui/, evals/) can raise them cheaply.
"""


class RagError(Exception):
    """Base class: an expected failure with a one-line message that says what to do."""


class ConfigError(RagError):
    """A setting has a bad value."""


class BadQuestion(RagError):
    """The question is empty, too long or otherwise unusable."""


class BadDocument(RagError):
    """A file could not be read as text (binary, bad encoding, empty, unsupported type)."""


class IndexNotBuilt(RagError):
    """Nothing has been ingested into this home yet."""


class IndexMismatch(RagError):
    """The index was built with other settings (embedding model, chunking, schema)."""


class IndexCorrupted(RagError):
    """The catalog or lexical index on disk cannot be read."""


class IndexDiverged(RagError):
    """The catalog, the vector store and the lexical index disagree (`rag check` says how)."""


class StoreUnavailable(RagError):
    """The Chroma server cannot be reached."""


class EmbeddingUnavailable(RagError):
    """The embedding model or endpoint cannot be loaded or reached."""


class LLMUnavailable(RagError):
    """The OpenAI-compatible LLM endpoint failed (unreachable, bad key, timeout, bad reply)."""


class DocumentNotFound(RagError):
    """No document with that id is in the index."""


class ConversationNotFound(RagError):
    """No saved conversation with that id."""


class ConversationStoreError(RagError):
    """The saved conversations' file cannot be read or written."""
