"""The vector store seam, on Chroma: embedded (persistent, in the home directory) or a server.

Both modes are the same Chroma collection API, so one adapter serves both; only the client
differs. Embeddings are always passed in (Chroma is never asked to embed, which would make it
download a model). The collection holds one vector per chunk; `query` returns chunks by cosine
similarity. The index stores each vector under `catalog.vector_id` (chunk id @ content hash).

The collection is stamped at creation with the id of the index it belongs to (`stamp`), so an
emptied, replaced or foreign store is told apart from the one the index was built on. Embedded
Chroma keeps what it read in memory: `reopen` reads what another process wrote since.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import numpy as np

from index.records import Chunk
from rag.errors import IndexMismatch, StoreUnavailable

_BATCH = 2000
_CLIENTS = threading.Lock()   # building an embedded client, or forgetting the cached ones


class ChromaStore:
    def __init__(self, *, path: Path | None = None, url: str = "", collection: str = "chunks",
                 identity: dict | None = None, lazy: bool = False, stamp: str = "",
                 create: bool = True, fix: str = "`rag ingest --rebuild`", fresh: bool = False) -> None:
        """Connect now, or with `lazy` at first use (so work that never touches the vectors,
        such as re-ingesting an unchanged corpus, never imports chromadb). A missing collection
        is created (stamped with `stamp`) only with `create`; a reader never creates one.
        `fresh`: read the folder afresh rather than through this process's cached client (a
        writer must, or it would write on top of what it read before another process wrote)."""
        self.where = url or str(path)
        self.name = collection
        self._path, self._url, self._name, self._identity = path, url, collection, identity
        self._stamp, self._create, self._fix, self._fresh = stamp, create, fix, fresh
        self._conn = None
        self._connecting = threading.Lock()   # questions on many threads connect once
        if not lazy:
            self._connect()

    @property
    def _client(self):
        return self._connect()[0]

    def _connect(self):
        with self._connecting:
            if self._conn is None:
                self._conn = self._open()
            return self._conn

    def _open(self):
        from chromadb.errors import NotFoundError

        if self._fresh:
            self._fresh = False
            self._forget()
        client = _server_client(self._url) if self._url else _embedded_client(self._path)
        metadata = {"hnsw:space": "cosine"}
        if self._identity:
            metadata["identity"] = json.dumps(self._identity, sort_keys=True)
        if self._stamp:
            metadata["index_id"] = self._stamp
        try:
            if self._create:
                col = client.get_or_create_collection(self._name, metadata=metadata, embedding_function=None)
            else:
                col = client.get_collection(self._name, embedding_function=None)
        except NotFoundError:
            return client, None
        except Exception as exc:  # chromadb raises many types for a dead server
            raise _unavailable(self.where, exc) from None
        stored = (col.metadata or {}).get("identity")
        if self._identity and stored and json.loads(stored) != self._identity:
            raise IndexMismatch(f"Chroma collection {self._name!r} at {self.where} was built with "
                                f"{stored}: rebuild with {self._fix} or use another collection (RAG_COLLECTION)")
        return client, col

    # -- the collection itself ------------------------------------------------------------
    def exists(self) -> bool:
        return self._connect()[1] is not None

    @property
    def stamp(self) -> str:
        """The id of the index this collection was created for ("" if none, or no collection)."""
        col = self._connect()[1]
        return str((col.metadata or {}).get("index_id", "")) if col is not None else ""

    def fingerprint(self) -> str:
        """For embedded Chroma, an id of its database file that changes when the folder is
        deleted or replaced ("" for a server, or no folder); read without importing chromadb."""
        if self._url or self._path is None:
            return ""
        try:
            st = (self._path / "chroma.sqlite3").stat()
        except OSError:
            return ""
        return f"{self._name}:{st.st_dev}:{st.st_ino}"

    def reopen(self) -> None:
        """Forget what was read, so the next call sees what other processes wrote since. For
        embedded Chroma this drops the process's cached client for the folder (Chroma shares
        one per path), so every store on it reads afresh."""
        with self._connecting:
            self._conn = None
            self._forget()

    def _forget(self) -> None:
        if not self._url:
            from chromadb.api.shared_system_client import SharedSystemClient

            with _CLIENTS:
                for cache in (SharedSystemClient._identifier_to_system,
                              SharedSystemClient._identifier_to_refcount):
                    cache.pop(str(self._path), None)

    @property
    def _col(self):
        col = self._connect()[1]
        if col is None:
            from rag.errors import IndexDiverged

            raise IndexDiverged(f"the vector store at {self.where} has no collection {self._name!r}")
        return col

    # -- vectors --------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               versions: dict[str, str] | None = None) -> None:
        """Store one vector per chunk, under its chunk id, or with `versions` (doc_id -> content
        hash) under `vector_id(chunk_id, version)`."""
        from index.catalog import vector_id

        for i in range(0, len(chunks), _BATCH):
            part = chunks[i:i + _BATCH]
            ids = [vector_id(c.chunk_id, versions[c.doc_id]) if versions else c.chunk_id for c in part]
            self._call(self._col.upsert, ids=ids,
                       embeddings=np.asarray(vectors[i:i + _BATCH], dtype=np.float32),
                       metadatas=[{"doc_id": c.doc_id, "n": c.n} for c in part])

    def delete_document(self, doc_id: str) -> None:
        self._call(self._col.delete, where={"doc_id": doc_id})

    def delete_ids(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), _BATCH):
            self._call(self._col.delete, ids=ids[i:i + _BATCH])

    def query(self, vector: np.ndarray, n: int, doc_ids: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Up to n (chunk_id, similarity) pairs, best first."""
        if (doc_ids is not None and not doc_ids) or n <= 0:
            return []
        where = None if doc_ids is None else {"doc_id": {"$in": list(doc_ids)}}
        # Chroma returns what there is when n_results exceeds the count: no count() call
        result = self._call(self._col.query, query_embeddings=[np.asarray(vector, dtype=np.float32)],
                            n_results=n, where=where, include=["distances"])
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def ids(self) -> list[str]:
        return sorted(self._call(self._col.get, include=[])["ids"])

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        got = self._call(self._col.get, ids=list(ids), include=["embeddings"])
        return {cid: np.asarray(v) for cid, v in zip(got["ids"], got["embeddings"])}

    def count(self) -> int:
        return self._call(self._col.count)

    def drop(self) -> None:
        """Delete the collection (nothing happens if there is none)."""
        if self.exists():
            self._call(self._client.delete_collection, self._name)
        self.reopen()

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ConnectionError, OSError) as exc:
            raise _unavailable(self.where, exc) from None
        except Exception as exc:
            if type(exc).__module__.startswith(("httpx", "httpcore")):
                raise _unavailable(self.where, exc) from None
            raise


def _embedded_client(path: Path | None):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    with _CLIENTS:      # a client looks its folder's shared system up while it is built
        return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


def _server_client(url: str):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise StoreUnavailable(f"RAG_CHROMA_URL {url!r} is not a URL: use e.g. http://127.0.0.1:8000")
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                                   ssl=parsed.scheme == "https",
                                   settings=ChromaSettings(anonymized_telemetry=False))
    except Exception as exc:  # chromadb raises ValueError, httpx errors... for a dead server
        raise _unavailable(url, exc) from None


def _unavailable(where: str, exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"the Chroma server at {where} is not reachable ({type(exc).__name__}): "
                            "start it (`chroma run --path DIR --port PORT`) or unset RAG_CHROMA_URL")
