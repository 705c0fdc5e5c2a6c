"""Domain events to NATS JetStream: buffered while NATS is away, published in order once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from nats.js.api import StreamConfig

from bridges.nats import NatsLink
from chatd.events import EVENT_TYPES, Event

log = logging.getLogger("chatd.nats.events")

STREAM = "CHATD_EVENTS"
SUBJECTS = [f"chatd.*.{event_type.name}" for event_type in EVENT_TYPES]


class JetStreamPublisher:
    """A bus subscriber: keeps at most `buffer_size` events waiting; overflow is counted and logged."""

    def __init__(self, link: NatsLink, buffer_size: int = 10_000):
        self.link = link
        self.buffer: deque[Event] = deque()
        self.buffer_size = buffer_size
        self.published = 0
        self.overflowed = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stream_ready = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._drain())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def __call__(self, event: Event) -> None:
        if len(self.buffer) >= self.buffer_size:
            self.overflowed += 1
            if self.overflowed == 1 or self.overflowed % 1000 == 0:
                log.warning("event buffer full: %d events dropped so far", self.overflowed)
            return
        self.buffer.append(event)
        self._wake.set()

    async def _drain(self) -> None:
        while True:
            if not self.buffer:
                self._wake.clear()
                await self._wake.wait()
            if not self.link.connected or self.link.client is None:
                self._stream_ready = False
                await asyncio.sleep(0.2)
                continue
            jetstream = self.link.client.jetstream()
            try:
                if not self._stream_ready:
                    await self._ensure_stream(jetstream)
                event = self.buffer[0]
                await jetstream.publish(
                    event.subject, event.model_dump_json().encode(), timeout=2, headers={"Nats-Msg-Id": event.id}
                )
            except Exception as exc:  # NATS went away mid-publish: the event stays first in line
                log.warning("event publish failed (%s); will retry", type(exc).__name__)
                self._stream_ready = False
                await asyncio.sleep(0.5)
                continue
            self.buffer.popleft()
            self.published += 1

    async def _ensure_stream(self, jetstream) -> None:  # type: ignore[no-untyped-def]
        config = StreamConfig(name=STREAM, subjects=SUBJECTS)
        try:
            await jetstream.stream_info(STREAM)
            await jetstream.update_stream(config)
        except Exception:
            await jetstream.add_stream(config)
        self._stream_ready = True
