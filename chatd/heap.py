"""The garbage collector: what the start built is set aside, and what collections cost is counted.

The start builds over a million objects that live as long as the process (the policy engine's
lexicons and models, the catalogs, the directory). CPython's full collection walks every one of
them: half a second each on a shared machine, every few thousand relayed messages (the caches
that outlive a message push the collector into one), on whichever thread allocated at the time
(the event loop or the risk reading), holding the interpreter all along. Frozen once the start
is done (gc.freeze), they are never walked again; what is made afterwards is collected as before,
cycles included. docs/performance.md has the measurements.
"""

from __future__ import annotations

import gc
import time
from typing import Any


class Collections:
    """The collector's runs since the start, by generation, and their CPU time (the running thread's)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = 0.0
        self._started = 0.0

    def _observe(self, phase: str, info: dict[str, Any]) -> None:
        # one collection at a time (the collector holds the interpreter), so one start time suffices
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds += time.thread_time() - self._started
            self.count[info["generation"]] += 1

    def watch(self) -> None:
        if self._observe not in gc.callbacks:
            gc.callbacks.append(self._observe)

    def unwatch(self) -> None:
        if self._observe in gc.callbacks:
            gc.callbacks.remove(self._observe)


def settle() -> int:
    """After the start: what was built is collected once, and what survives is frozen (never walked again).
    Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
