"""The consistency check: do the catalog, the vector store and the lexical index agree, document
by document, and is the store the one the index was built on?

`check` reads and reports. Cheap by default: when the store holds exactly as many vectors as
the catalog expects, carries the index's stamp, and the lexical index named by the catalog is
there for its generation, that is taken as agreement; otherwise (or with `full`) every vector id
is compared with what each document should have, and the lexical index is loaded and compared
chunk by chunk. The quick check of an embedded store that is sealed (every complete write seals
it with its database file's identity; every write to it unseals it first) and still has that
file does not even open the store, so re-ingesting an unchanged corpus never imports chromadb. `repair` (run by every writer before it writes) deletes vectors no document
has, forgets staged rows whose vectors are gone, recreates an emptied or foreign embedded
collection, and returns the published documents whose vectors or rows are missing, for the
caller to re-embed from the catalog's own text (no source file is read).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from index.lexical import LexicalIndex
from index.records import doc_of
from rag.errors import IndexCorrupted, IndexMismatch


@dataclass
class CheckReport:
    documents: int = 0
    chunks: int = 0
    vectors: int = 0
    store: str = "ok"        # ok | missing (no collection) | foreign (another index's, or unstamped)
    lexical: str = "ok"      # ok | missing | stale | damaged
    missing: dict[str, int] = field(default_factory=dict)   # document -> vectors missing
    broken: list[str] = field(default_factory=list)         # documents whose catalog rows disagree
    orphans: list[str] = field(default_factory=list)        # vector ids no document has
    unstaged: list[str] = field(default_factory=list)       # staged documents whose vectors are gone
    full: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Everything agrees (staged rows of an unfinished ingest and stray vectors aside, which
        readers never see)."""
        return self.store == "ok" and self.lexical == "ok" and not self.missing and not self.broken

    @property
    def clean(self) -> bool:
        """Agrees, and nothing is left over from an interrupted write."""
        return self.ok and not self.orphans and not self.unstaged

    def problems(self) -> list[str]:
        out = []
        if self.store == "missing":
            out.append("the vector store has no collection for this index")
        elif self.store == "foreign":
            out.append("the vector store's collection was not created for this index")
        for doc_id, n in sorted(self.missing.items()):
            out.append(f"{doc_id}: {n} chunk vector{'s' * (n != 1)} missing from the vector store")
        out += [f"{doc_id}: its chunks or sentences in the catalog are incomplete" for doc_id in self.broken]
        if self.lexical != "ok":
            out.append(f"the lexical index is {self.lexical}")
        if self.orphans:
            out.append(f"{len(self.orphans)} vectors in the store belong to no document (left by an "
                       "interrupted write; readers ignore them)")
        if self.unstaged:
            out.append(f"{len(self.unstaged)} staged documents lost their vectors")
        return out

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok, "clean": self.clean, "problems": self.problems()}


def check(index, *, full: bool = False) -> CheckReport:
    started = time.perf_counter()
    catalog, store = index.catalog, index.store
    report = CheckReport(full=full)
    index_id, generation, _, lexical_name = catalog.state()
    layout = catalog.layout()
    report.documents = sum(1 for h, n, _, _ in layout.values() if n >= 0)
    report.chunks = sum(len(ns) for _, n, ns, _ in layout.values() if n >= 0)
    for doc_id, (h, n, ns, sentences) in sorted(layout.items()):
        if n < 0 or ns != list(range(n)) or (n and not sentences):
            report.broken.append(doc_id)

    published, staged = catalog.vector_count()
    seal = catalog.seal
    if not full and seal and seal == store.fingerprint():
        report.vectors = published + staged          # as the last complete write left them
    elif not store.exists():
        report.store = "missing"
    elif store.stamp != index_id or not index_id:
        report.store = "foreign"
    else:
        report.vectors = store.count()
        if full or report.vectors != published + staged:
            have = set(store.ids())
            should = catalog.vector_ids(staged=False)
            staged_ids = catalog.vector_ids(staged=True) - should
            for vid in should - have:
                doc_id = doc_of(vid)
                report.missing[doc_id] = report.missing.get(doc_id, 0) + 1
            report.orphans = sorted(have - should - staged_ids)
            report.unstaged = sorted({doc_of(v) for v in staged_ids - have})
            report.full = True
    if report.store != "ok":
        report.missing = {doc_id: len(ns) for doc_id, (_, n, ns, _) in layout.items() if n > 0}

    report.lexical = _lexical(index.lexical_dir, lexical_name, generation, catalog, full)
    report.seconds = time.perf_counter() - started
    return report


def _lexical(root, name: str, generation: int, catalog, full: bool) -> str:
    if not generation:
        return "ok"                                  # nothing published yet
    if not name or not (root / name).is_dir():
        return "missing"
    if not name.startswith(f"g{generation:09d}-"):
        return "stale"
    if full:
        try:
            lexical = LexicalIndex.load(root, name)
        except IndexCorrupted:
            return "damaged"
        if lexical.ids != [cid for cid, _ in catalog.all_chunks()]:
            return "stale"
    return "ok"


def repair(index, report: CheckReport, *, embedded: bool, fix: str = "`rag ingest --rebuild`") -> list[str]:
    """Fix what `report` found, but the documents to re-embed: returns those (published ones
    whose vectors or catalog rows are missing; the caller re-embeds them from the catalog's
    text and publishes them). A foreign collection on a Chroma server is never emptied: that
    raises IndexMismatch. Call with the writer lock held."""
    store, catalog = index.store, index.catalog
    if report.store != "ok" or report.orphans:
        catalog.unseal()
    if report.store != "ok":
        if store.exists() and store.count() and not embedded:
            raise IndexMismatch(f"the Chroma collection {store.name!r} at {store.where} belongs to "
                                f"another index: use another collection (RAG_COLLECTION), or rebuild "
                                f"into this one with {fix}")
        with index.lock.publishing():
            store.drop()             # empty, or stamped for an index whose catalog is gone
            store.exists()           # recreated now, stamped with this index's id
            catalog.bump_epoch()
        catalog.unstage(catalog.staged())
    else:
        if report.orphans:
            with index.lock.publishing():
                store.delete_ids(report.orphans)
                catalog.bump_epoch()
        if report.unstaged:
            catalog.unstage(report.unstaged)
    return sorted(set(report.missing) | set(report.broken))
