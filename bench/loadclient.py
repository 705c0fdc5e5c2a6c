"""The benchmarks' load client: a minimal asyncio XMPP c2s connection, and CPU readings from /proc.

slixmpp costs far more per stanza than the server, so the benchmarks drive every connection with
this: TCP, stream header, SASL PLAIN, bind; then raw stanzas out and raw bytes in.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from pathlib import Path

CLOCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, task: str = "") -> float:
    """A process's CPU seconds (user + system); with task "task/TID/", one thread's."""
    fields = Path(f"/proc/{pid}/{task}stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK  # utime + stime


def percentile(values: list[int], share: float) -> int:
    ordered = sorted(values) or [0]
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class Connection:
    """A minimal XMPP c2s client: login, bind, join, write raw stanzas, count what arrives."""

    def __init__(self, user: str, password: str, port: int, host: str = "localhost"):
        self.user, self.password, self.port, self.host = user, password, port, host
        self.buffer = b""
        self.on_data: Callable[[bytes], None] | None = None
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter
        self.task: asyncio.Task[None] | None = None

    async def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = await self.reader.read(65536)
            if not chunk:
                raise ConnectionError(f"{self.user}: stream closed while waiting for {marker!r}")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(marker)
        self.buffer = rest
        return head + marker

    def _header(self) -> None:
        self.writer.write(
            f"<?xml version='1.0'?><stream:stream to='{self.host}' xmlns='jabber:client'"
            " xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>".encode()
        )

    async def open(self) -> Connection:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._header()
        await self._until(b"</stream:features>")
        token = base64.b64encode(f"\0{self.user}\0{self.password}".encode()).decode()
        self.writer.write(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>".encode())
        answer = await self._until(b">")
        if b"<success" not in answer:
            raise ConnectionError(f"{self.user}: login refused")
        self.buffer = b""
        self._header()
        await self._until(b"</stream:features>")
        self.writer.write(b"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>")
        await self._until(b"</iq>")
        return self

    def available(self) -> None:
        """Initial presence: the server delivers messages sent to the bare JID to this resource."""
        self.writer.write(b"<presence/>")

    async def join(self, room: str, nick: str) -> None:
        self.writer.write(
            f"<presence to='{room}/{nick}'><x xmlns='http://jabber.org/protocol/muc'>"
            "<history maxstanzas='0'/></x></presence>".encode()
        )
        await self._subject()

    async def _subject(self) -> None:
        while True:
            chunk = await self._until(b"</message>")
            if b"<subject" in chunk:
                return

    def listen(self, on_data: Callable[[bytes], None]) -> None:
        self.on_data = on_data
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.on_data is not None
        if self.buffer:
            self.on_data(self.buffer)
        while chunk := await self.reader.read(262144):
            self.on_data(chunk)

    def stop_listening(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def close(self) -> None:
        self.stop_listening()
        self.writer.write(b"</stream:stream>")
        self.writer.close()
