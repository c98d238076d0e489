"""Checking an uploaded file before it is stored: allowed types, size limit, a safe name.

The stored name is the file's base name reduced to letters, digits, `.`, `_` and `-` (so
`../../x.txt` becomes `x.txt` and lands inside the uploads folder, never outside it). The name's
stem becomes the article id. Raises BadDocument with a message that says what to do; stores
nothing itself (see Service.upload).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from rag.errors import BadDocument

ALLOWED = (".txt", ".md", ".rst", ".html", ".pdf")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name that is safe to create inside the uploads folder, or BadDocument."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _UNSAFE.sub("_", base).strip("._-")
    suffix = Path(base).suffix.lower()
    stem = base[: len(base) - len(suffix)].strip("._-")[:80]
    shown = str(name)[-80:]
    if suffix not in ALLOWED:
        raise BadDocument(f"{shown}: only {', '.join(ALLOWED)} files can be uploaded; "
                          "convert it to one of those")
    if not stem:
        raise BadDocument(f"{shown}: the file name has no usable letters; rename it, e.g. article.txt")
    return stem + suffix


def check_size(path: Path, name: str, max_bytes: int) -> int:
    size = path.stat().st_size
    if size > max_bytes:
        raise BadDocument(f"{name}: {size:,} bytes is over the upload limit of {max_bytes:,} bytes; "
                          "split it or raise the limit with `rag serve --max-upload-mb`")
    if size == 0:
        raise BadDocument(f"{name}: the file is empty; nothing was stored")
    return size
