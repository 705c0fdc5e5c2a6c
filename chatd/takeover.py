"""Several instances on ejabberd (docs/scale-out.md): when one falls silent, another takes its slots.

ejabberd keeps a dead connection's slot free, and drops its destinations' stanzas silently, until a new
connection authenticates. Every instance says it is alive each second; when one falls silent (3 s), each
living instance opens a second connection per domain, and ejabberd gives them the free slots: the dead
instance's rooms and pseudonyms answer again within seconds. A new instance says hello before it connects;
an instance holding slots it took over closes those connections first and answers, so the newcomer finds
the slots free.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from chatd.core.liveness import Liveness
from chatd.peers import ALIVE, HELLO, RELEASED, Peers
from chatd.xmpp.stream import ComponentStream

log = logging.getLogger("chatd.takeover")

HEARTBEAT_SECONDS = 1.0
GREETING_SECONDS = 3.0  # in heartbeats: a new instance waits at most this long for the others to free their slots


class Takeover:
    def __init__(
        self,
        peers: Peers,
        instance: str,
        open_streams: Callable[[], list[ComponentStream]],
        liveness: Liveness | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: float = HEARTBEAT_SECONDS,
    ):
        self.peers = peers
        self.instance = instance
        self.open_streams = open_streams  # one more connection per domain, started
        self.liveness = liveness or Liveness()
        self.clock = clock
        self.heartbeat = heartbeat
        self.taken: list[ComponentStream] = []  # the connections holding slots taken over
        self.takeovers = 0
        self._replied: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._releasing: asyncio.Task[None] | None = None
        peers.listen(ALIVE, self._alive)
        peers.listen(HELLO, self._hello)
        peers.listen(RELEASED, self._released)

    async def greet(self) -> None:
        """Before this instance connects: the others free the slots they took over (bounded in time)."""
        self.peers.tell(HELLO, {"instance": self.instance})
        started = self.clock()
        while self.clock() - started < GREETING_SECONDS * self.heartbeat:
            heard_enough = self.clock() - started > 2 * self.heartbeat  # time for everyone's heartbeat
            if heard_enough and self.liveness.alive() <= self._replied:
                return
            await asyncio.sleep(self.heartbeat / 10)
        log.warning("not every instance answered the greeting in time")

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._beat()), asyncio.create_task(self._watch())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_taken()

    async def _beat(self) -> None:
        while True:
            self.peers.tell(ALIVE, {"instance": self.instance})
            await asyncio.sleep(self.heartbeat)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat / 2)
            for _ in self.liveness.fell_silent(self.clock()):
                self.takeovers += 1
                log.warning("another instance fell silent: taking over the slots it held")
                self.taken += self.open_streams()

    def _alive(self, news: dict[str, Any]) -> None:
        self.liveness.seen(str(news["instance"]), self.clock())

    def _hello(self, news: dict[str, Any]) -> None:
        newcomer = str(news["instance"])
        self.liveness.seen(newcomer, self.clock())
        self._releasing = asyncio.create_task(self._release(newcomer))

    async def _release(self, newcomer: str) -> None:
        if self.taken:
            log.info("a new instance: the slots taken over are freed for it")
            await self._close_taken()
        self.peers.tell(RELEASED, {"instance": self.instance, "to": newcomer})

    async def _close_taken(self) -> None:
        taken, self.taken = self.taken, []
        for stream in taken:
            with contextlib.suppress(Exception):
                await stream.stop()

    def _released(self, news: dict[str, Any]) -> None:
        if news["to"] == self.instance:
            self._replied.add(str(news["instance"]))
