"""The collector's settings for a run: set while it lasts, as they were afterwards; and the heap's
free pages handed back."""

import gc
import os

from levy.app.heap import YOUNG_THRESHOLD, give_back, settled_heap
from tests.live.harness import resident_kib


def test_the_collector_is_as_it_was_after_the_run() -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    with settled_heap():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > frozen
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)


def test_free_pages_amid_what_is_kept_go_back_to_the_system() -> None:
    blocks = [bytearray(8192) for _ in range(20_000)]  # 160 MiB from the C heap
    kept = blocks[::16]  # what stays in use pins the heap's top: free() alone returns nothing
    del blocks
    before = resident_kib(os.getpid())
    give_back()
    assert resident_kib(os.getpid()) < before - 100 * 1024
    assert len(kept) == 1_250
