"""After a crash: one-on-one messages received but not archived are handled again, and those
archived but not confirmed as taken by the XMPP server are sent again.

Received messages are journaled before anything else happens to them (chatd.store.journal);
after a restart, those the archive does not have go through the stream's handler again, except
those answered without being archived (commands to wallguide@, topics asked of resources@: the
journal records them as handled).

Each stream reports which messages the kernel has transmitted (marked sent) and which the server
has routed (a ping answered behind them; chatd.core.delivery). What a crash left unsent is sent
once more when the stream is up after the restart, and what a dropped connection left unrouted is
sent after the reconnect, both with the original time (XEP-0203). Room messages are not sent
again: members who rejoin get them from the room's history and archive. docs/faults.md says what
remains.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

from chatd.core.commands import parse_command
from chatd.core.model import Directory, Realm
from chatd.store import ArchivedMessage, Store
from chatd.store.journal import Journal
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.payloads import stamp
from chatd.xmpp.ns import NS_DELAY
from chatd.xmpp.services import SELFHELP
from chatd.xmpp.stream import ComponentStream

log = logging.getLogger("chatd.recovery")

UNCLAIMED_SECONDS = 10.0  # far longer than an instance takes to confirm what it sends (chatd.store.SENT_SECONDS)
HANDLED = b"\x00"  # a journal record: a member's message answered without being archived ("account TAB id")


class Recovery:
    def __init__(self, store: Store, directory: Directory, realms: Mapping[str, Realm]):
        self.store = store
        self.directory = directory
        self.realms = realms
        self.sent_again = 0
        self.journal = Journal(store.path)
        self._received: list[ET.Element] = []  # journaled by the last run, not archived
        self._left: list[ArchivedMessage] = []  # unconfirmed by the last run
        self._unclaimed: list[str] = []  # unconfirmed in a shared store at start: this run's or another instance's
        self._uncertain: dict[str, set[str]] = {}  # domain -> stanza ids unconfirmed when its stream dropped
        self._tasks: set[asyncio.Task[None]] = set()

    async def load(self) -> None:
        """Before the streams start: what the last run received and did not archive, and what it
        archived and did not confirm sent."""
        await self.store.open_sent_log()
        archived = await self.store.recent_client_ids()
        records = self.journal.recover()
        handled = {tuple(r[1:].decode(errors="replace").split("\t", 1)) for r in records if r.startswith(HANDLED)}
        for record in records:
            if record.startswith(HANDLED):
                continue
            try:
                element = ET.fromstring(record)
            except ET.ParseError:
                continue
            sender, message_id = st.split_jid(element.get("from")), element.get("id")
            member = self.directory.by_account(f"{sender[0]}@{sender[1]}") if sender else None
            answered = (member.account, message_id) in handled if member is not None else False
            if member is not None and message_id and (member.id, message_id) not in archived and not answered:
                self._received.append(element)  # without an id it could not be told from an archived one
        self.journal.start()
        left = await self.store.unsent()
        if self.store.postgres:  # a shared store: another instance may be about to confirm these (send_unclaimed)
            self._unclaimed = [m.stanza_id for m in left]
        else:
            self._left = left
        if self._received:
            log.warning("%d received messages were not archived: handling them again", len(self._received))
        if self._left:
            log.warning("%d archived messages were not confirmed sent: sending them again", len(self._left))

    def attach(self, stream: ComponentStream, journaled: bool) -> None:
        """Journaled: the stream's received messages are journaled (the people domains)."""
        if journaled:
            stream.journal = self._journal
            stream.journal_flush = self.journal.flush
            stream.handled = self._handled
        stream.on_confirmed = self.store.mark_sent
        stream.on_uncertain = lambda ids: self._uncertain.setdefault(stream.domain, set()).update(ids)
        stream.on_up = lambda: self._start(stream)

    def _journal(self, element: ET.Element) -> None:
        """A member's message before anything else happens to it; never details shared to be sealed
        ("!share": only the vault ever holds them), never what is written to selfhelp@ (not archived, so it
        would be handled again after every restart: an answer given twice; and a journal entry is kept in the
        member's journal only)."""
        to = st.split_jid(element.get("to"))
        if to is not None and to[0] == SELFHELP:
            return
        command = parse_command(st.body(element) or "")
        if command is None or command.name != "share":
            self.journal.add(st.serialized(element))  # written when the stream's read ends (journal_flush)

    def _handled(self, account: str, message_id: str) -> None:
        """A member's message answered without being archived: not handled again after a restart."""
        self.journal.append(HANDLED + f"{account}\t{message_id}".encode())

    def _start(self, stream: ComponentStream) -> None:
        task = asyncio.create_task(self._send_again(stream))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_again(self, stream: ComponentStream) -> None:
        received = [e for e in self._received if (st.split_jid(e.get("to")) or ("", "", ""))[1] == stream.domain]
        self._received = [e for e in self._received if e not in received]
        for element in received:
            stream.received(element)
        rows = [m for m in self._left if self._domain_of(m) == stream.domain]
        self._left = [m for m in self._left if self._domain_of(m) != stream.domain]
        uncertain = self._uncertain.pop(stream.domain, set())
        if uncertain:
            rows += await self.store.by_stanza_ids(sorted(uncertain))
        if rows:
            log.warning("stream %s: sending %d unconfirmed messages again", stream.domain, len(rows))
        await self._send(stream, rows)

    async def _send(self, stream: ComponentStream, rows: Iterable[ArchivedMessage]) -> None:
        directory = self.directory
        for row in rows:
            sender = directory.by_id(row.sender_id)
            recipient = directory.by_id(row.recipient_id) if row.recipient_id is not None else None
            if sender is None or recipient is None or row.body is None:
                self.store.mark_sent([row.stanza_id])  # nobody left to send it to
                continue
            domain = stream.domain
            stanza = (
                f"<message from={quoteattr(f'{sender.pseudonym}@{domain}')} to={quoteattr(recipient.account)}"
                f" type='chat' id={quoteattr(row.client_id or row.stanza_id)}><body>{escape(row.body)}</body>"
                f"<delay xmlns='{NS_DELAY}' stamp='{stamp(row.created_at)}' from='{domain}'/></message>"
            )
            await stream.send(stanza, row.stanza_id)
            self.sent_again += 1

    async def send_unclaimed(self, streams: Mapping[str, ComponentStream], wait: float = UNCLAIMED_SECONDS) -> None:
        """On a shared store: the messages unconfirmed at start that are still unconfirmed after `wait` (a living
        instance confirms its own within a second or so; these were left by one that stopped or was killed) are
        sent again, each from its sender's domain. Until then they wait: sending them at once would repeat what
        a living instance is delivering."""
        if not self._unclaimed:
            return
        await asyncio.sleep(wait)
        rows = [m for m in await self.store.by_stanza_ids(self._unclaimed) if m.unsent]
        self._unclaimed = []
        if rows:
            log.warning("%d archived messages left unconfirmed in the shared store: sending them again", len(rows))
        for domain, stream in streams.items():
            await self._send(stream, [m for m in rows if self._domain_of(m) == domain])

    async def after_takeover(self, streams: Mapping[str, ComponentStream]) -> None:
        """Another instance fell silent (chatd/takeover.py): what is unconfirmed in the shared store now and still
        is after the wait (what that instance archived and never had confirmed sent) is sent again."""
        self._unclaimed += [m.stanza_id for m in await self.store.unsent()]
        await self.send_unclaimed(streams)

    def _domain_of(self, row: ArchivedMessage) -> str:
        sender = self.directory.by_id(row.sender_id)
        return self.realms[sender.realm].people_domain if sender is not None else ""
