"""Domain events to NATS JetStream: buffered while NATS is away, published in order once it is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from nats.js.api import StreamConfig

from bridges.nats import NatsLink
from chatd.events import EVENT_TYPES, Event

log = logging.getLogger("chatd.nats.events")

STREAM = "CHATD_EVENTS"
SUBJECTS = [f"chatd.*.{event_type.name}" for event_type in EVENT_TYPES]


@dataclass(frozen=True, slots=True)
class Outgoing:
    subject: str
    data: bytes
    headers: dict[str, str]


class JetStreamOutbox:
    """Publishes to one stream in order; keeps at most `buffer_size` waiting, overflow counted and logged."""

    def __init__(self, link: NatsLink, stream: StreamConfig, buffer_size: int = 10_000):
        self.link = link
        self.stream = stream
        self.buffer: deque[Outgoing] = deque()
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

    def put(self, outgoing: Outgoing) -> None:
        if len(self.buffer) >= self.buffer_size:
            self.overflowed += 1
            if self.overflowed == 1 or self.overflowed % 1000 == 0:
                log.warning("%s buffer full: %d dropped so far", self.stream.name, self.overflowed)
            return
        self.buffer.append(outgoing)
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
                    await self.ensure_stream(jetstream)
                await self.publish(jetstream, self.buffer[0])
            except Exception as exc:  # NATS went away mid-publish: the message stays first in line
                log.warning("%s publish failed (%s); will retry", self.stream.name, type(exc).__name__)
                self._stream_ready = False
                await asyncio.sleep(0.5)
                continue
            self.buffer.popleft()
            self.published += 1

    async def publish(self, jetstream, outgoing: Outgoing) -> None:  # type: ignore[no-untyped-def]
        """One message, acknowledged by the stream."""
        await jetstream.publish(outgoing.subject, outgoing.data, timeout=2, headers=outgoing.headers)

    async def ensure_stream(self, jetstream) -> None:  # type: ignore[no-untyped-def]
        try:
            await jetstream.stream_info(self.stream.name)
            await jetstream.update_stream(self.stream)
        except Exception:
            await jetstream.add_stream(self.stream)
        self._stream_ready = True


class JetStreamPublisher(JetStreamOutbox):
    """A bus subscriber: each event once on its subject (deduplicated by its id)."""

    def __init__(self, link: NatsLink, buffer_size: int = 10_000):
        super().__init__(link, StreamConfig(name=STREAM, subjects=SUBJECTS), buffer_size)

    def __call__(self, event: Event) -> None:
        self.put(Outgoing(event.subject, event.model_dump_json().encode(), {"Nats-Msg-Id": event.id}))
