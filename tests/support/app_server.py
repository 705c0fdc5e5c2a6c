"""A fake push app server (XEP-0357) for tests: a component (XEP-0114) that records what it receives."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import slixmpp

from tests.support.client import Recorder, tag


class AppServer(Recorder):
    """Connects to Prosody's component port as `domain`; answers every iq set with a result."""

    def __init__(self, domain: str, secret: str, port: int):
        super().__init__(slixmpp.ComponentXMPP(domain, secret, "127.0.0.1", port))
        self.xmpp.add_event_handler("session_start", lambda _event: self._ready.set())

    def answer(self, element: ET.Element) -> None:
        if element.tag == tag("iq", "jabber:component:accept") and element.get("type") == "set":
            self.xmpp.send_raw(
                f"<iq type='result' id='{element.get('id')}' to='{element.get('from')}' from='{element.get('to')}'/>"
            )

    async def connect(self, timeout: float = 10.0) -> AppServer:
        self.xmpp.connect()
        await asyncio.wait_for(self._ready.wait(), timeout)
        return self

    async def close(self) -> None:
        await self.xmpp.disconnect(wait=0.5)
