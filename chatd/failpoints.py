"""Named points where a test can make chatd die at once, as kill -9 would (CHATD_FAILPOINTS=name,...).

Fault tests use them to stop chatd between two steps (e.g. archived, not yet sent); unset, a
failpoint costs one set lookup.
"""

from __future__ import annotations

import os
import signal

ARMED = frozenset(filter(None, os.environ.get("CHATD_FAILPOINTS", "").split(",")))


def hit(name: str) -> None:
    if name in ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
