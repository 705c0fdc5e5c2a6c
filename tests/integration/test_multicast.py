"""Room fan-out through the server's XEP-0033 multicast service (ejabberd's mod_multicast), and members kept off it.

On Prosody there is no such service: the same room test runs there with every copy written by chatd.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from chatd.stack import Ejabberd
from tests.integration.conftest import Stack, running_stack
from tests.integration.test_metrics import scrape
from tests.integration.test_restart import wait_reconnected
from tests.support.client import Client, ask, body_of, error_from, tag
from tests.support.muc import groupchat, join, say

NS_ADDRESS = "http://jabber.org/protocol/address"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


def multicast_stanzas(stack: Stack, domain: str) -> float:
    return scrape(stack).get(("chatd_multicast_stanzas_total", (("domain", domain),)), 0.0)


async def multicast_found(stack: Stack, domain: str, timeout: float = 15.0) -> str:
    """The service the domain's stream found: the search runs as each session starts (a few iq round trips),
    so a stack that has just started or reconnected may not have it yet."""
    found = ""
    for _ in range(int(timeout / 0.1)):
        found = (await asyncio.to_thread(stack.chatd.health))["streams"][domain]["multicast"]
        if found:
            break
        await asyncio.sleep(0.1)
    return found


def copies(client: Client, room: str, text: str, start: int = 0) -> list[ET.Element]:
    return [e for e in client.received[start:] if groupchat(room, text)(e)]


async def test_each_client_gets_one_copy_of_a_room_message_and_no_other_occupants_address(
    any_stack: Stack, connect_any
) -> None:
    rooms_domain = any_stack.chatd.realms[0].rooms_domain
    room = f"general@{rooms_domain}"
    alice, bob, carol = await connect_any("alice"), await connect_any("bob"), await connect_any("carol")
    carol_phone = await connect_any("carol")  # a second client of the same member
    clients = [alice, bob, carol, carol_phone]
    nicks = ("calm-otter", "brave-heron", "quiet-lynx", "quiet-lynx")
    for client, nick in zip(clients, nicks, strict=True):
        await join(client, room, nick)
    on_ejabberd = isinstance(any_stack.prosody, Ejabberd)
    if on_ejabberd:
        assert await multicast_found(any_stack, rooms_domain) == f"multicast.{any_stack.prosody.members_host}"
    before = await asyncio.to_thread(multicast_stanzas, any_stack, rooms_domain)
    marks = [client.mark() for client in clients]
    say(alice, room, "fan-out first")
    say(alice, room, "fan-out second")  # the same client: chatd gets them in this order
    for client in clients:  # the second message behind the first on every client: no copy of the first is late
        await client.expect(groupchat(room, "fan-out second"))
    through_service = await asyncio.to_thread(multicast_stanzas, any_stack, rooms_domain) - before

    for client, mark in zip(clients, marks, strict=True):
        first = copies(client, room, "fan-out first", mark)
        assert len(first) == 1 and len(copies(client, room, "fan-out second", mark)) == 1
        delivered = first[0]
        assert delivered.get("to") == str(client.xmpp.boundjid)
        assert delivered.find(f"{{{NS_ADDRESS}}}addresses") is None
        raw = ET.tostring(delivered, encoding="unicode")
        others = {c.jid.split("@")[0] for c in clients} - {client.jid.split("@")[0]}
        assert not any(f"{name}@" in raw for name in others), raw  # no other occupant's account, in any form
    if on_ejabberd:
        assert through_service >= 2  # each message was one stanza to mod_multicast
    else:
        assert through_service == 0  # Prosody offers no multicast service: copies were written one by one


async def test_members_cannot_use_the_multicast_service(ejabberd_stack: Stack, connect_to) -> None:
    alice, bob = await connect_to(ejabberd_stack, "alice"), await connect_to(ejabberd_stack, "bob")
    host = ejabberd_stack.prosody.members_host
    service = f"multicast.{host}"
    items = await ask(alice, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert service in [i.get("jid") for i in items.iter(f"{{{NS_DISCO_ITEMS}}}item")]  # it exists, and is listed
    info = await ask(alice, service, f"<query xmlns='{NS_DISCO_INFO}'/>")
    assert NS_ADDRESS in [f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")]

    mark, alice_mark = bob.mark(), alice.mark()
    for kind in ("bcc", "to"):
        alice.send_raw(
            f"<message to='{service}' type='chat' id='mc-{kind}'><body>multicast from a member ({kind})</body>"
            f"<addresses xmlns='{NS_ADDRESS}'><address type='{kind}' jid='{bob.jid}'/>"
            f"<address type='{kind}' jid='{bob.xmpp.boundjid}'/></addresses></message>"
        )
    alice.send_raw(
        f"<presence to='{service}' id='mc-presence'><addresses xmlns='{NS_ADDRESS}'>"
        f"<address type='bcc' jid='{bob.xmpp.boundjid}'/></addresses></presence>"
    )
    alice.send_chat(ejabberd_stack.pseudonym_jid("bob"), "after the multicast attempts")  # through chatd: reaches bob
    await bob.expect(lambda e: "after the multicast attempts" in (body_of(e) or ""), start=mark)
    leaked = [e for e in bob.received[mark:] if "multicast from a member" in ET.tostring(e, encoding="unicode")]
    assert leaked == []
    assert all(e.get("from", "").split("/")[0] != alice.jid for e in bob.received[mark:] if e.tag != tag("iq"))
    for kind in ("bcc", "to"):
        await alice.expect(error_from(service, "forbidden", stanza_id=f"mc-{kind}"), start=alice_mark)
    await alice.expect(error_from(service, "forbidden", kind="presence", stanza_id="mc-presence"), start=alice_mark)


@pytest.fixture(scope="module")
def ejabberd_restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """An ejabberd stack of this module's own: the test restarts its server."""
    with running_stack(tmp_path_factory, "ejabberd-multicast", server="ejabberd") as running:
        yield running


