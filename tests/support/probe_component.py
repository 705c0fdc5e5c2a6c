"""A minimal XEP-0114 component connection for tests: handshake, then record every stanza the server routes to it.

Much smaller than chatd's streams on purpose: it shows what the server does with several connections for one
domain (which one gets a stanza, which are refused), with nothing of chatd in between.
"""

from __future__ import annotations

import asyncio
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable

from tests.support.client import Match

NS_ACCEPT = "jabber:component:accept"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"


class ProbeComponent:
    """One component connection for `domain`; `received` keeps the stanzas, `stream_error` the error's condition."""

    def __init__(self, domain: str, secret: str, port: int, counting: bool = False):
        self.domain = domain
        self.counting = counting  # after the handshake, only count messages (the benchmark): no parsing
        self.messages = 0
        self.secret = secret
        self.port = port
        self.received: list[ET.Element] = []
        self.stream_error = ""
        self.authenticated = False
        self.closed = asyncio.Event()
        self._changed = asyncio.Condition()
        self._writer: asyncio.StreamWriter | None = None
        self._reading: asyncio.Task[None] | None = None

    async def connect(self, timeout: float = 10.0) -> ProbeComponent:
        """Opens the stream and shakes hands; returns once the server accepted or refused it."""
        reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._writer.write(
            f"<stream:stream xmlns='{NS_ACCEPT}' xmlns:stream='{NS_STREAM}' to='{self.domain}'>".encode()
        )
        self._reading = asyncio.create_task(self._read(reader))
        await self.wait_for(lambda: self.authenticated or self.closed.is_set(), timeout)
        return self

    async def _read(self, reader: asyncio.StreamReader) -> None:
        parser = ET.XMLPullParser(events=("start", "end"))
        depth, tail = 0, b""
        try:
            while data := await reader.read(262144):
                if self.authenticated and self.counting:  # a read may end inside "</message>": keep 9 bytes
                    self.messages += (tail + data).count(b"</message>")
                    tail = (tail + data)[-9:]
                    continue
                parser.feed(data)
                for event, element in parser.read_events():
                    assert isinstance(element, ET.Element)
                    depth += 1 if event == "start" else -1
                    if event == "start" and depth == 1:
                        digest = hashlib.sha1((element.get("id", "") + self.secret).encode()).hexdigest()
                        self.send(f"<handshake>{digest}</handshake>")
                    elif event == "end" and depth == 1:
                        await self._stanza(element)
        except (ConnectionError, ET.ParseError):
            pass
        finally:
            self.closed.set()
            async with self._changed:
                self._changed.notify_all()

    async def _stanza(self, element: ET.Element) -> None:
        if element.tag == f"{{{NS_ACCEPT}}}handshake":
            self.authenticated = True
        elif element.tag == f"{{{NS_STREAM}}}error":
            self.stream_error = next((c.tag.split("}")[1] for c in element if NS_STREAM_ERRORS in c.tag), "")
        else:
            self.received.append(element)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, ready: Callable[[], bool], timeout: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(ready), timeout)

    async def expect(self, match: Match, timeout: float = 5.0) -> ET.Element:
        """The first received stanza that matches (waits for it)."""
        await self.wait_for(lambda: any(match(s) for s in self.received), timeout)
        return next(s for s in self.received if match(s))

    def send(self, xml: str) -> None:
        assert self._writer is not None
        self._writer.write(xml.encode())

    def kill(self) -> None:
        """Drops the TCP connection at once, as a chatd process that dies would (no stream end)."""
        if self._writer is not None:
            self._writer.transport.abort()

    async def close(self) -> None:
        self.kill()
        if self._reading is not None:
            await self._reading
