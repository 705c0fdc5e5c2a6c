"""A client that stops reading in a busy room is disconnected at Prosody's send-buffer limit; others are unaffected.

conf/prosody/mod_send_buffer_limit.lua, with a small limit here so that a bounded run reaches it.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, running_stack
from tests.support.client import body_of, tag
from tests.support.muc import NS_MUC, groupchat, join, say

LIMIT = 65536
NS_MAM = "urn:xmpp:mam:2"
NS_RSM = "http://jabber.org/protocol/rsm"
FILLER = "a long line so that the buffer fills quickly " * 20


@pytest.fixture(scope="module")
def busy_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    limits = {"burst_messages": 5000, "burst_seconds": 10.0, "max_stanza_bytes": 8192}
    settings = {"c2s_send_buffer_limit": LIMIT}
    with running_stack(tmp_path_factory, "slow-reader", prosody_settings=settings, limits=limits) as running:
        yield running


def left(room_nick: str):
    return lambda e: e.tag == tag("presence") and e.get("from") == room_nick and e.get("type") == "unavailable"


async def test_a_client_that_stops_reading_is_disconnected_and_catches_up_by_mam(busy_stack: Stack, connect_to) -> None:
    stack = busy_stack
    gina, hank, dan, eve = [await connect_to(stack, n) for n in ("gina", "hank", "dan", "eve")]
    room = f"general@rooms.{stack.en}"
    for client, nick in ((gina, "gentle-crane"), (hank, "humble-bison"), (dan, "steady-moose"), (eve, "swift-hare")):
        await join(client, room, nick)
    eve_socket = eve.xmpp.transport.get_extra_info("socket")
    eve_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    eve.xmpp.transport.pause_reading()  # eve's client stops reading; Prosody's buffer for it grows

    prosody_log = stack.prosody.run_dir / "prosody.log"
    sent = 0
    while "does not read: disconnecting" not in prosody_log.read_text():
        assert sent < 3000, "the slow reader was never disconnected"
        for _ in range(50):
            say(gina, room, f"busy line {sent} {FILLER}")
            sent += 1
        for reader in (hank, dan):  # the others keep up: each batch reaches them before the next is sent
            await reader.expect(groupchat(room, f"busy line {sent - 1} "), timeout=20)
    await hank.expect(left(f"{room}/swift-hare"), timeout=20)  # the room saw eve's client go
    assert sent * len(FILLER) > LIMIT

    for reader in (hank, dan):
        bodies = [body_of(e) or "" for e in reader.received if groupchat(room, "busy line ")(e)]
        assert [b.split()[2] for b in bodies] == [str(n) for n in range(sent)]  # all of them, in order
    eve.xmpp.transport.resume_reading()

    back = await connect_to(stack, "eve")  # eve returns and catches up from the room's archive
    mark = back.mark()
    back.send_raw(f"<presence to='{room}/swift-hare'><x xmlns='{NS_MUC}'><history maxstanzas='0'/></x></presence>")
    back.send_raw(
        f"<iq type='set' to='{room}' id='catch-up'><query xmlns='{NS_MAM}'>"
        f"<set xmlns='{NS_RSM}'><max>3</max><before/></set></query></iq>"
    )
    await back.expect(lambda e: e.tag == tag("iq") and e.get("id") == "catch-up", timeout=10, start=mark)
    archived = [
        (e.find(f"{{{NS_MAM}}}result/{{urn:xmpp:forward:0}}forwarded/{tag('message')}"))
        for e in back.received[mark:]
        if e.find(f"{{{NS_MAM}}}result") is not None
    ]
    texts = [body_of(m) or "" for m in archived if isinstance(m, ET.Element)]
    assert [t.split()[2] for t in texts] == [str(n) for n in range(sent - 3, sent)]
