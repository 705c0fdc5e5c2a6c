"""Several component connections for one domain: what each server does (docs/scale-out.md).

ejabberd accepts several and, with `domain_balancing` (bare destination, N slots), sends each room's stanzas
to one fixed slot; Prosody accepts one per domain. Raw component probes stand where chatd instances would,
and a real member client sends the messages.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from chatd.stack import Ejabberd, Prosody
from tests.faults.load import until
from tests.integration.conftest import SERVER_COMMANDS
from tests.support.client import Client, Match, ask, error_from
from tests.support.probe_component import ProbeComponent

DOMAIN = "rooms.scale.localhost"  # balanced over the probes (ejabberd) or held by one (Prosody)
IDLE = "idle.localhost"  # Prosody: declared, never connected
KICK_OLD = "kick.localhost"  # Prosody: a new connection replaces the old one
ROOMS = [f"room-{n}@{DOMAIN}" for n in range(8)]
SLOTS = 2
SECRET = "probe-secret"


def probe(server: Prosody | Ejabberd, domain: str = DOMAIN) -> ProbeComponent:
    return ProbeComponent(domain, SECRET, server.component_port)


def started(server: Prosody | Ejabberd, name: str) -> Iterator[tuple[Prosody | Ejabberd, str]]:
    missing = [command for command in SERVER_COMMANDS[name] if shutil.which(command) is None]
    if missing:
        pytest.skip(f"{name} is not installed ({', '.join(missing)} not found)")
    try:
        server.write_config()
        server.start()
        yield server, server.register("alice", "pw-alice-secret")
    finally:
        server.stop()


@pytest.fixture(scope="module")
def balanced_ejabberd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prosody | Ejabberd, str]]:
    server = Ejabberd(
        Path(tmp_path_factory.mktemp("balanced-ejabberd")),
        components={DOMAIN: SECRET},
        domain_balancing={DOMAIN: SLOTS},
    )
    yield from started(server, "ejabberd")


@pytest.fixture(scope="module")
def one_per_domain_prosody(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prosody | Ejabberd, str]]:
    server = Prosody(
        Path(tmp_path_factory.mktemp("one-per-domain-prosody")),
        components={DOMAIN: SECRET, IDLE: SECRET},
        # untried in production: Prosody's own option to let a new connection replace the old one
        extra_config=f'Component "{KICK_OLD}"\n  component_secret = "{SECRET}"\n'
        '  component_conflict_resolve = "kick_old"\n',
        log_level="warn",
    )
    yield from started(server, "prosody")


async def member(server: Prosody | Ejabberd, jid: str) -> AsyncIterator[Client]:
    client = await Client(jid, "pw-alice-secret", server.c2s_port).connect()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def ejabberd_member(balanced_ejabberd: tuple[Prosody | Ejabberd, str]) -> AsyncIterator[Client]:
    async for client in member(*balanced_ejabberd):
        yield client


@pytest.fixture
async def prosody_member(one_per_domain_prosody: tuple[Prosody | Ejabberd, str]) -> AsyncIterator[Client]:
    async for client in member(*one_per_domain_prosody):
        yield client


def room_message(body: str) -> Match:
    def match(element: ET.Element) -> bool:
        found = element.find("{jabber:component:accept}body")
        return element.tag.endswith("}message") and found is not None and found.text == body

    return match


def bodies(probe: ProbeComponent) -> dict[str, str]:
    """body -> the room (bare `to`) it was sent to, for each message the probe got."""
    return {
        (element.findtext("{jabber:component:accept}body") or ""): (element.get("to") or "").split("/")[0]
        for element in probe.received
        if element.tag.endswith("}message")
    }


def send_round(client: Client, rooms: list[str], label: str) -> list[str]:
    sent = []
    for room in rooms:
        body = f"{label} {room}"
        client.send_raw(f"<message type='groupchat' to='{room}'><body>{body}</body></message>")
        sent.append(body)
    return sent


async def round_trip(client: Client, probe: ProbeComponent, room: str, label: str) -> None:
    """A message to `room` that `probe` must get, and its reply back to the member: whatever the server did
    with the member's earlier stanzas (deliver, drop or bounce) is done by then (one sender, in order)."""
    body = send_round(client, [room], label)[0]
    await probe.expect(room_message(body))
    start = client.mark()
    to = client.xmpp.boundjid.full
    probe.send(f"<message type='chat' from='{room}' to='{to}'><body>{label} back</body></message>")
    await client.expect(
        lambda e: e.tag.endswith("}message") and e.get("from") == room and e.get("type") == "chat", start=start
    )


