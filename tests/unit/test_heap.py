"""The garbage collector's runs counted, and what the start built set aside (chatd/heap.py)."""

from __future__ import annotations

import gc

from chatd import heap


def test_collections_are_counted_by_generation_while_watched() -> None:
    collections = heap.Collections()
    collections.watch()
    collections.watch()  # once however often asked
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        collections.unwatch()
    assert collections.count[0] >= 1 and collections.count[2] >= 1
    assert collections.seconds > 0.0
    gc.collect(2)
    assert collections.count[2] == 1 and collections._observe not in gc.callbacks


def test_what_the_start_built_is_frozen_and_later_cycles_are_still_collected() -> None:
    built = [[] for _ in range(1000)]
    try:
        assert heap.settle() >= len(built)
        assert not any(item is built[0] for item in gc.get_objects())  # set aside: never walked again

        class Cycle:
            pass

        later = Cycle()
        later.itself = later  # type: ignore[attr-defined]
        seen = gc.get_objects(generation=0)
        assert any(item is later for item in seen)  # made afterwards: walked by the collector as before
        del later, seen
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
