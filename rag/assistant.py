"""The public Python API: `Assistant` ingests, answers, lists and deletes.

It owns the index's parts (catalog, Chroma, lexical index) and the embedder, opened lazily, so
creating an Assistant is cheap and the first question pays only for what it needs. Everything it
does is configured by one Settings record. It raises the typed errors of rag.errors; it never
prints.

Safe beside other writers and readers, in this process or another (index/lock.py): a write
(ingest, delete, rebuild) holds the home's writer lock, checks and repairs the index first
(index/check.py), and publishes its changes at once; a question reads under a shared lock that
a writer takes only for moments, and notices another process's writes (the catalog's state
changed), reopening what it had read.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import unicodedata
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from rag import offline
from rag.errors import (BadQuestion, ConfigError, DocumentNotFound, IndexCorrupted, IndexDiverged,
                        IndexNotBuilt)
from rag.records import Answer, Hit
from rag.settings import Settings

History = Sequence[tuple[str, str]]
# Where the k best passages answer nothing, the SECOND_LOOK * k best are read before abstaining.
# Questions in other words than their article's ranked its passage 9th to 17th with k = 8 on
# the dev split (where it falls varies with the CPU's int8 kernels): 4k leaves room.
SECOND_LOOK = 4


class Assistant:
    def __init__(self, settings: Settings | None = None, *, embedder=None, on_prepare=None,
                 notify=None, **overrides) -> None:
        """Settings from defaults < config file < env < `overrides`. `embedder` may be shared
        between assistants (anything with `model_id`, `dim` and `embed(texts)`). `on_prepare` is
        called with each step of the embedding model's one-time preparation, when the first ingest
        or question needs it (`index.onnx_export.Preparing`: its step, what it does, its seconds);
        `notify(message)` hears about the local LLM's (joining its chunks, once).
        `rank_evidence`, when set, reorders the sentences an LLM is shown (best first, all of
        them) before the evidence budget is spent: `rag eval --gold-evidence` puts the gold
        quotes first with it, to measure what the model reads right when the evidence is right."""
        offline.apply()
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = settings.replace(**overrides)
        self.settings = settings
        self._embedder = embedder
        self._on_prepare = on_prepare
        self.notify = notify
        self.rank_evidence: Callable[[list], list] | None = None
        self._index = None
        self._view = None          # the catalog state the retriever was opened for
        self._lexical = None
        self._speller: tuple = (None, None)
        self._retriever = None
        self._llm = None
        self._words = None
        # Threads asking at once open the index, model and LLM client once, not once each (and
        # numpy's header parsing, in the lexical load, is not safe in parallel on Python 3.11).
        self._opening = threading.RLock()
        self._catalog_ino = None

    # -- building -------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path] | None = None, *, rebuild: bool = False,
               progress=None):
        """Ingest files or folders (default: the bundled corpus; with `rebuild` and no paths,
        the sources the index was built from). Checks and repairs the index first. Returns an
        IngestReport."""
        from index import faults
        from index.ingest import ingest

        paths = [Path(p) for p in paths] if paths else []
        for p in paths:
            if not p.exists():
                raise FileNotFoundError(p)
        with self.writing():
            faults.point("ingest.locked")
            if rebuild:
                if not paths:
                    from index.advice import recorded_sources

                    paths = [Path(p) for p in recorded_sources(self.settings.home)]
                    for p in paths:
                        if not p.exists():
                            raise FileNotFoundError(p)
                self._wipe()
            with self._writer_index(create=True) as index:
                redo = self._repair(index)
                faults.point("ingest.repaired")
                report = ingest(paths or [self.settings.corpus], index, self.embedder,
                                chunk_size=self.settings.chunk_size,
                                chunk_overlap=self.settings.chunk_overlap,
                                sentences=self.settings.sentence_vectors, progress=progress, redo=redo)
                self._seal(index)
                return report

    def delete(self, doc_id: str) -> None:
        """Remove one document from the index (its source file is left alone)."""
        from index import faults
        from index.ingest import ingest, remove

        with self.writing():
            faults.point("delete.locked")
            with self._writer_index(create=False) as index:
                redo = [d for d in self._repair(index) if d != doc_id]
                if redo:
                    ingest([], index, self.embedder, chunk_size=self.settings.chunk_size,
                           chunk_overlap=self.settings.chunk_overlap,
                           sentences=self.settings.sentence_vectors, redo=redo)
                if doc_id not in index.catalog.hashes():
                    self._seal(index)
                    raise DocumentNotFound(f"no document {doc_id!r} in the index: `rag docs` lists the ids")
                remove(doc_id, index)
                self._seal(index)

    def check(self, *, full: bool = True, repair: bool = False):
        """Do the catalog, vector store and lexical index agree, document by document, and is the
        store the one the index was built on? Returns a CheckReport (`ok`, `problems()`). With
        `repair`, fixes what it finds from the catalog's own text (no source file is read) and
        returns the report of a second check."""
        from index.check import check
        from index.ingest import ingest

        if repair:
            with self.writing():
                with self._writer_index(create=False) as index:
                    redo = self._repair(index, full=full)
                    ingest([], index, self.embedder, chunk_size=self.settings.chunk_size,
                           chunk_overlap=self.settings.chunk_overlap,
                           sentences=self.settings.sentence_vectors, redo=redo)
                    self._seal(index)
        with self._writer_index(create=False, store_create=False) as index:
            with index.lock.reading():
                return check(index, full=full)

    def writing(self):
        """Hold the index for writing across several calls (an upload stores its file and
        ingests it under one hold); ingest and delete take it themselves. Re-entrant; waits
        for a writer in another process to finish."""
        from index.lock import HomeLock

        return HomeLock(self.settings.home).writer()

    def fix_command(self, *, rebuild: bool = False) -> str:
        """The command that repairs (or rebuilds) this index from the sources it was built from."""
        from index.advice import fix_command

        return fix_command(self.settings.home, rebuild=rebuild)

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
        history = self._check_history(history)
        k = self._check_k(k)
        allowed = self._allowed(doc_ids, date_from, date_to)
        typed = standalone_query(question, history)
        query = self._spelled(typed)
        typed, query, allowed, scope = self._scoped(typed, query, allowed)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        answer = self._summary(question, query, k, allowed, timings)
        if answer is None:
            vector, hits, sentences = self._gather(typed, k, allowed, timings, query)
            t = time.perf_counter()
            answer = self._offline_answer(query, vector, hits, sentences, k, allowed)
        timings["answer"] = (time.perf_counter() - t) * 1e3
        timings["total"] = (time.perf_counter() - started) * 1e3
        return Answer(question=question, text=answer.text, citations=answer.citations,
                      abstained=answer.abstained, mode="extractive", query=query, scope=scope,
                      notice=answer.notice, timings_ms=timings)

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        """Yield the answer's text in pieces as it is produced, then the final Answer.

        Takes the same arguments as `ask`. In extractive mode the pieces joined equal
        `Answer.text`. In llm mode the first item is the instant extractive answer as a draft
        (an Answer with `draft=True`), then the model's raw tokens as they arrive; the final
        Answer carries the verified text and citations, which may differ (dropped sentences or
        citations, an abstention, or the extractive fallback with a `notice`). An empty piece
        means the model is still reading its prompt. Closing the iterator stops the LLM.
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
        vector = self.embedder.embed([query])[0] if method != "lexical" else None
        with self._lock().reading():
            return self._open_retriever().retrieve(query, vector, self._check_k(k), doc_ids=doc_ids,
                                                   method=method, per_doc=per_doc)

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
        """The mode `ask` will use: "llm" or "extractive" ("auto": llm when a server is
        configured or the local model is installed)."""
        from rag.llm import local_available

        mode = mode or self.settings.mode
        if mode not in ("auto", "extractive", "llm"):
            raise ConfigError(f'mode of {mode!r} is not allowed: use "auto", "extractive" or "llm"')
        if mode == "extractive":
            return mode
        s = self.settings
        has_llm = s.llm_configured or local_available(s)
        if mode == "auto":
            return "llm" if has_llm else "extractive"
        if mode == "llm" and not has_llm:
            raise ConfigError("mode llm needs an LLM: run `make setup` for the local model, set "
                              "RAG_LLM_GGUF to a .gguf file, or set RAG_LLM_MODEL and OPENAI_BASE_URL "
                              "for a server; or use --mode extractive")
        return mode

    def llm(self):
        """The LLM this assistant answers with (opened, and for the local model loaded, once)."""
        with self._opening:
            if self._llm is None:
                from rag.llm import open_llm
                from rag.prompt import EVIDENCE_SYSTEM

                self._llm = open_llm(self.settings, notify=self.notify)
                if hasattr(self._llm, "warm") and self.settings.llm_prompt == "evidence":
                    self._llm.warm(EVIDENCE_SYSTEM)
                # what the first answer would load between its draft and the model's first
                # token (~0.8 s cold): the answering code and the prompt's token counter
                from rag.generative import GenerativeAnswerer  # noqa: F401
                from rag.prompt import Tokens

                Tokens(self._llm.model).count("")
            return self._llm

    def _ask_llm(self, question: str, *, history: History = (), k: int | None = None,
                 doc_ids: Sequence[str] | None = None, date_from: str = "", date_to: str = "",
                 stream: bool = False) -> Iterator[str | Answer]:
        """The llm mode of `ask`/`stream`: rewrite a follow-up, retrieve, generate, verify."""
        import dataclasses

        from rag.errors import LLMUnavailable
        from rag.extractive import DIFFER
        from rag.followup import standalone_query
        from rag.generative import GenerativeAnswerer
        from rag.prices import price

        started = time.perf_counter()
        question = self._check_question(question)
        history = self._check_history(history)
        k = self._check_k(k)
        allowed = self._allowed(doc_ids, date_from, date_to)
        s = self.settings
        query, spent, down, generator = question, [], "", None

        def open_generator():
            try:
                llm = self.llm()
            except LLMUnavailable as exc:   # the model cannot load: answer extractively, say why
                return None, str(exc)
            return GenerativeAnswerer(llm, self.embedder, context_window=s.llm_context_window,
                                      max_answer_tokens=s.llm_max_tokens,
                                      price=price(s.llm_model, s.llm_price_in, s.llm_price_out),
                                      weight=self._extractive().idf,  # rare terms weigh more
                                      prompt=s.llm_prompt, evidence_tokens=s.llm_evidence_tokens), ""

        timings: dict[str, float] = {}
        if s.llm_configured:   # a server: it resolves a follow-up before retrieval
            generator, down = open_generator()
        if history and generator is None:   # the local model: a second call would cost seconds
            query = standalone_query(question, history)
        elif history:
            t = time.perf_counter()
            try:
                query, completion = generator.rewrite(question, history)
                spent.append(completion)
            except LLMUnavailable as exc:
                query, down = "", str(exc)
            query = query or standalone_query(question, history)
            timings["rewrite"] = (time.perf_counter() - t) * 1e3
        typed, query = query, self._spelled(query)
        typed, query, allowed, scope = self._scoped(typed, query, allowed)
        summary = self._summary(question, query, k, allowed, timings)
        if summary is not None:   # quoted from the articles: a small model would only recite them
            timings["total"] = (time.perf_counter() - started) * 1e3
            summary = dataclasses.replace(summary, question=question, query=query, scope=scope,
                                          timings_ms=timings,
                                          usage=generator.usage_of(spent) if spent else {})
            if stream:
                yield dataclasses.replace(summary, draft=True)
            yield summary
            return
        vector, hits, sentences = self._gather(typed, k, allowed, timings, query)
        answerer = self._extractive()
        # the draft first: the LLM reads the passages its second look cited, too
        draft, hits, sentences = self._drafted(query, vector, hits, sentences, k, allowed)

        def extractive() -> Answer:
            return draft

        if stream:   # the instant answer first, while the model loads and reads
            yield dataclasses.replace(extractive(), question=question, query=query, scope=scope,
                                      draft=True, timings_ms={"total": (time.perf_counter() - started) * 1e3})
        if not s.llm_configured and extractive().text.startswith(DIFFER):
            # the articles disagree: both as they state them, not a small model's pick
            down = "the articles disagree, shown side by side"
        elif not s.llm_configured:
            generator, down = open_generator()
        if down:   # the LLM just failed: do not wait for it a second time
            notice = " ".join(down.split()).rstrip(".") + "; answered extractively instead"
            answer = (generator.fallback(extractive, down, (), spent) if generator else
                      dataclasses.replace(extractive(), mode="extractive", notice=notice))
            items: Iterator[str | Answer] = iter([answer])
        else:
            ranked = answerer.rank(query, vector, hits, sentences) if s.llm_prompt == "evidence" else ()
            if ranked and self.rank_evidence:
                ranked = self.rank_evidence(list(ranked))
            # the local model reads the resolved question: a small model loses "he" and "that" in a
            # conversation it is shown; a server's model reads the conversation itself
            asked, turns = (question, history) if s.llm_configured else (query, ())
            items = generator.run(asked, hits, sentences, turns, extractive, ranked=ranked,
                                  stream=stream, spent=spent)
        try:
            for item in items:
                if isinstance(item, Answer):
                    item = self._about_unknown(item, query, answerer, extractive)
                    timings.update(item.timings_ms)
                    timings["total"] = (time.perf_counter() - started) * 1e3
                    item = dataclasses.replace(item, question=question, query=query, scope=scope,
                                               timings_ms=timings)
                yield item
        finally:
            if hasattr(items, "close"):
                items.close()

    @staticmethod
    def _about_unknown(answer: Answer, query: str, answerer, extractive) -> Answer:
        """An LLM answer to a question naming what no indexed text holds must say how its sources
        bear on that name ("the Kremlin's official" for a Russian one); facts cited that never
        mention it answer another question, and the offline abstention stands."""
        import dataclasses

        if answer.mode != "llm" or answer.abstained:
            return answer
        missed = [n for n in answerer.unknown_names(query) if n.lower() not in answer.text.lower()]
        if not missed:
            return answer
        return dataclasses.replace(extractive(), mode="extractive", usage=answer.usage, read=answer.read,
                                   notice=f"no indexed article mentions {', '.join(missed)}, and the "
                                          "LLM's answer does not say how its sources bear on it; "
                                          "answered extractively instead")

    def _summary(self, question: str, query: str, k: int, allowed: Sequence[str] | None,
                 timings: dict[str, float]) -> Answer | None:
        """The answer to a summary request (see rag.overview), None for any other question.
        "Summarize the articles" means all of them whatever was asked before; "summarize it"
        takes its topic from the conversation (`query`, the follow-up resolved)."""
        from index.terms import terms
        from rag import overview

        topic = overview.subject(question)
        if topic is None:
            return None
        if topic and not terms(topic):
            topic = overview.subject(query) or topic
        if not topic:
            with self._lock().reading():
                catalog = self._open_index().catalog
                docs = [d for d in catalog.docs() if allowed is None or d.doc_id in allowed]
                chosen = [catalog.document(d.doc_id) for d in overview.newest(docs)]
            return overview.of_articles(question, [d for d in chosen if d is not None], len(docs))
        vector, hits, sentences = self._gather(topic, k, allowed, timings)
        found = self._offline_answer(topic, vector, hits, sentences, k, allowed)
        if found.abstained:
            return found
        return overview.of_topic(question, self._extractive().scored(topic, vector, hits, sentences), hits)

    def _offline_answer(self, query: str, vector, hits: Sequence[Hit], sentences, k: int,
                        allowed: Sequence[str] | None) -> Answer:
        return self._drafted(query, vector, hits, sentences, k, allowed)[0]

    def _drafted(self, query: str, vector, hits: Sequence[Hit], sentences, k: int,
                 allowed: Sequence[str] | None) -> tuple[Answer, list[Hit], list]:
        """The extractive answer, and what it read: the hits and sentences given, plus the passages
        its second look cited. Where nothing in the k best passages is close enough, the
        SECOND_LOOK * k best get a second look before it abstains: a question in other words than
        its article's may rank its passage below k. (An LLM shown only the k best would not see
        what the second look found.)"""
        answer = self._first_look(query, vector, hits, sentences, k, allowed)
        hits, sentences = list(hits), list(sentences)
        if answer.abstained and not answer.notice and len(hits) >= k:   # not an unknown name
            wider = min(SECOND_LOOK * k, 100)
            more, found = self._passages(query, vector, wider, allowed)
            second = self._extractive().answer(query, vector, more, found,
                                               unfiltered=self._unfiltered(query, vector, wider, allowed))
            if not second.abstained:
                seen = {h.chunk_id for h in hits}
                cited = [h for h in more if h.chunk_id not in seen and any(
                    c.doc_id == h.doc_id and h.start <= c.start < h.end for c in second.citations)]
                inside = [(span, v) for span, v in found if any(
                    span.doc_id == h.doc_id and h.start <= span.start < h.end for h in cited)]
                return second, hits + cited, sentences + inside
        return answer, hits, sentences

    def _first_look(self, query: str, vector, hits: Sequence[Hit], sentences, k: int,
                    allowed: Sequence[str] | None) -> Answer:
        """The extractive answer from these passages. A question that asks two things ("Which
        agencies are cited for A and for B?") is answered part by part, each part from its own
        passages, and the parts' answers are joined (each part gets its share of the answer's
        sentences)."""
        from rag.extractive import joined
        from rag.parts import question_parts

        parts = question_parts(query)
        if len(parts) > 1:
            answers = []
            for part in parts:
                v, h, ss = self._gather(part, k, allowed, {})
                answers.append(self._extractive().answer(part, v, h, ss,
                                                         unfiltered=self._unfiltered(part, v, k, allowed)))
            answer = joined(query, answers, max(1, self.settings.max_answer_sentences // len(parts)))
            if answer is not None:
                return answer
        return self._extractive().answer(query, vector, hits, sentences,
                                         unfiltered=self._unfiltered(query, vector, k, allowed))

    def _gather(self, query: str, k: int, doc_ids: Sequence[str] | None,
                timings: dict[str, float], meant: str = ""):
        """Embed the query, retrieve k passages, read their sentences; time each step. What is
        read is one published state of the index (a writer cannot change it meanwhile). The
        vector returned is that of `meant` when given (the query with its typos read,
        rag.spelling): the answerer compares sentences with what was meant, while retrieval
        searches what was typed."""
        if self._embedder is None:   # a missing or broken index is said before the model loads
            self._open_retriever()
        t0 = time.perf_counter()
        vectors = self.embedder.embed([query, meant] if meant and meant != query else [query])
        t1 = time.perf_counter()
        hits, sentences = self._passages(query, vectors[0], k, doc_ids)
        timings.update(embed=(t1 - t0) * 1e3, retrieve=(time.perf_counter() - t1) * 1e3)
        return vectors[-1], hits, sentences

    def _passages(self, query: str, vector, k: int, doc_ids: Sequence[str] | None):
        """The k best passages (hits) and their stored sentences, read from one published state
        of the index."""
        with self._lock().reading():
            retriever = self._open_retriever()
            hits = retriever.retrieve(query, vector, k, doc_ids=doc_ids)
            return hits, retriever.catalog.sentences(hits)

    def _scoped(self, typed: str, query: str, allowed: Sequence[str] | None):
        """A question that names its article ("... according to the Reuters-based story?",
        rag.scope) is asked of that article alone, without the words that name it, when they fit
        one article clearly. Returns (typed, query, allowed) so narrowed, and that article's title
        ("" when not scoped)."""
        from index.records import chunk_id, doc_of
        from rag.scope import dateline_place, named_article, without

        described = named_article(query)
        if described is None:
            return typed, query, allowed, ""
        with self._lock().reading():
            retriever = self._open_retriever()

            def scores(words: Sequence[str]) -> dict[str, float]:
                out: dict[str, float] = {}
                for cid, score in retriever.lexical.search(words, retriever.lexical.n_chunks, allowed):
                    out[doc_of(cid)] = out.get(doc_of(cid), 0.0) + score
                return out

            def datelines() -> dict[str, str]:
                docs = [d.doc_id for d in retriever.catalog.docs() if allowed is None or d.doc_id in allowed]
                firsts = retriever.catalog.chunks([chunk_id(doc, 0) for doc in docs])
                return {doc_of(cid): dateline_place(chunk.text)
                        for cid, (chunk, _, _) in firsts.items()}

            doc = described.pick(scores, datelines)
            if doc is None:
                return typed, query, allowed, ""
            title = next((t for _, t, _ in retriever.catalog.chunks([chunk_id(doc, 0)]).values()), "") or doc
        return without(typed, named_article(typed) or described), without(query, described), [doc], title

    def _unfiltered(self, query: str, vector, k: int, doc_ids: Sequence[str] | None):
        """For a filtered question, what the whole index holds (hits, sentences), fetched only
        if the answerer asks: whether the index answers is judged on it, while the filter picks
        what may be cited. None without a filter."""
        if doc_ids is None:
            return None

        return lambda: self._passages(query, vector, k, None)

    def _spelled(self, query: str) -> str:
        """`query` with its typos read as the indexed words they miss by a letter (rag.spelling);
        one speller per lexical index. The answerers read it; retrieval searches the query as
        typed (on SciFact, retrieval with the claims' typos corrected ranked no better)."""
        from rag.prompt import Tokens
        from rag.spelling import Speller

        if self.settings.spelling == "off":
            return query
        self._open_retriever()
        lexical = self._lexical
        if self._speller[0] is not lexical:
            tokens = Tokens("")
            self._speller = (lexical, Speller(lexical.vocab, lambda w: tokens.count(" " + w) == 1))
        return self._speller[1].correct(query)

    def _extractive(self):
        from rag.extractive import ExtractiveAnswerer

        self._open_retriever()
        return ExtractiveAnswerer(self._lexical.df, self._lexical.n_chunks,
                                  max_sentences=self.settings.max_answer_sentences,
                                  word_vectors=self._word_vectors())

    def _word_vectors(self):
        """Single words' vectors for paraphrases, with the local model only (a remote embedder
        would be called for hundreds of words a question); one cache per assistant."""
        from rag.related import WordVectors

        if self.settings.embed_backend != "local":
            return None
        with self._opening:
            if self._words is None:
                self._words = WordVectors(lambda texts: self.embedder.embed(texts))
            return self._words

    # -- parts, opened lazily ---------------------------------------------------------------
    @property
    def embedder(self):
        with self._opening:
            if self._embedder is None:
                from index.embed import make_embedder

                self._embedder = make_embedder(self.settings, self._on_prepare)
            return self._embedder

    def identity(self) -> dict:
        """What builds the index; known without loading the model."""
        from index import terms
        from index.catalog import SCHEMA_VERSION

        s = self.settings
        return {"schema": SCHEMA_VERSION, "terms": terms.VERSION,
                "embed_model": f"{s.embed_backend}:{s.embed_model}",
                "chunk_size": s.chunk_size, "chunk_overlap": s.chunk_overlap,
                "sentence_vectors": s.sentence_vectors}

    def _lock(self):
        from index.lock import HomeLock

        return HomeLock(self.settings.home)

    def _open_index(self):
        """The index as readers see it (one catalog connection shared by threads, a store that
        is never created by reading), reopened if the catalog file was replaced (a rebuild)."""
        import os

        path = self.settings.home / "catalog.sqlite"
        with self._opening:
            try:
                ino = os.stat(path).st_ino
            except FileNotFoundError:
                ino = None
            if self._index is not None and ino != self._catalog_ino:
                self._index.catalog.close()
                self._index = self._view = self._lexical = self._retriever = None
            if self._index is None:
                self._index = self._index_parts(create=False, store_create=False)
                self._catalog_ino = ino
            return self._index

    def _index_parts(self, create: bool, store_create: bool, writer: bool = False):
        from index.advice import fix_command
        from index.catalog import Catalog
        from index.ingest import Index
        from index.store import ChromaStore

        home = self.settings.home
        catalog_path = home / "catalog.sqlite"
        if not create and not catalog_path.exists():
            raise IndexNotBuilt(f"no index in {home}: run {fix_command(home)} first (or set RAG_HOME)"
                                if (home / "sources.json").exists() else
                                f"no index in {home}: run `rag ingest` first (or set RAG_HOME)")
        identity = self.identity()
        catalog = Catalog(catalog_path)
        try:
            catalog.check_identity(identity, fix=fix_command(home, rebuild=True))
        except BaseException:
            catalog.close()
            raise
        store = ChromaStore(path=home / "chroma", url=self.settings.chroma_url,
                            collection=self.settings.collection, identity=identity, lazy=True,
                            stamp=catalog.index_id, create=store_create,
                            fix=fix_command(home, rebuild=True), fresh=writer)
        return Index(catalog, store, home / "lexical", self._lock())

    @contextmanager
    def _writer_index(self, create: bool, store_create: bool = True):
        """The index for one write, on its own catalog connection (its transactions are
        invisible to this Assistant's readers until committed)."""
        index = self._index_parts(create, store_create, writer=True)
        try:
            yield index
        finally:
            index.catalog.close()

    def _repair(self, index, full: bool = False) -> list[str]:
        """The consistency check, and its repairs; returns the documents to re-embed."""
        from index.check import check, repair

        return repair(index, check(index, full=full), embedded=not self.settings.chroma_url,
                      fix=self.fix_command(rebuild=True))

    @staticmethod
    def _seal(index) -> None:
        """After a complete write: the store is as the catalog says (see index/check.py)."""
        fingerprint = index.store.fingerprint()
        if fingerprint and index.catalog.seal != fingerprint:
            index.catalog.set_seal(fingerprint)

    def _open_retriever(self):
        """The retriever for the catalog's current state. Taken under the read lock (re-entrant),
        so a writer cannot publish, or prune the lexical index this reads, in between; the read
        lock comes before `_opening`, in the order `_gather` takes them."""
        with self._lock().reading(), self._opening:
            index = self._open_index()
            state = index.catalog.state()
            if self._retriever is None or state != self._view:
                index.store.reopen()      # what it read may predate another process's writes
                self._open_retriever_now(index, state)
            return self._retriever

    def _open_retriever_now(self, index, state) -> None:
        from index.lexical import LexicalIndex
        from rag.retrieve import HybridRetriever

        index_id, generation, _, name = state
        home, fix = self.settings.home, self.fix_command()
        if not generation:
            raise IndexNotBuilt(f"the index in {home} is incomplete (an ingest was interrupted or "
                                f"never ran): run {fix} to finish it")
        store, catalog = index.store, index.catalog
        published, _ = catalog.vector_count()
        if not store.exists() or store.stamp != index_id:
            raise IndexDiverged(f"the vector store at {store.where} is not the one the index in {home} "
                                f"was built on (emptied, replaced or another one): run {fix} to repair "
                                "it (`rag check` lists what disagrees)")
        if store.count() < published:
            raise IndexDiverged(f"the vector store at {store.where} is missing vectors of the index in "
                                f"{home}: run {fix} to repair it (`rag check` lists what disagrees)")
        try:
            lexical = LexicalIndex.load(index.lexical_dir, name)
        except IndexCorrupted as exc:
            raise IndexDiverged(f"{exc}: run {fix} to repair it (`rag check` lists what disagrees)") from None
        if lexical.generation != generation:
            raise IndexDiverged(f"the lexical index in {index.lexical_dir} is stale: run {fix} to repair it")
        if not lexical.n_chunks:
            raise IndexNotBuilt(f"the index in {home} is empty: run `rag ingest` first")
        s = self.settings
        self._lexical = lexical
        self._retriever = HybridRetriever(store, lexical, catalog, fusion=s.fusion,
                                          rrf_k=s.rrf_k, candidates=s.candidates,
                                          lexical_weight=s.lexical_weight,
                                          sentence_weight=s.sentence_weight,
                                          versions=catalog.versions())
        self._view = state

    def _allowed(self, doc_ids: Sequence[str] | None, date_from: str, date_to: str) -> list[str] | None:
        """The ids the filters leave, or None without filters. An unknown id, a malformed date
        or filters that leave no article are errors, never a silent "not found"."""
        if not doc_ids and not date_from and not date_to:
            return None
        date_from, date_to = _check_date(date_from, "--since"), _check_date(date_to, "--until")
        if date_from and date_to and date_from > date_to:
            raise BadQuestion(f"the date filter starts ({date_from}) after it ends ({date_to}): "
                              "swap --since and --until")
        docs = self._open_index().catalog.docs()
        if doc_ids:
            known = {d.doc_id for d in docs}
            unknown = [i for i in dict.fromkeys(doc_ids) if i not in known]
            if unknown:
                raise DocumentNotFound(f"no document {', '.join(map(repr, unknown[:3]))} in the index: "
                                       "`rag docs` lists the ids")
        wanted = set(doc_ids) if doc_ids else None
        allowed = [d.doc_id for d in docs
                   if (wanted is None or d.doc_id in wanted)
                   and (not date_from or (d.date[:1] != "-" and d.date >= date_from))
                   and (not date_to or (d.date[:1] != "-" and d.date and d.date <= date_to))]
        if not allowed:
            span = (f"between {date_from} and {date_to}" if date_from and date_to
                    else f"on or after {date_from}" if date_from else f"on or before {date_to}")
            raise BadQuestion(f"no {'chosen ' if doc_ids else ''}article is dated {span} (an article "
                              "with no known year never matches a date filter): `rag docs` lists "
                              "the dates")
        return allowed

    def _wipe(self) -> None:
        """Forget the index (not the source files, nor the record of them in sources.json):
        Chroma collection, catalog, lexical index. The caller holds the writer lock."""
        from index import faults
        from index.store import ChromaStore

        home = self.settings.home
        with self._opening:
            if self._index is not None:
                self._index.catalog.close()
            self._index = self._view = self._lexical = self._retriever = None
        ChromaStore(path=home / "chroma", url=self.settings.chroma_url,
                    collection=self.settings.collection, create=False, fresh=True).drop()
        faults.point("rebuild.dropped")
        for suffix in ("", "-wal", "-shm"):
            (home / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
        shutil.rmtree(home / "lexical", ignore_errors=True)
        faults.point("rebuild.wiped")

    # -- validation -----------------------------------------------------------------------
    def _check_question(self, question: str) -> str:
        if not isinstance(question, str):
            raise BadQuestion(f"the question must be text, got {type(question).__name__}")
        _check_text(question, "the question")
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

    def _check_history(self, history: History) -> list[tuple[str, str]]:
        turns = list(history or ())
        for turn in turns:
            if (not isinstance(turn, (tuple, list)) or len(turn) != 2
                    or not all(isinstance(t, str) for t in turn)):
                raise BadQuestion("the history must be (question, answer) pairs of text")
            for text in turn:
                _check_text(text, "the history")
        return turns

    def _check_k(self, k: int | None) -> int:
        if k is None:
            return self.settings.top_k
        return self.settings.replace(top_k=k).top_k


def _check_text(text: str, what: str) -> None:
    """Refuse text that cannot be encoded: lone UTF-16 surrogates, which is also what bytes that
    are not UTF-8 become in a command-line argument."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in text if "\ud800" <= ch <= "\udfff"})
    if bad:
        raise BadQuestion(f"{what} is not valid text: it holds {', '.join(bad[:3])} (bytes that are "
                          "not UTF-8, or half of a UTF-16 pair); type it again as plain text")


def _check_date(value: str, flag: str) -> str:
    """"" or an ISO date (YYYY-MM-DD) that exists in the calendar."""
    import datetime

    if not value:
        return ""
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        datetime.date.fromisoformat(value)
    except ValueError:
        raise BadQuestion(f"the date filter {value!r} ({flag}) is not a date: use YYYY-MM-DD, "
                          "e.g. 2025-06-30") from None
    return value
