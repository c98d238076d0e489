"""Fault injection for the crash tests: `RAG_FAULT_AT=<point>` kills this process (SIGKILL, as
`kill -9` would) when it reaches that named point; `<point>#<n>` kills it the n-th time.

Inert unless the variable is set: `point()` is one dictionary lookup. The points are named where
a write path changes something on disk (see POINTS); tests/test_faults.py kills at each of them
and checks that the recovery ends in the index a clean run builds.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "ingest.locked",          # writer lock held, nothing checked or changed yet
    "ingest.repaired",        # the consistency check's repairs are in the vector store
    "ingest.embedded",        # a group is embedded, nothing of it stored
    "ingest.upserted",        # a group's vectors are in the store, its catalog rows are not
    "ingest.staged",          # a group's catalog rows are staged (not yet visible)
    "publish.lexical",        # the new lexical index is on disk, the catalog not committed
    "publish.committed",      # the catalog switched; superseded vectors not yet deleted
    "publish.collected",      # superseded vectors deleted; old lexical folders not yet
    "delete.locked",
    "delete.lexical",
    "delete.committed",       # the document left the catalog; its vectors are still stored
    "upload.copied",          # the upload is in uploads/.incoming, nothing else changed
    "upload.replaced",        # the upload replaced its file in uploads/, not yet ingested
    "upload.ingested",        # ingested; the backup of the replaced file not yet removed
    "rebuild.dropped",        # the vector store collection is dropped, the catalog not yet
    "rebuild.wiped",          # the catalog and lexical index are gone, nothing re-ingested
)
_counts: dict[str, int] = {}


def point(name: str) -> None:
    target = os.environ.get("RAG_FAULT_AT")
    if not target:
        return
    want, _, nth = target.partition("#")
    if want != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
