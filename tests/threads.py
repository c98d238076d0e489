"""Run one call on several threads at once, for the tests of lazily opened parts."""

from __future__ import annotations

import threading
from typing import Any, Callable


def at_once(call: Callable[[], Any], threads: int) -> tuple[list, list[Exception]]:
    """Start `threads` threads running `call`, wait for all; (results, errors)."""
    results, errors = [], []

    def run() -> None:
        try:
            results.append(call())
        except Exception as exc:    # any failure is the finding
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return results, errors