async def test_each_room_stays_on_one_connection_and_waits_for_a_new_one_when_its_connection_dies(
    balanced_ejabberd: tuple[Prosody | Ejabberd, str], ejabberd_member: Client
) -> None:
    server = balanced_ejabberd[0]
    first, second = await probe(server).connect(), await probe(server).connect()
    spare = await probe(server).connect()  # beyond the N slots: accepted, gets nothing
    assert first.authenticated and second.authenticated and spare.authenticated
    probes = [first, second, spare]
    try:
        sent = send_round(ejabberd_member, ROOMS, "one") + send_round(ejabberd_member, ROOMS, "two")
        assert await until(lambda: sum(len(bodies(p)) for p in probes) >= len(sent), timeout=10)
        got = [bodies(p) for p in probes]
        # each message reached exactly one connection, and each room always the same one
        assert sorted(b for g in got for b in g) == sorted(sent)
        assert all(len(p.received) == len(g) for p, g in zip(probes, got, strict=True))
        owner = {room: i for i, g in enumerate(got) for room in g.values()}
        assert all(owner[room] == i for i, g in enumerate(got) for room in g.values())
        assert got[2] == {}, "a connection beyond the slots got stanzas"
        first_rooms = sorted(room for room, i in owner.items() if i == 0)
        second_rooms = sorted(room for room, i in owner.items() if i == 1)
        assert first_rooms and second_rooms, f"all rooms on one connection: {owner}"

        # the first connection dies: its rooms reach nobody (not the second, not the spare) and the
        # member gets no error; the second connection's rooms go on as before
        first.kill()
        await first.closed.wait()
        start = [len(p.received) for p in probes]
        errors = ejabberd_member.mark()
        send_round(ejabberd_member, first_rooms, "lost")
        await round_trip(ejabberd_member, second, second_rooms[0], "after")
        assert len(second.received) == start[1] + 1, [ET.tostring(e) for e in second.received[start[1] :]]
        assert len(spare.received) == start[2] == 0
        assert not [e for e in ejabberd_member.received[errors:] if e.get("type") == "error"]

        # a new connection takes the free slot: the first connection's rooms reach it, the others do not
        replacement = await probe(server).connect()
        probes.append(replacement)
        await round_trip(ejabberd_member, replacement, first_rooms[0], "again")
        again = send_round(ejabberd_member, ROOMS, "three")
        assert await until(lambda: sum(b in again for p in probes for b in bodies(p)) >= len(again), timeout=10)
        assert sorted(r for b, r in bodies(replacement).items() if b in again) == first_rooms
        assert sorted(r for b, r in bodies(second).items() if b in again) == second_rooms
        assert spare.received == []
    finally:
        for each in probes:
            await each.close()


async def test_prosody_refuses_a_second_connection_for_a_domain(
    one_per_domain_prosody: tuple[Prosody | Ejabberd, str], prosody_member: Client
) -> None:
    server = one_per_domain_prosody[0]
    first = await probe(server).connect()
    second = await probe(server).connect()
    try:
        assert first.authenticated
        assert not second.authenticated and second.stream_error == "conflict"
        await second.closed.wait()
        body = send_round(prosody_member, [ROOMS[0]], "still")[0]
        await first.expect(room_message(body))
    finally:
        await first.close()
        await second.close()


async def test_prosody_bounces_a_message_to_a_domain_with_no_connection(prosody_member: Client) -> None:
    stanza_id = "to-idle-1"
    room = f"room@{IDLE}"
    prosody_member.send_raw(f"<message type='groupchat' to='{room}' id='{stanza_id}'><body>hello</body></message>")
    await prosody_member.expect(error_from(room, "remote-server-timeout", stanza_id=stanza_id))


async def test_prosody_kick_old_lets_a_new_connection_replace_the_old_one(
    one_per_domain_prosody: tuple[Prosody | Ejabberd, str], prosody_member: Client
) -> None:
    server = one_per_domain_prosody[0]
    old = await probe(server, KICK_OLD).connect()
    new = await probe(server, KICK_OLD).connect()
    try:
        assert old.authenticated and new.authenticated
        await old.closed.wait()
        assert old.stream_error == "conflict"
        body = send_round(prosody_member, [f"room@{KICK_OLD}"], "new")[0]
        await new.expect(room_message(body))
        assert old.received == []
    finally:
        await old.close()
        await new.close()


async def test_with_balancing_a_message_while_no_connection_is_up_is_dropped_without_an_error(
    balanced_ejabberd: tuple[Prosody | Ejabberd, str], ejabberd_member: Client
) -> None:
    """Once a balanced domain has had a connection, its slots stay; with none taken, stanzas go nowhere."""
    gone = await probe(balanced_ejabberd[0]).connect()
    assert gone.authenticated
    await gone.close()
    start = ejabberd_member.mark()
    send_round(ejabberd_member, ROOMS[:2], "nobody")
    ejabberd_member.send_raw(f"<message type='chat' to='calm-otter@{DOMAIN}' id='to-nobody'><body>hi</body></message>")
    # the server's answer to a later ping comes after whatever it did with those messages
    await ask(ejabberd_member, balanced_ejabberd[0].members_host, "<ping xmlns='urn:xmpp:ping'/>")
    assert not [ET.tostring(e) for e in ejabberd_member.received[start:] if e.get("type") == "error"]
