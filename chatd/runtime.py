"""The parts the composition root makes once (config, store, directory, moderation, limits, queues, ports).

No component takes a Runtime: chatd/wiring.py hands each one the parts it uses.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from chatd import i18n
from chatd.bus import LocalBus
from chatd.config import Config
from chatd.core.courses import Courses
from chatd.core.crisis import CrisisFollowUp
from chatd.core.fragments import FragmentWindow
from chatd.core.instruments import Instruments
from chatd.core.model import Directory, Realm
from chatd.core.moderation import Moderation
from chatd.core.ratelimit import RateLimiter
from chatd.core.resends import Resends
from chatd.core.resources import ResourceLibrary
from chatd.hook import ExternalHook
from chatd.metrics import Metrics
from chatd.peers import Peers
from chatd.ports import Counters, Languages, Outlet, ResendCheck, Signals, wall_clock
from chatd.sanctions import Sanctions
from chatd.serial import SerialQueues
from chatd.store import Store
from chatd.vault.seal import Sealer
from chatd.xmpp.stream import ComponentStream

log = logging.getLogger("chatd")


@dataclass
class Runtime:
    config: Config
    store: Store
    directory: Directory
    moderation: Moderation
    limiter: RateLimiter
    queues: SerialQueues
    realms: dict[str, Realm]
    counters: Counters = field(default_factory=Counters)
    resources: ResourceLibrary = field(default_factory=lambda: ResourceLibrary((), {}))
    bus: LocalBus = field(default_factory=LocalBus)
    hook: ExternalHook | None = None
    streams: dict[str, ComponentStream] = field(default_factory=dict)  # domain -> its stream
    sealer: Sealer | None = None  # seals what members share for the Senior Clinicians (public key only)
    metrics: Metrics | None = None
    fragments: FragmentWindow = field(default_factory=lambda: FragmentWindow(i18n.label))
    resends: Resends = field(default_factory=lambda: Resends(600.0))
    crisis: CrisisFollowUp = field(default_factory=CrisisFollowUp)  # who got crisis resources lately
    instruments: Instruments = field(default_factory=Instruments)  # what selfhelp@ offers
    courses: Courses = field(default_factory=Courses)
    peers: Peers = field(default_factory=Peers)  # the other instances (NATS), when there are any
    sanctions: Sanctions = field(init=False)  # mutes, watchlist, blocks: cache and store together
    signals: Signals = field(init=False)  # reviewed texts, room presence, reports: to whoever listens
    outlet: Outlet = field(init=False)
    languages: Languages = field(init=False)
    resent: ResendCheck = field(init=False)

    def __post_init__(self) -> None:
        self.sanctions = Sanctions(self.store, self.directory, self.now)
        self.signals = Signals(self.bus)
        self.outlet = Outlet(self.streams, self.counters)
        self.languages = Languages(self.realms)
        self.resent = ResendCheck(self.resends)

    def now(self) -> float:
        return wall_clock()

    async def send(self, domain: str, stanza: str | bytes) -> None:
        """Sends through the stream that owns the domain (never from another domain)."""
        await self.outlet.send(domain, stanza)

    async def refresh_directory(self) -> None:
        self.directory.replace(await self.store.members(), await self.store.blocks())

    async def watch_store(self, interval: float = 0.5) -> None:
        """Reloads the directory and the sanctions when another process (the CLI, another instance) changed the
        store."""
        version = await self.store.data_version()
        while True:
            await asyncio.sleep(interval)
            try:
                current = await self.store.data_version()
                if current != version:
                    version = current
                    await self.refresh_directory()
                    await self.sanctions.load()
                    sizes = self.sanctions.sizes()
                    log.info("directory reloaded: %d members, %d muted, %d watched", len(self.directory), *sizes)
            except Exception:
                log.exception("directory reload failed")
