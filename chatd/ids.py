"""Stanza ids chatd gives the messages it archives and sends: time-ordered, with a random tail.

The random bytes come from the operating system's generator (as secrets does), read 4 KiB at a
time: one system call per thousand ids instead of one per id (each call also gave up the event
loop's hold on the interpreter to the risk reading's thread, measured in docs/performance.md).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

POOL_BYTES = 4096


class _Pool:
    def __init__(self) -> None:
        self.data = b""
        self.offset = 0
        self.lock = threading.Lock()

    def take(self, count: int) -> bytes:
        with self.lock:
            if self.offset + count > len(self.data):
                self.data, self.offset = os.urandom(max(POOL_BYTES, count)), 0
            start = self.offset
            self.offset += count
            return self.data[start : self.offset]

    def reset(self) -> None:
        """A forked child must never hand out its parent's bytes again."""
        self.data, self.offset = b"", 0
        self.lock = threading.Lock()


_pool = _Pool()
os.register_at_fork(after_in_child=_pool.reset)


def random_bytes(count: int) -> bytes:
    """Bytes from the operating system's generator, never handed out twice."""
    return _pool.take(count)


def new_stanza_id() -> str:
    return f"{time.time_ns():x}-{random_bytes(4).hex()}"


def new_event_id() -> str:
    """A random (version 4) UUID in hex, as uuid.uuid4().hex gives."""
    return uuid.UUID(bytes=random_bytes(16), version=4).hex
