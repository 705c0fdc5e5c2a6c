"""NATS for chatd: one connection that keeps trying, and request/reply for the external hook."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client

log = logging.getLogger("chatd.nats")


class NatsLink:
    """A NATS connection made in the background: chatd keeps serving while NATS is away."""

    def __init__(self, url: str):
        self.url = url
        self.client: Client | None = None
        self.ready = asyncio.Event()  # set once the first connection is made
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        delay = 0.25
        while True:
            try:
                self.client = await nats.connect(
                    self.url,
                    connect_timeout=2,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                )
                log.info("connected to NATS")
                self.ready.set()
                return
            except Exception as exc:
                log.warning("NATS unreachable (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)

    async def _disconnected(self) -> None:
        log.warning("NATS connection lost")

    async def _reconnected(self) -> None:
        log.warning("NATS reconnected")

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.drain()


class NatsRequester:
    """Request/reply on one subject (the external moderation hook)."""

    def __init__(self, link: NatsLink, subject: str):
        self.link = link
        self.subject = subject

    async def request(self, payload: bytes, timeout: float) -> bytes:
        if not self.link.connected or self.link.client is None:
            raise ConnectionError("NATS is not connected")
        reply = await self.link.client.request(self.subject, payload, timeout=timeout)
        return bytes(reply.data)
