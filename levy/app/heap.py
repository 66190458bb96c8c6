"""The cyclic garbage collector, set for a process that loads a site and then streams readings.

What a daemon or a replay loads before its first reading (meters, states, open rows, the router)
lives as long as the run, and a batch allocates tuples by the thousand that reference counting
frees. With Python's defaults, a young collection every 700 new containers kept walking them,
and every full one walked the whole site: about a tenth of a drain's worker and 3 us of a
replayed line's 25.
"""

import ctypes
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

YOUNG_THRESHOLD = 50_000
"""New containers between young collections (Python's default: 700)."""


@contextmanager
def settled_heap() -> Iterator[None]:
    """While it lasts, what is there now is never scanned, and the young generation is
    collected far less often (garbage in cycles is rare here: it waits a little longer). The
    collector is as it was afterwards, for a caller that goes on (a test, say)."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 10)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def give_back() -> None:
    """Hand the heap's free pages back to the system, where the C library can (glibc's
    `malloc_trim`): the freed memory of a backlog's batches otherwise stays with the process
    (16 MiB at 100,000 meters after their first readings)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> "ctypes._NamedFuncPointer | None":
    return getattr(ctypes.CDLL(None), "malloc_trim", None)