async def test_after_the_server_restarts_chatd_finds_the_service_again(ejabberd_restarted: Stack, connect_to) -> None:
    stack = ejabberd_restarted
    rooms_domain = stack.chatd.realms[0].rooms_domain
    assert await multicast_found(stack, rooms_domain) == f"multicast.{stack.prosody.members_host}"

    await asyncio.to_thread(stack.prosody.restart)  # every component stream goes down and comes back
    health = await wait_reconnected(stack)
    assert health["streams"][rooms_domain]["reconnects"] >= 1
    assert await multicast_found(stack, rooms_domain) == f"multicast.{stack.prosody.members_host}"

    room = f"mst@{rooms_domain}"
    alice, bob = await connect_to(stack, "alice"), await connect_to(stack, "bob")
    await join(alice, room, "calm-otter")
    await join(bob, room, "brave-heron")
    before = await asyncio.to_thread(multicast_stanzas, stack, rooms_domain)
    mark = bob.mark()
    say(alice, room, "after the server restarted")
    say(alice, room, "and once more")
    await bob.expect(groupchat(room, "and once more"), start=mark)
    assert len(copies(bob, room, "after the server restarted", mark)) == 1
    # the two messages, and the guides' welcome to alice's first post in the room: each one stanza
    assert await asyncio.to_thread(multicast_stanzas, stack, rooms_domain) - before == 3


async def test_a_stanza_the_service_refuses_reaches_every_client_directly(
    ejabberd_restarted: Stack, connect_to
) -> None:
    stack = ejabberd_restarted
    server = stack.prosody
    assert isinstance(server, Ejabberd)
    rooms_domain = stack.chatd.realms[0].rooms_domain
    room = f"military@{rooms_domain}"
    alice, bob, carol = [await connect_to(stack, name) for name in ("alice", "bob", "carol")]
    for client, nick in ((alice, "calm-otter"), (bob, "brave-heron"), (carol, "quiet-lynx")):
        await join(client, room, nick)
    assert await multicast_found(stack, rooms_domain) == f"multicast.{server.members_host}"
    server.multicast_senders = ("nobody.invalid",)  # the operator closes the service; chatd still uses it
    try:
        await asyncio.to_thread(server.reload_config)
        marks = [c.mark() for c in (alice, bob, carol)]
        say(alice, room, "refused by the service")
        say(alice, room, "sent after the refusal")
        for client, mark in zip((alice, bob, carol), marks, strict=True):
            await client.expect(groupchat(room, "sent after the refusal"), start=mark)
            await client.expect(groupchat(room, "refused by the service"), start=mark)
            assert len(copies(client, room, "refused by the service", mark)) == 1
        health = await asyncio.to_thread(stack.chatd.health)
        assert health["streams"][rooms_domain]["multicast"] == ""  # off until the stream's next session
        assert "the multicast service refused a stanza (3 addresses)" in stack.chatd.log_file.read_text()
    finally:
        server.multicast_senders = None
        await asyncio.to_thread(server.reload_config)
