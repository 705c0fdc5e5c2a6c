"""Bounded one-on-one load for fault tests: pairs of real clients, a fixed rate, every message counted."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.integration.conftest import Stack
from tests.support.client import Client, body_of, tag

NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_FORWARD = "urn:xmpp:forward:0"


async def until(check: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(every)
    return check()


async def connect_as(stack: Stack, name: str) -> Client:
    account = stack.accounts[name]
    return await Client(account.jid, account.password, stack.prosody.c2s_port).connect()


@dataclass
class Tally:
    """What happened to each numbered message."""

    sent: dict[int, tuple[int, str]] = field(default_factory=dict)  # number -> (pair, stanza id)
    refused: set[int] = field(default_factory=set)  # the sender got an error for it
    copies: collections.Counter[int] = field(default_factory=collections.Counter)  # received, per number
    archived: collections.Counter[int] = field(default_factory=collections.Counter)  # in recipients' MAM

    @property
    def silently_lost(self) -> set[int]:
        return set(self.sent) - self.refused - set(self.copies) - set(self.archived)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for counter in (self.copies, self.archived) for n in counter.values() if n > 1)

    def summary(self) -> str:
        return (
            f"sent {len(self.sent)}, received {len(self.copies)}, refused {len(self.refused)}, "
            f"silently lost {len(self.silently_lost)}, duplicates {self.duplicates}"
        )


class Load:
    """Senders write to receivers' pseudonyms; receivers and senders' errors are tallied."""

    def __init__(self, stack: Stack, pairs: list[tuple[str, str]], label: str):
        self.stack = stack
        self.label = label  # in every body: runs on one stack are told apart
        self.body = re.compile(rf"^{label} (\d+)$")
        self.pairs = pairs
        self.senders: list[Client] = []
        self.receivers: list[Client] = []
        self.tally = Tally()
        self._number = 0

    async def connect(self) -> None:
        """Connects every client (again, after a server restart: what the old sessions got is counted)."""
        await self.close()
        self.senders = [await connect_as(self.stack, sender) for sender, _ in self.pairs]
        self.receivers = [await connect_as(self.stack, receiver) for _, receiver in self.pairs]

    async def close(self) -> None:
        self.collect_all()
        for client in [*self.senders, *self.receivers]:
            with contextlib.suppress(Exception):
                await client.close()

    def send(self, number: int | None = None) -> None:
        """Sends a numbered message (a new one, or again with its first id: a client's resend)."""
        if number is None:
            number, self._number = self._number, self._number + 1
            pair = number % len(self.pairs)
            stanza_id = f"{self.label}-{number}"
            self.tally.sent[number] = (pair, stanza_id)
        pair, stanza_id = self.tally.sent[number]
        to = self.stack.pseudonym_jid(self.pairs[pair][1])
        self.senders[pair].send_raw(
            f"<message to='{to}' type='chat' id='{stanza_id}'><body>{self.label} {number}</body></message>"
        )

    async def run(self, rate: float, seconds: float, fault_at: float, fault: Callable[[], Awaitable[None]]) -> None:
        """Sends at `rate` for `seconds`; `fault` runs (concurrently) `fault_at` seconds in."""
        started = time.monotonic()
        fault_task: asyncio.Task[None] | None = None
        count = int(rate * seconds)
        for n in range(count):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            if fault_task is None and time.monotonic() - started >= fault_at:
                fault_task = asyncio.create_task(fault())
            if all(s.xmpp.transport is not None for s in self.senders):
                self.send()
        if fault_task is not None:
            await fault_task

    def collect(self, client: Client) -> None:
        """Counts the numbered messages a client got, and the errors for those it sent."""
        by_id = {stanza_id: number for number, (_, stanza_id) in self.tally.sent.items()}
        for stanza in client.received:
            if stanza.tag != tag("message"):
                continue
            if stanza.get("type") == "error" and stanza.get("id") in by_id:
                self.tally.refused.add(by_id[stanza.get("id") or ""])
            elif (match := self.body.match(body_of(stanza) or "")) and stanza.get("type") != "error":
                self.tally.copies[int(match.group(1))] += 1
        client.received.clear()

    async def catch_up(self) -> None:
        """Counts what each recipient's server archive (MAM) holds, as a client catches up after a
        reconnect: messages routed to a session that the server's restart closed land there."""
        for receiver in self.receivers:
            after = ""
            for page in range(100):
                mark = receiver.mark()
                rsm = f"<set xmlns='{NS_RSM}'><max>50</max>{f'<after>{after}</after>' if after else ''}</set>"
                receiver.send_raw(f"<iq type='set' id='mam-{page}'><query xmlns='{NS_MAM}'>{rsm}</query></iq>")
                done = await receiver.expect(lambda s, p=page: s.get("id") == f"mam-{p}", start=mark)
                for stanza in receiver.received[mark:]:
                    inner = stanza.find(f"{{{NS_MAM}}}result/{{{NS_FORWARD}}}forwarded/{tag('message')}")
                    if inner is not None and (match := self.body.match(body_of(inner) or "")):
                        self.tally.archived[int(match.group(1))] += 1
                fin = done.find(f"{{{NS_MAM}}}fin")
                last = fin.find(f"{{{NS_RSM}}}set/{{{NS_RSM}}}last") if fin is not None else None
                if fin is None or fin.get("complete") == "true" or last is None:
                    break
                after = last.text or ""

    def collect_all(self) -> None:
        for client in [*self.senders, *self.receivers]:
            self.collect(client)

    async def settle(self, timeout: float = 10.0) -> Tally:
        """Waits until every message is received or refused (or the timeout), then returns the tally."""

        def settled() -> bool:
            self.collect_all()
            return not self.tally.silently_lost

        await until(settled, timeout, every=0.2)
        return self.tally
