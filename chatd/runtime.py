"""What every domain handler shares: config, store, directory, moderation, limits, queues."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from chatd import i18n
from chatd.bus import LocalBus
from chatd.config import Config
from chatd.core.crisis import CrisisFollowUp
from chatd.core.fragments import FragmentWindow
from chatd.core.model import Directory, Member, Realm
from chatd.core.moderation import Moderation
from chatd.core.ratelimit import RateLimiter
from chatd.core.refusal import Refusal
from chatd.core.resends import Resends, message_key
from chatd.core.resources import ResourceLibrary
from chatd.core.shadow import Reviewed
from chatd.events import MemberJoined, MemberLeft
from chatd.hook import ExternalHook
from chatd.metrics import Metrics
from chatd.sanctions import Sanctions
from chatd.serial import SerialQueues
from chatd.store import ArchivedMessage, Store
from chatd.vault.seal import Sealer
from chatd.xmpp.stream import ComponentStream

log = logging.getLogger("chatd")


@dataclass
class Counters:
    stanzas_in: int = 0
    stanzas_out: int = 0
    refused: int = 0
    dropped: int = 0
    delivered: int = 0
    quick_readings: int = 0  # windows read by wording alone because readings fell behind
    verdicts: dict[tuple[str, str], int] = field(default_factory=dict)  # (action, finding category)


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
    review_listeners: list[Callable[[Reviewed], None]] = field(default_factory=list)
    # (realm, room, member, joined) for every member who enters or leaves a room
    presence_listeners: list[Callable[[str, str, Member, bool], None]] = field(default_factory=list)
    streams: dict[str, ComponentStream] = field(default_factory=dict)  # domain -> its stream
    sealer: Sealer | None = None  # seals what members share for the Senior Clinicians (public key only)
    # files a member's report: (reporter, conversation, reported message or None, reason); set by the desk
    file_report: Callable[[Member, str, ArchivedMessage | None, str], Awaitable[None]] | None = None
    metrics: Metrics | None = None
    fragments: FragmentWindow = field(default_factory=lambda: FragmentWindow(i18n.label))
    resends: Resends = field(default_factory=lambda: Resends(600.0))
    crisis: CrisisFollowUp = field(default_factory=CrisisFollowUp)  # who got crisis resources lately
    sanctions: Sanctions = field(init=False)  # mutes, watchlist, blocks: cache and store together

    def __post_init__(self) -> None:
        self.sanctions = Sanctions(self.store, self.directory, self.now)

    def is_resend(self, account: str, origin_id: str | None, stanza_id: str | None, body: str | None) -> bool:
        """A member's text seen before within the window; a new one is claimed (see chatd.core.resends)."""
        key = message_key(account, origin_id, stanza_id, body)
        return key is not None and not self.resends.claim(key, time.monotonic())

    def release_resend(self, account: str, origin_id: str | None, stanza_id: str | None, body: str | None) -> None:
        """The text was not accepted (the archive failed): the client may send it again."""
        self.resends.release(message_key(account, origin_id, stanza_id, body))

    def now(self) -> float:
        return time.time()

    async def report(self, reporter: Member, conversation: str, reported: ArchivedMessage | None, reason: str) -> None:
        """A member's report, to whoever files reports (the desk)."""
        if self.file_report is not None:
            await self.file_report(reporter, conversation, reported, reason)

    def reviewed(self, record: Reviewed) -> None:
        """Every text after review, whatever the verdict: the desk and the shadow rooms listen."""
        for listener in self.review_listeners:
            try:
                listener(record)
            except Exception:
                log.exception("a review listener failed")

    def room_presence(self, realm: str, room: str, member: Member, joined: bool) -> None:
        """A member entered or left a room: an event on the bus, a line in the shadow room."""
        event = MemberJoined if joined else MemberLeft
        self.bus.publish(event(realm=realm, room=room, member=member.pseudonym))
        for listener in self.presence_listeners:
            try:
                listener(realm, room, member, joined)
            except Exception:
                log.exception("a presence listener failed")

    async def send(self, domain: str, stanza: str | bytes) -> None:
        """Sends through the stream that owns the domain (never from another domain)."""
        await self.streams[domain].send(stanza)
        self.counters.stanzas_out += 1

    def texts(self, refusal: Refusal, member: Member | None) -> dict[str, str]:
        """The refusal's text in the member's language, or in every language."""
        if member is not None and not refusal.bilingual:
            language = self.realms[member.realm].language
            return {language: i18n.text(language, refusal.text, **refusal.params)}
        return {lang: i18n.text(lang, refusal.text, **refusal.params) for lang in i18n.LANGUAGES}

    def language_of(self, member: Member) -> str:
        return self.realms[member.realm].language

    async def refresh_directory(self) -> None:
        self.directory.replace(await self.store.members(), await self.store.blocks())

    async def watch_store(self, interval: float = 0.5) -> None:
        """Reloads the directory when another process (the CLI) changed the store."""
        version = await self.store.data_version()
        while True:
            await asyncio.sleep(interval)
            try:
                current = await self.store.data_version()
                if current != version:
                    version = current
                    await self.refresh_directory()
                    log.info("directory reloaded: %d members", len(self.directory))
            except Exception:
                log.exception("directory reload failed")
