"""A real XMPP client for tests: logs in to Prosody and records every stanza it receives."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable

import slixmpp

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"

Match = Callable[[ET.Element], bool]


class Recorder:
    """Records every stanza an XMPP stream receives; a test waits for the one it expects."""

    def __init__(self, xmpp: slixmpp.BaseXMPP):
        self.xmpp = xmpp
        self.received: list[ET.Element] = []
        self._arrived = asyncio.Condition()
        self._ready = asyncio.Event()
        self._notifying: set[asyncio.Future[None]] = set()
        self.xmpp.add_filter("in", self._record)

    def _record(self, stanza: slixmpp.xmlstream.StanzaBase) -> slixmpp.xmlstream.StanzaBase:
        self.received.append(stanza.xml)
        self.answer(stanza.xml)
        task = asyncio.ensure_future(self._notify())
        self._notifying.add(task)
        task.add_done_callback(self._notifying.discard)
        return stanza

    def answer(self, element: ET.Element) -> None:
        """What the stream says back at once to a stanza it receives (nothing here)."""

    async def _notify(self) -> None:
        async with self._arrived:
            self._arrived.notify_all()

    async def expect(self, match: Match, timeout: float = 5.0, start: int = 0) -> ET.Element:
        """The first received stanza (from index start on) that matches."""

        def found() -> ET.Element | None:
            return next((s for s in self.received[start:] if match(s)), None)

        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: found() is not None), timeout)
        result = found()
        assert result is not None
        return result

    async def expect_nothing(self, match: Match, wait: float = 1.0, start: int = 0) -> None:
        await asyncio.sleep(wait)
        unexpected = [ET.tostring(s, encoding="unicode") for s in self.received[start:] if match(s)]
        assert not unexpected, f"unexpected stanzas: {unexpected}"

    def mark(self) -> int:
        return len(self.received)


class Client(Recorder):
    def __init__(self, jid: str, password: str, port: int):
        super().__init__(slixmpp.ClientXMPP(jid, password))
        self.jid = jid
        self.port = port
        self.xmpp.enable_direct_tls = False
        self.xmpp.enable_starttls = False  # loopback; SCRAM without TLS
        self.xmpp.enable_plaintext = True
        self.xmpp.plugin["feature_mechanisms"].unencrypted_scram = True
        self.xmpp.add_event_handler("session_start", self._started)

    def _started(self, _event: object) -> None:
        self.xmpp.send_presence()
        self._ready.set()

    async def connect(self, timeout: float = 10.0) -> Client:
        self.xmpp.connect("127.0.0.1", self.port)
        await asyncio.wait_for(self._ready.wait(), timeout)
        return self

    async def close(self) -> None:
        await self.xmpp.disconnect(wait=0.5)

    def send_raw(self, xml: str) -> None:
        self.xmpp.send_raw(xml)

    def send_chat(self, to: str, body: str, **extra: str) -> str:
        message = self.xmpp.make_message(mto=to, mbody=body, mtype="chat")
        for key, value in extra.items():
            message[key] = value
        message.send()
        return str(message["id"])


def tag(name: str, ns: str = NS_CLIENT) -> str:
    return f"{{{ns}}}{name}"


def body_of(element: ET.Element) -> str | None:
    body = element.find(tag("body"))
    return body.text if body is not None else None


def message_from(sender: str, body_contains: str | None = None) -> Match:
    def match(element: ET.Element) -> bool:
        if element.tag != tag("message") or element.get("type") == "error":
            return False
        if (element.get("from") or "").split("/")[0] != sender:
            return False
        return body_contains is None or body_contains in (body_of(element) or "")

    return match


def error_from(sender: str, condition: str, kind: str = "message", stanza_id: str | None = None) -> Match:
    def match(element: ET.Element) -> bool:
        if element.tag != tag(kind) or element.get("type") != "error":
            return False
        if (element.get("from") or "").split("/")[0] != sender:
            return False
        if stanza_id is not None and element.get("id") != stanza_id:
            return False
        error = element.find(tag("error"))
        return error is not None and error.find(f"{{{NS_STANZAS}}}{condition}") is not None

    return match


def error_texts(element: ET.Element) -> dict[str, str]:
    error = element.find(tag("error"))
    assert error is not None
    return {
        t.get("{http://www.w3.org/XML/1998/namespace}lang", ""): t.text or ""
        for t in error.findall(f"{{{NS_STANZAS}}}text")
    }


async def ask(client: Client, to: str, payload: str, kind: str = "get") -> ET.Element:
    """An iq to `to`; its answer (result or error)."""
    stanza_id = f"ask-{uuid.uuid4().hex[:12]}"
    client.send_raw(f"<iq type='{kind}' to='{to}' id='{stanza_id}'>{payload}</iq>")
    return await client.expect(lambda e: e.tag == tag("iq") and e.get("id") == stanza_id)
