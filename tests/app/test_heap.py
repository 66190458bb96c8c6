"""The collector's settings for a run: set while it lasts, as they were afterwards."""

import gc

from levy.app.heap import YOUNG_THRESHOLD, settled_heap


def test_the_collector_is_as_it_was_after_the_run() -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    with settled_heap():
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
        assert gc.get_freeze_count() > frozen
    assert (gc.get_threshold(), gc.get_freeze_count()) == (thresholds, frozen)
