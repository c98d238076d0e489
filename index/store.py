"""The vector store seam, on Chroma: embedded (persistent, in the home directory) or a server.

Both modes are the same Chroma collection API, so one adapter serves both; only the client
differs. Embeddings are always passed in (Chroma is never asked to embed, which would make it
download a model). The collection holds one vector per chunk; `query` returns chunks by cosine
similarity.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Sequence
from urllib.parse import urlparse

import numpy as np

from index.records import Chunk, chunk_id
from rag.errors import IndexMismatch, StoreUnavailable

_BATCH = 2000


class ChromaStore:
    def __init__(self, *, path: Path | None = None, url: str = "", collection: str = "chunks",
                 identity: dict | None = None, lazy: bool = False) -> None:
        """Connect now, or with `lazy` at first use (so work that never touches the vectors,
        such as re-ingesting an unchanged corpus, never imports chromadb)."""
        self.where = url or str(path)
        self._path, self._url, self._name, self._identity = path, url, collection, identity
        self._conn = None
        self._connecting = threading.Lock()   # questions on many threads connect once
        if not lazy:
            self._connect()

    @property
    def _client(self):
        return self._connect()[0]

    @property
    def _col(self):
        return self._connect()[1]

    def _connect(self):
        with self._connecting:
            if self._conn is None:
                self._conn = self._open()
            return self._conn

    def _open(self):
        client = _server_client(self._url) if self._url else _embedded_client(self._path)
        metadata = {"hnsw:space": "cosine"}
        if self._identity:
            metadata["identity"] = json.dumps(self._identity, sort_keys=True)
        try:
            col = client.get_or_create_collection(self._name, metadata=metadata, embedding_function=None)
        except Exception as exc:  # chromadb raises many types for a dead server
            raise _unavailable(self.where, exc) from None
        stored = (col.metadata or {}).get("identity")
        if self._identity and stored and json.loads(stored) != self._identity:
            raise IndexMismatch(f"Chroma collection {self._name!r} at {self.where} was built with "
                                f"{stored}: rebuild with `rag ingest --rebuild` or use another collection")
        return client, col

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        for i in range(0, len(chunks), _BATCH):
            part = chunks[i:i + _BATCH]
            self._call(self._col.upsert, ids=[c.chunk_id for c in part],
                       embeddings=np.asarray(vectors[i:i + _BATCH], dtype=np.float32),
                       metadatas=[{"doc_id": c.doc_id, "n": c.n} for c in part])

    def delete_document(self, doc_id: str) -> None:
        self._call(self._col.delete, where={"doc_id": doc_id})

    def delete_beyond(self, keep: dict[str, int]) -> None:
        """For each document, delete its chunks numbered >= keep[doc_id], in one call. A
        document's chunks are numbered from 0 without gaps, so only a document that has chunk
        number keep[doc_id] has any to delete: one lookup by id finds them (a filtered delete
        scans the collection, which grows with it, even when it deletes nothing)."""
        found = set(self._call(self._col.get, ids=[chunk_id(d, n) for d, n in keep.items()], include=[])["ids"])
        clauses = [{"$and": [{"doc_id": d}, {"n": {"$gte": n}}]}
                   for d, n in keep.items() if chunk_id(d, n) in found]
        if clauses:
            self._call(self._col.delete, where=clauses[0] if len(clauses) == 1 else {"$or": clauses})

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
        name = self._col.name
        self._call(self._client.delete_collection, name)

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
