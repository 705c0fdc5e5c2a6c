"""A component stream's one bounded outbox: stanzas wait there while the stream is down or the
socket is full, and senders wait while it is full (back-pressure)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable


class Outbox:
    """Stanzas waiting to be written: bounded, kept while the stream is down.

    A stanza may carry a token (its archive id); `on_written` gets the token once the stanza is written.
    """

    def __init__(self, size: int, on_written: Callable[[str], None] | None = None):
        self.size = size
        self.queue: deque[tuple[bytes, str | None]] = deque()
        self.dropped = 0
        self.on_written = on_written
        self._write: Callable[[bytes], None] | None = None
        self._paused = False
        self._space = asyncio.Event()
        self._space.set()

    def attach(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._paused = False
        self.flush()

    def detach(self) -> None:
        self._write = None

    def pause(self) -> None:
        self._paused = True

    def resume(self) -> None:
        self._paused = False
        self.flush()

    def flush(self) -> None:
        while self.queue and self._write is not None and not self._paused:
            self._emit(*self.queue.popleft())
        if len(self.queue) < self.size:
            self._space.set()

    def _emit(self, data: bytes, token: str | None) -> None:
        assert self._write is not None
        self._write(data)
        if token is not None and self.on_written is not None:
            self.on_written(token)

    def _try(self, data: bytes, token: str | None = None) -> bool:
        if self._write is not None and not self._paused and not self.queue:
            self._emit(data, token)
            return True
        if len(self.queue) < self.size:
            self.queue.append((data, token))
            if len(self.queue) >= self.size:
                self._space.clear()
            return True
        return False

    async def put(self, data: bytes, token: str | None = None) -> None:
        """Queue one stanza, waiting while the outbox is full (back-pressure)."""
        while not self._try(data, token):
            await self._space.wait()

    def put_nowait(self, data: bytes) -> bool:
        """Queue one stanza if there is room; count it as dropped otherwise."""
        if self._try(data):
            return True
        self.dropped += 1
        return False
