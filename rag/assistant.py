"""The public Python API: `Assistant` ingests, answers, lists and deletes.

It owns the index's parts (catalog, Chroma, lexical index) and the embedder, opened lazily, so
creating an Assistant is cheap and the first question pays only for what it needs. Everything it
does is configured by one Settings record. It raises the typed errors of rag.errors; it never
prints.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from rag import offline
from rag.errors import BadQuestion, ConfigError, DocumentNotFound, IndexNotBuilt
from rag.records import Answer, Hit
from rag.settings import Settings

History = Sequence[tuple[str, str]]


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder=None, **overrides) -> None:
        """Settings from defaults < config file < env < `overrides`. `embedder` may be shared
        between assistants (anything with `model_id`, `dim` and `embed(texts)`)."""
        offline.apply()
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = settings.replace(**overrides)
        self.settings = settings
        self._embedder = embedder
        self._index = None
        self._lexical = None
        self._retriever = None
        self._llm = None
        # Threads asking at once open the index, model and LLM client once, not once each (and
        # numpy's header parsing, in the lexical load, is not safe in parallel on Python 3.11).
        self._opening = threading.RLock()

    # -- building -------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path] | None = None, *, rebuild: bool = False,
               progress=None):
        """Ingest files or folders (default: the bundled corpus). Returns an IngestReport."""
        from index.ingest import ingest

        paths = [Path(p) for p in paths] if paths else [self.settings.corpus]
        for p in paths:
            if not p.exists():
                raise FileNotFoundError(p)
        if rebuild:
            self._wipe()
        report = ingest(paths, self._open_index(create=True), self.embedder,
                        chunk_size=self.settings.chunk_size,
                        chunk_overlap=self.settings.chunk_overlap,
                        sentences=self.settings.sentence_vectors, progress=progress)
        self._lexical = self._retriever = None
        return report

    def delete(self, doc_id: str) -> None:
        from index.ingest import refresh_lexical, remove

        index = self._open_index()
        if doc_id not in index.catalog.hashes():
            raise DocumentNotFound(f"no document {doc_id!r} in the index: `rag docs` lists the ids")
        remove(doc_id, index)
        refresh_lexical(index)
        self._lexical = self._retriever = None

    def docs(self):
        return self._open_index().catalog.docs()

    def document(self, doc_id: str):
        doc = self._open_index().catalog.document(doc_id)
        if doc is None:
            raise DocumentNotFound(f"no document {doc_id!r} in the index: `rag docs` lists the ids")
        return doc

    # -- answering ------------------------------------------------------------------------
    def ask(self, question: str, *, history: History = (), k: int | None = None,
            doc_ids: Sequence[str] | None = None, date_from: str = "", date_to: str = "",
            mode: str | None = None) -> Answer:
        if self.answer_mode(mode) == "llm":
            *_, answer = self._ask_llm(question, history=history, k=k, doc_ids=doc_ids,
                                       date_from=date_from, date_to=date_to, stream=False)
            return answer
        from rag.followup import standalone_query

        started = time.perf_counter()
        question = self._check_question(question)
        k = self._check_k(k)
        query = standalone_query(question, history)
        timings: dict[str, float] = {}
        vector, hits, sentences = self._gather(query, k, self._allowed(doc_ids, date_from, date_to), timings)
        t = time.perf_counter()
        answer = self._extractive().answer(query, vector, hits, sentences)
        timings["answer"] = (time.perf_counter() - t) * 1e3
        timings["total"] = (time.perf_counter() - started) * 1e3
        return Answer(question=question, text=answer.text, citations=answer.citations,
                      abstained=answer.abstained, mode="extractive", query=query,
                      timings_ms=timings)

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        """Yield the answer's text in pieces as it is produced, then the final Answer.

        Takes the same arguments as `ask`. In extractive mode the pieces joined equal
        `Answer.text`. In llm mode they are the model's raw tokens as they arrive; the final
        Answer carries the verified text and citations, which may differ (dropped citations, or
        the extractive fallback with a `notice`).
        """
        if self.answer_mode(kwargs.get("mode")) == "llm":
            kwargs.pop("mode", None)
            yield from self._ask_llm(question, stream=True, **kwargs)
            return
        answer = self.ask(question, **kwargs)
        for piece in re.findall(r"\S+\s*", answer.text):
            yield piece
        yield answer

    def retrieve(self, question: str, *, k: int | None = None, history: History = (),
                 doc_ids: Sequence[str] | None = None, method: str = "hybrid",
                 per_doc: bool = False) -> list[Hit]:
        """The passages `ask` would read, best first (for evaluation and inspection).

        With `per_doc`, the k best documents instead, each as its best passage."""
        from rag.followup import standalone_query

        query = standalone_query(self._check_question(question), history)
        retriever = self._open_retriever()
        vector = self.embedder.embed([query])[0] if method != "lexical" else None
        return retriever.retrieve(query, vector, self._check_k(k), doc_ids=doc_ids, method=method,
                                  per_doc=per_doc)

    def answer_hits(self, question: str, hits: Sequence[Hit]) -> Answer:
        """Answer from passages found by any retriever (e.g. rag.baseline) with the offline
        answerer and this index's term statistics. The passages' sentences are split and
        embedded on the fly; citations point into the passages' own text."""
        import dataclasses

        from index.records import Span
        from index.sentences import split_sentences

        started = time.perf_counter()
        question = self._check_question(question)
        self._open_retriever()
        hits = [h if h.end - h.start == len(h.text) else dataclasses.replace(h, end=h.start + len(h.text))
                for h in hits]
        spans, seen = [], set()
        for h in hits:
            for s, e in split_sentences(h.text):
                if (h.doc_id, h.start + s) not in seen:
                    seen.add((h.doc_id, h.start + s))
                    spans.append(Span(h.doc_id, h.start + s, h.start + e, h.text[s:e]))
        vectors = self.embedder.embed([question] + [s.text for s in spans])
        answer = self._extractive().answer(question, vectors[0], hits, list(zip(spans, vectors[1:])))
        total = (time.perf_counter() - started) * 1e3
        return dataclasses.replace(answer, timings_ms={"answer": total, "total": total})

    def answer_mode(self, mode: str | None = None) -> str:
        """The mode `ask` will use: "llm" or "extractive" ("auto": llm when one is configured)."""
        mode = mode or self.settings.mode
        if mode not in ("auto", "extractive", "llm"):
            raise ConfigError(f'mode of {mode!r} is not allowed: use "auto", "extractive" or "llm"')
        if mode == "auto":
            return "llm" if self.settings.llm_configured else "extractive"
        if mode == "llm" and not self.settings.llm_model:
            raise ConfigError("mode llm needs a model: set RAG_LLM_MODEL (and OPENAI_BASE_URL for a "
                              "local server, OPENAI_API_KEY for OpenAI), or use --mode extractive")
        return mode

    def _ask_llm(self, question: str, *, history: History = (), k: int | None = None,
                 doc_ids: Sequence[str] | None = None, date_from: str = "", date_to: str = "",
                 stream: bool = False) -> Iterator[str | Answer]:
        """The llm mode of `ask`/`stream`: rewrite a follow-up, retrieve, generate, verify."""
        import dataclasses

        from rag.errors import LLMUnavailable
        from rag.followup import standalone_query
        from rag.generative import GenerativeAnswerer
        from rag.prices import price

        started = time.perf_counter()
        question = self._check_question(question)
        k = self._check_k(k)
        s = self.settings
        with self._opening:
            if self._llm is None:
                from rag.llm import ChatLLM

                self._llm = ChatLLM.from_settings(s)
        generator = GenerativeAnswerer(self._llm, self.embedder, context_window=s.llm_context_window,
                                       max_answer_tokens=s.llm_max_tokens,
                                       price=price(s.llm_model, s.llm_price_in, s.llm_price_out),
                                       weight=self._extractive().idf)  # rare terms weigh more
        timings: dict[str, float] = {}
        query, spent, down = question, [], ""
        if history:
            t = time.perf_counter()
            try:
                query, completion = generator.rewrite(question, history)
                spent.append(completion)
            except LLMUnavailable as exc:
                query, down = "", str(exc)
            query = query or standalone_query(question, history)
            timings["rewrite"] = (time.perf_counter() - t) * 1e3
        vector, hits, sentences = self._gather(query, k, self._allowed(doc_ids, date_from, date_to), timings)

        def extractive() -> Answer:
            return self._extractive().answer(query, vector, hits, sentences)

        if down:   # the LLM just failed on the rewrite: do not wait for it a second time
            answer = generator.fallback(extractive, down, (), spent)
            items: Iterator[str | Answer] = iter([answer])
        else:
            items = generator.run(question, hits, sentences, history, extractive, stream=stream,
                                  spent=spent)
        for item in items:
            if isinstance(item, Answer):
                timings.update(item.timings_ms)
                timings["total"] = (time.perf_counter() - started) * 1e3
                item = dataclasses.replace(item, question=question, query=query, timings_ms=timings)
            yield item

    def _gather(self, query: str, k: int, doc_ids: Sequence[str] | None,
                timings: dict[str, float]):
        """Embed the query, retrieve k passages, read their sentences; time each step."""
        retriever = self._open_retriever()
        t0 = time.perf_counter()
        vector = self.embedder.embed([query])[0]
        t1 = time.perf_counter()
        hits = retriever.retrieve(query, vector, k, doc_ids=doc_ids)
        sentences = self._index.catalog.sentences(hits)
        timings.update(embed=(t1 - t0) * 1e3, retrieve=(time.perf_counter() - t1) * 1e3)
        return vector, hits, sentences

    def _extractive(self):
        from rag.extractive import ExtractiveAnswerer

        self._open_retriever()
        return ExtractiveAnswerer(self._lexical.df, self._lexical.n_chunks,
                                  max_sentences=self.settings.max_answer_sentences)

    # -- parts, opened lazily ---------------------------------------------------------------
    @property
    def embedder(self):
        with self._opening:
            if self._embedder is None:
                from index.embed import make_embedder

                self._embedder = make_embedder(self.settings)
            return self._embedder

    def identity(self) -> dict:
        """What builds the index; known without loading the model."""
        from index.catalog import SCHEMA_VERSION

        s = self.settings
        return {"schema": SCHEMA_VERSION, "embed_model": f"{s.embed_backend}:{s.embed_model}",
                "chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap,
                "sentence_vectors": s.sentence_vectors}

    def _open_index(self, create: bool = False):
        with self._opening:
            if self._index is None:
                self._index = self._index_parts(create)
            return self._index

    def _index_parts(self, create: bool):
        from index.catalog import Catalog
        from index.ingest import Index
        from index.store import ChromaStore

        home = self.settings.home
        catalog_path = home / "catalog.sqlite"
        if not create and not catalog_path.exists():
            raise IndexNotBuilt(f"no index in {home}: run `rag ingest` first (or set RAG_HOME)")
        identity = self.identity()
        catalog = Catalog(catalog_path)
        catalog.check_identity(identity)
        store = ChromaStore(path=home / "chroma", url=self.settings.chroma_url,
                            collection=self.settings.collection, identity=identity, lazy=True)
        return Index(catalog, store, home / "lexical")

    def _open_retriever(self):
        with self._opening:
            if self._retriever is None:
                self._open_retriever_now()
            return self._retriever

    def _open_retriever_now(self) -> None:
        from index.lexical import LexicalIndex
        from rag.retrieve import HybridRetriever

        index = self._open_index()
        lexical = LexicalIndex.load(index.lexical_dir)
        if lexical is None or lexical.generation != index.catalog.generation:
            raise IndexNotBuilt(f"the index in {self.settings.home} is incomplete (an ingest was "
                                "interrupted or never ran): run `rag ingest` to finish it")
        if not lexical.n_chunks:
            raise IndexNotBuilt(f"the index in {self.settings.home} is empty: run `rag ingest` first")
        s = self.settings
        self._lexical = lexical
        self._retriever = HybridRetriever(index.store, lexical, index.catalog, fusion=s.fusion,
                                          rrf_k=s.rrf_k, candidates=s.candidates,
                                          lexical_weight=s.lexical_weight,
                                          sentence_weight=s.sentence_weight)

    def _allowed(self, doc_ids: Sequence[str] | None, date_from: str, date_to: str) -> list[str] | None:
        if not doc_ids and not date_from and not date_to:
            return None
        docs = self._open_index().catalog.docs()
        wanted = set(doc_ids) if doc_ids else None
        return [d.doc_id for d in docs
                if (wanted is None or d.doc_id in wanted)
                and (not date_from or (d.date[:1] != "-" and d.date >= date_from))
                and (not date_to or (d.date[:1] != "-" and d.date and d.date <= date_to))]

    def _wipe(self) -> None:
        """Forget the index (not the source files): catalog, lexical index, Chroma collection."""
        from index.store import ChromaStore

        home = self.settings.home
        if self._index is not None:
            self._index.catalog.close()
        self._index = self._lexical = self._retriever = None
        ChromaStore(path=home / "chroma", url=self.settings.chroma_url,
                    collection=self.settings.collection).drop()
        (home / "catalog.sqlite").unlink(missing_ok=True)
        shutil.rmtree(home / "lexical", ignore_errors=True)

    # -- validation -----------------------------------------------------------------------
    def _check_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise BadQuestion(f"the question must be text, got {type(question).__name__}")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise BadQuestion(f"the question is {len(question):,} characters; the limit is {limit:,}: "
                              "shorten it (RAG_MAX_QUESTION_CHARS raises the limit)")
        bad = sorted({f"U+{ord(ch):04X}" for ch in question
                      if unicodedata.category(ch) == "Cc" and ch not in "\n\t\r"})
        if bad:
            raise BadQuestion(f"the question contains control characters ({', '.join(bad[:3])}): "
                              "remove them and ask again")
        question = " ".join(question.split())
        if not question:
            raise BadQuestion('the question is empty: ask something, e.g. "What does US law require?"')
        return question

    def _check_k(self, k: int | None) -> int:
        if k is None:
            return self.settings.top_k
        return self.settings.replace(top_k=k).top_k
