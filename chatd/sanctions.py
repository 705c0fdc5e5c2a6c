"""Sanctions in one place: mutes, the watchlist and blocks, each written to the store and its cache together.

Readers (the pipeline's state, the desk, the relay's blocks) read the cache; every change goes
through here, store first, so that the cache never holds what the store does not. Several instances on
one store: each reloads its cache when the store's version changes (chatd.runtime.Runtime.watch_store).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from chatd.core.model import Directory, Member
from chatd.store import Store
from chatd.store.guides import GuideStore


class Sanctions:
    def __init__(self, store: Store, directory: Directory, clock: Callable[[], float]):
        self.store = store
        self.guides = GuideStore(store.db)
        self.directory = directory  # holds the blocks: the core reads them there (chatd.core.direct)
        self.clock = clock
        self._mutes: dict[int, float] = {}  # member id -> muted until
        self._watched: set[int] = set()
        self._lock = asyncio.Lock()  # a reload never puts back what a change made during it replaced

    async def load(self) -> None:
        async with self._lock:
            self._mutes = await self.guides.mutes()
            self._watched = await self.guides.watched()

    def sizes(self) -> tuple[int, int]:
        """How many mutes (running or not) and watched members the cache holds."""
        return len(self._mutes), len(self._watched)

    # mutes

    def muted_until(self, member: Member) -> float | None:
        until = self._mutes.get(member.id)
        return until if until is not None and until > self.clock() else None

    async def mute(self, member: Member, until: float, reason: str, by: str) -> None:
        async with self._lock:
            await self.guides.mute(member.id, until, reason, by)
            self._mutes[member.id] = until

    async def unmute(self, member: Member) -> None:
        async with self._lock:
            await self.guides.unmute(member.id)
            self._mutes.pop(member.id, None)

    # the watchlist

    def is_watched(self, member: Member) -> bool:
        return member.id in self._watched

    async def watch(self, member: Member, reason: str, by: str, on: bool) -> None:
        async with self._lock:
            await self.guides.watch(member.id, reason, by, on)
            (self._watched.add if on else self._watched.discard)(member.id)

    # blocks: who a member does not want to hear from

    async def block(self, blocker: Member, blocked: Member, on: bool) -> None:
        await self.store.set_block(blocker.id, blocked.id, on)
        self.directory.set_block(blocker, blocked, on)
