"""The command that repairs or rebuilds an index from the very files it was built from.

Every error that asks the user to re-ingest names the sources recorded in the catalog (or in
its copy `sources.json` when the catalog cannot be read), so following the advice never adds
the bundled articles to an index of someone's own folder, nor drops their articles.
"""

from __future__ import annotations

import json
import shlex
import sqlite3
from pathlib import Path

from index.catalog import SOURCES_FILE


def recorded_sources(home: Path) -> list[str]:
    """The files and folders the index in `home` was built from ([] when none are known). An
    index older than the record stands for the folders its documents' files are in."""
    try:
        db = sqlite3.connect(f"file:{Path(home) / 'catalog.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            paths = [p for (p,) in db.execute("SELECT path FROM sources ORDER BY path")]
            if not paths:
                folders = sorted({str(Path(p).parent) for (p,) in db.execute("SELECT source FROM docs")})
                paths = [f for f in folders if not any(f.startswith(g + "/") for g in folders)]
        finally:
            db.close()
        if paths:
            return paths
    except sqlite3.Error:
        pass
    try:
        paths = json.loads((Path(home) / SOURCES_FILE).read_text())
        return [str(p) for p in paths] if isinstance(paths, list) else []
    except (OSError, ValueError):
        return []


def fix_command(home: Path, *, rebuild: bool = False) -> str:
    """"`rag ingest [--rebuild] PATH...`" for the index in `home`, quoted for a shell."""
    words = ["rag", "ingest"] + (["--rebuild"] if rebuild else [])
    paths = recorded_sources(home)
    if not paths:
        return f"`{' '.join(words)} FILES_OR_FOLDERS` (the files it was built from)"
    return "`" + " ".join(words + [shlex.quote(p) for p in paths]) + "`"
