"""The small parts components are given through their constructors (no component reaches into a runtime).

Each is what some component uses and nothing more: a clock, a way to send through the stream that
owns a domain, the languages of realms, the resend check, and the signals the desk and the shadow
rooms listen to. The composition root (chatd/wiring.py, chatd/app.py) makes one of each.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from chatd import i18n
from chatd.bus import Bus
from chatd.core.model import Member, Realm
from chatd.core.refusal import Refusal
from chatd.core.resends import Resends, message_key
from chatd.core.shadow import Reviewed
from chatd.events import MemberJoined, MemberLeft
from chatd.store import ArchivedMessage

log = logging.getLogger("chatd")

Clock = Callable[[], float]  # seconds since the epoch
Send = Callable[[str, str | bytes], Awaitable[None]]  # (domain, stanza): through the stream that owns the domain
# files a member's report: (reporter, conversation, reported message or None, reason)
FileReport = Callable[[Member, str, ArchivedMessage | None, str], Awaitable[None]]
ReviewListener = Callable[[Reviewed], None]
# (realm, room, member, joined) for every member who enters or leaves a room
PresenceListener = Callable[[str, str, Member, bool], None]
# a guide decided on a held text: (its original, the text delivered or None when rejected)
HeldListener = Callable[[str, str | None], Awaitable[None]]


class Writer(Protocol):
    async def send(self, stanza: str | bytes, token: str | None = None) -> None: ...


@dataclass
class Counters:
    stanzas_in: int = 0
    stanzas_out: int = 0
    refused: int = 0
    dropped: int = 0
    delivered: int = 0
    quick_readings: int = 0  # windows read by wording alone because readings fell behind
    read_ahead: int = 0  # texts whose meaning was encoded with others', ahead of their windows' readings
    reading_seconds: float = 0.0  # CPU time the risk readings after delivery took (their thread's own)
    verdicts: dict[tuple[str, str], int] = field(default_factory=dict)  # (action, finding category)


def wall_clock() -> float:
    return time.time()


class Outlet:
    """Sends through the stream that owns the domain (never from another domain), counted."""

    def __init__(self, streams: Mapping[str, Writer], counters: Counters):
        self.streams = streams  # filled by the composition root as streams are made
        self.counters = counters

    async def send(self, domain: str, stanza: str | bytes) -> None:
        await self.streams[domain].send(stanza)
        self.counters.stanzas_out += 1


class Languages:
    """Which language a member reads, and a refusal's text in it (or in every language)."""

    def __init__(self, realms: Mapping[str, Realm]):
        self.realms = realms

    def of(self, member: Member) -> str:
        return self.realms[member.realm].language

    def texts(self, refusal: Refusal, member: Member | None) -> dict[str, str]:
        if member is not None and not refusal.bilingual:
            language = self.of(member)
            return {language: i18n.text(language, refusal.text, **refusal.params)}
        return {lang: i18n.text(lang, refusal.text, **refusal.params) for lang in i18n.LANGUAGES}


class ResendCheck:
    """A member's text seen before within the window (see chatd.core.resends)."""

    def __init__(self, resends: Resends):
        self.resends = resends

    def seen(self, account: str, origin_id: str | None, stanza_id: str | None, body: str | None) -> bool:
        """True for a text seen before; a new one is claimed."""
        key = message_key(account, origin_id, stanza_id, body)
        return key is not None and not self.resends.claim(key, time.monotonic())

    def release(self, account: str, origin_id: str | None, stanza_id: str | None, body: str | None) -> None:
        """The text was not accepted (the archive failed): the client may send it again."""
        self.resends.release(message_key(account, origin_id, stanza_id, body))


class Signals:
    """What happened, to whoever listens: reviewed texts (the desk, the shadow rooms), room presence
    (an event on the bus, a line in the shadow room), and members' reports (the desk files them)."""

    def __init__(self, bus: Bus):
        self.bus = bus
        self.review_listeners: list[ReviewListener] = []
        self.presence_listeners: list[PresenceListener] = []
        self.held_listeners: list[HeldListener] = []
        self.file_report: FileReport | None = None
        self.file_welcome: Callable[[Member], Awaitable[None]] | None = None
        self.file_private: Callable[[Reviewed], Awaitable[None]] | None = None

    def reviewed(self, record: Reviewed) -> None:
        """Every text after review, whatever the verdict."""
        for listener in self.review_listeners:
            try:
                listener(record)
            except Exception:
                log.exception("a review listener failed")

    def room_presence(self, realm: str, room: str, member: Member, joined: bool) -> None:
        event = MemberJoined if joined else MemberLeft
        self.bus.publish(event(realm=realm, room=room, member=member.pseudonym))
        for listener in self.presence_listeners:
            try:
                listener(realm, room, member, joined)
            except Exception:
                log.exception("a presence listener failed")

    async def held_settled(self, original: str, delivered: str | None) -> None:
        """A guide approved (delivered: the text sent) or rejected (None) a held text (the upload service listens)."""
        for listener in self.held_listeners:
            try:
                await listener(original, delivered)
            except Exception:
                log.exception("a held-text listener failed")

    async def report(self, reporter: Member, conversation: str, reported: ArchivedMessage | None, reason: str) -> None:
        if self.file_report is not None:
            await self.file_report(reporter, conversation, reported, reason)

    async def private_alert(self, record: Reviewed) -> None:
        """A private text's (a journal entry's, a check-in answer's) risk alerts: the desk files them."""
        if self.file_private is not None:
            await self.file_private(record)

    async def new_member(self, member: Member) -> None:
        """A member's first login: the guides see them in the queue for a personal welcome."""
        if self.file_welcome is not None:
            await self.file_welcome(member)
