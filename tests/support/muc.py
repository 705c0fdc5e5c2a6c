"""Room helpers for tests: join a MUC room, speak, and match its messages."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.support.client import Client, body_of, tag

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = f"{NS_MUC}#user"


def self_presence(element: ET.Element) -> bool:
    x = element.find(f"{{{NS_MUC_USER}}}x")
    return x is not None and any(s.get("code") == "110" for s in x.findall(f"{{{NS_MUC_USER}}}status"))


async def join(client: Client, room: str, nick: str) -> ET.Element:
    mark = client.mark()
    client.send_raw(f"<presence to='{room}/{nick}'><x xmlns='{NS_MUC}'><history maxstanzas='50'/></x></presence>")
    return await client.expect(
        lambda e: e.tag == tag("presence") and (e.get("from") or "").startswith(room) and (
            self_presence(e) or e.get("type") == "error"), start=mark)  # fmt: skip


def say(client: Client, room: str, text: str) -> None:
    client.send_raw(f"<message to='{room}' type='groupchat'><body>{text}</body></message>")


def groupchat(room: str, contains: str):
    def match(element: ET.Element) -> bool:
        return (
            element.tag == tag("message")
            and element.get("type") == "groupchat"
            and (element.get("from") or "").startswith(room)
            and contains in (body_of(element) or "")
        )

    return match
