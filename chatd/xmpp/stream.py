"""One XEP-0114 component stream per domain: reconnects by itself, one bounded outbox."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from slixmpp import ComponentXMPP

from chatd import failpoints, i18n
from chatd.core.delivery import PROBE_PREFIX, Confirmations
from chatd.core.input_limits import InputLimits, shape_problem
from chatd.xmpp import stanza as st
from chatd.xmpp.multicast import Multicast, Service
from chatd.xmpp.ns import NS_PING
from chatd.xmpp.outbox import Outbox

log = logging.getLogger("chatd.xmpp")

STANZA_TAGS = frozenset(
    f"{{{ns}}}{name}" for ns in ("jabber:component:accept", "jabber:client") for name in ("message", "presence", "iq")
)

StanzaHandler = Callable[["ComponentStream", ET.Element], None]
Tokens = Callable[[list[str]], None]
RECHECK_SECONDS = 0.002  # while written stanzas wait in chatd's or the kernel's buffers
PROBE_TIMEOUT = 10.0  # a routing probe (a ping to the server) unanswered this long is sent again
SIOCOUTQNSD = 0x894B  # Linux: bytes in a socket's send queue not yet transmitted
FROM_ATTRIBUTE = re.compile(rb"""^<[a-z]+\b[^>]*?\sfrom=(["'])([^"']*)\1""")


class WrongDomain(Exception):
    """A stanza that would be sent from a domain the stream does not own."""


class _Link(ComponentXMPP):  # type: ignore[misc]
    """slixmpp's component stream, with stanzas handed over raw and in order."""

    def __init__(self, owner: ComponentStream, domain: str, secret: str, host: str, port: int):
        super().__init__(domain, secret, host, port)
        self.owner = owner

    def data_received(self, data: bytes | str) -> None:
        try:
            super().data_received(data)
        finally:
            self.owner.end_of_read()

    def _spawn_event(self, xml: ET.Element) -> None:
        if xml.tag in STANZA_TAGS and self.sessionstarted:
            self.owner.received(xml)
        else:  # handshake, stream errors
            super()._spawn_event(xml)

    def reschedule_connection_attempt(self) -> None:
        # ComponentStream owns the retry loop and its backoff.
        self._current_connection_attempt = None

    def pause_writing(self) -> None:
        self.owner.outbox.pause()

    def resume_writing(self) -> None:
        self.owner.outbox.resume()


class ComponentStream:
    """Keeps one component connected to the server, reconnecting with backoff."""

    def __init__(
        self,
        domain: str,
        secret: str,
        host: str,
        port: int,
        outbox_size: int,
        handler: StanzaHandler,
        max_backoff: float = 10.0,
        input_limits: InputLimits | None = None,
        server_host: str = "",
        multicast: bool = False,
        own_domains: frozenset[str] = frozenset(),
    ):
        self.domain = domain
        self.host = host
        self.port = port
        self.handler = handler
        self.max_backoff = max_backoff
        self.input_limits = input_limits or InputLimits()
        self.confirmations = Confirmations()
        self.outbox = Outbox(outbox_size, self._written)
        self.server_host = server_host  # answers the routing probes (XEP-0199 ping)
        # the server's XEP-0033 service, looked for at each session start when multicast is on (chatd.xmpp.multicast)
        self.multicasting = Multicast(domain, server_host if multicast else "", self.send_nowait, own_domains)
        self.on_confirmed: Tokens | None = None  # tokens the server has certainly received
        self.on_uncertain: Tokens | None = None  # tokens not known routed when the connection dropped
        self.on_up: Callable[[], None] | None = None  # each time the session starts
        self.journal: Callable[[ET.Element], None] | None = None  # gets members' messages before anything else
        self.journal_flush: Callable[[], None] | None = None  # writes them, at the end of each read
        self.handled: Callable[[str, str], None] | None = None  # (account, id): answered, never archived
        self._journaled = False  # this read had members' messages for the journal
        self.state = "stopped"  # stopped, connecting, up, down
        self.reconnects = 0
        self.stanzas_in = 0
        self.stanzas_out = 0
        self.refused_shape = 0  # stanzas over the input limits
        self._link = _Link(self, domain, secret, host, port)
        self._link.add_event_handler("session_start", self._on_session_start)
        self._link.add_event_handler("disconnected", self._on_disconnected)
        self._link.add_event_handler("connection_failed", self._on_disconnected)
        self._started = asyncio.Event()
        self._ended = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._recheck: asyncio.TimerHandle | None = None
        self._probe_timer: asyncio.TimerHandle | None = None  # the oldest probe's deadline
        self._probe_due = False
        self._bytes_written = 0  # on the current connection
        self.writes = 0  # transport writes
        self.probes = 0  # routing probes sent

    # the stream's life

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep_connected(), name=f"stream {self.domain}")

    async def stop(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
        if self._link.transport is not None:
            await self._link.disconnect(wait=1.0)
        self.state = "stopped"

    async def wait_up(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._started.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _keep_connected(self) -> None:
        backoff = 0.25
        first = True
        while not self._closing:
            self.state = "connecting"
            self._started.clear()
            self._ended.clear()
            self._link.connect(self.host, self.port)
            if await self._race(timeout=15.0):
                backoff = 0.25
                if not first:
                    self.reconnects += 1
                    log.warning("stream %s reconnected", self.domain)
                first = False
                await self._ended.wait()
                if self._closing:
                    return
                log.warning("stream %s went down; reconnecting", self.domain)
            else:
                log.warning(
                    "stream %s: could not connect to %s:%d; retrying in %.2fs",
                    self.domain,
                    self.host,
                    self.port,
                    backoff,
                )
            self.state = "down"
            self._link.cancel_connection_attempt()
            await asyncio.sleep(backoff)
            backoff = min(self.max_backoff, backoff * 2)

    async def _race(self, timeout: float) -> bool:
        """Waits until the session starts (True) or the attempt ends or times out (False)."""
        started = asyncio.ensure_future(self._started.wait())
        ended = asyncio.ensure_future(self._ended.wait())
        _, pending = await asyncio.wait({started, ended}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if not self._started.is_set() and not self._ended.is_set():
            self._link.abort()
        return self._started.is_set()

    def _on_session_start(self, _event: Any) -> None:
        self.state = "up"
        transport = self._link.transport
        if transport is not None:
            self._bytes_written = 0
            self.outbox.attach(self._write)
        self._started.set()
        self.multicasting.start()
        if self.on_up is not None:
            self.on_up()

    def _on_disconnected(self, _reason: Any) -> None:
        self.outbox.detach()
        if self.state == "up":
            self.state = "down"
        self._ended.set()
        for timer in (self._recheck, self._probe_timer):
            if timer is not None:
                timer.cancel()
        self._recheck = self._probe_timer = None
        self._probe_due = False
        uncertain = self.confirmations.connection_lost()
        if uncertain and self.on_uncertain is not None:
            self.on_uncertain(uncertain)

    # confirmations: transmitted (marked sent), then routed (a ping answered); see chatd.core.delivery

    def _write(self, data: bytes) -> None:
        # One write per stanza: writing an event-loop turn's stanzas together was tried and gained
        # nothing measurable for the relay; rooms measured slower with it (docs/performance.md).
        transport = self._link.transport
        if transport is not None:
            transport.write(data)
            self._bytes_written += len(data)
            self.writes += 1

    def _written(self, token: str) -> None:
        # Checked at once, not once per event-loop turn: a kill -9 between the write and the sent log
        # would send the message again after the restart (a duplicate; tests/faults, docs/performance.md).
        self.confirmations.written(token, self._bytes_written)
        self._confirm()

    def _recheck_now(self) -> None:
        self._recheck = None
        self._confirm()

    def _confirm(self) -> None:
        transport = self._link.transport
        if transport is None:
            return
        waiting = transport.get_write_buffer_size() + _untransmitted(transport)
        confirmed = self.confirmations.transmitted(self._bytes_written - waiting)
        if confirmed and self.on_confirmed is not None:
            self.on_confirmed(confirmed)
        loop = asyncio.get_running_loop()
        if self.confirmations.untransmitted and self._recheck is None:
            self._recheck = loop.call_later(RECHECK_SECONDS, self._recheck_now)
        if confirmed and not self._probe_due:
            self._probe_due = True
            loop.call_soon(self._probe)  # right behind this round of writes

    def _probe(self) -> None:
        """A ping behind the transmitted messages: the server handles both in order, so its answer
        means it routed them. One probe per round of writes keeps that margin a few microseconds."""
        self._probe_due = False
        probe_id = self.confirmations.start_probe() if self._link.transport is not None else None
        if probe_id is None:
            return
        self.probes += 1
        self.outbox.put_nowait(
            f"<iq type='get' id='{probe_id}' from='{self.domain}' to='{self.server_host}'>"
            f"<ping xmlns='{NS_PING}'/></iq>".encode()
        )
        if self._probe_timer is None:
            self._probe_timer = asyncio.get_running_loop().call_later(PROBE_TIMEOUT, self._probe_unanswered)

    def _probe_unanswered(self) -> None:
        self._probe_timer = None
        if self.confirmations.oldest_probe is not None:
            self.confirmations.retry()
            self._probe()

    def _probe_answered(self, probe_id: str) -> None:
        if not self.confirmations.answered(probe_id):
            return
        if self._probe_timer is not None:
            self._probe_timer.cancel()
        self._probe_timer = None
        if self.confirmations.oldest_probe is not None:
            self._probe_timer = asyncio.get_running_loop().call_later(PROBE_TIMEOUT, self._probe_unanswered)

    @property
    def multicast_out(self) -> int:
        """Stanzas sent to the multicast service (each carries many recipients)."""
        return self.multicasting.sent

    @property
    def multicast(self) -> Service | None:
        """The server's multicast service while this session may use it (chatd.xmpp.multicast)."""
        return self.multicasting.service

    # stanzas

    def received(self, xml: ET.Element) -> None:
        self.stanzas_in += 1
        probe_id = xml.get("id") or ""
        if probe_id.startswith(PROBE_PREFIX) and xml.get("type") in ("result", "error") and _local(xml.tag) == "iq":
            self._probe_answered(probe_id)  # an error answer shows the server handled it too
            return
        if self.multicasting.received(xml):
            return
        problem = shape_problem(xml, self.input_limits)
        if problem is not None:
            self.refused_shape += 1
            log.warning("stream %s: a %s stanza refused (%s over the limit)", self.domain, _local(xml.tag), problem)
            self._answer_error(xml, "policy-violation", "modify", "error.input_shape")
            return
        if self.journal is not None and _local(xml.tag) == "message" and any(_local(c.tag) == "body" for c in xml):
            self.journal(xml)
            self._journaled = True
        try:
            self.handler(self, xml)
        except Exception:
            log.exception("stream %s: handler failed on a %s stanza", self.domain, _local(xml.tag))
            self._answer_error(xml, "internal-server-error", "wait", "error.internal")

    def end_of_read(self) -> None:
        """The stanzas of one read from the server were handed over: the journal gets theirs in one write,
        before any of them is reviewed, archived or delivered (that work runs in later turns of the loop)."""
        if self._journaled and self.journal_flush is not None:
            self._journaled = False
            self.journal_flush()
            failpoints.hit("after_journal")

    def _answer_error(self, xml: ET.Element, condition: str, kind: str, key: str) -> None:
        """An error reply in both languages, when the stanza can be answered from this domain."""
        target = st.split_jid(xml.get("to"))
        if target is None or target[1] != self.domain or st.split_jid(xml.get("from")) is None:
            return
        reply = st.build_error(xml, condition, kind, {lang: i18n.text(lang, key) for lang in i18n.LANGUAGES})
        if reply is not None:
            self.send_nowait(reply)

    def _checked(self, data: str | bytes) -> bytes:
        """The stanza as bytes, if its from address is on this stream's domain.

        Prosody closes the whole stream on a foreign from (invalid-from), so this is a bug
        guard: it raises instead of sending.
        """
        raw = data.encode() if isinstance(data, str) else data
        match = FROM_ATTRIBUTE.match(raw)
        sender = match.group(2).decode() if match else ""
        domain = sender.partition("/")[0].rpartition("@")[2]
        if domain != self.domain:
            raise WrongDomain(f"stream {self.domain} refused a stanza from domain {domain or '(none)'}")
        self.stanzas_out += 1
        return raw

    async def send(self, data: str | bytes, token: str | None = None) -> None:
        """Queues a stanza; with a token, on_confirmed gets it once the server has certainly taken the stanza."""
        await self.outbox.put(self._checked(data), token)

    def send_nowait(self, data: str | bytes) -> None:
        if not self.outbox.put_nowait(self._checked(data)):
            log.warning("stream %s: outbox full, a stanza was dropped", self.domain)

    def pause_reading(self) -> None:
        if self._link.transport is not None:
            self._link.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._link.transport is not None:
            self._link.transport.resume_reading()


def _untransmitted(transport: Any) -> int:
    """Bytes the kernel holds for the socket and has not transmitted yet (Linux SIOCOUTQNSD)."""
    sock = transport.get_extra_info("socket")
    try:
        return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), SIOCOUTQNSD, b"\0\0\0\0"))[0])
    except (OSError, AttributeError, ValueError):
        return 0


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]
