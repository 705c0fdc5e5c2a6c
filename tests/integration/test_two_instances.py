"""Two chatd processes on one ejabberd, one PostgreSQL store and one NATS (docs/scale-out.md).

ejabberd balances each of chatd's domains over two connections by bare destination: a pseudonym's or a room's
stanzas reach one instance. Both instances share the store; a guide's mute made through one is honoured by the
other (the store's version counter reloads the sanctions). What one instance reviews reaches the guides present in
a shadow room or the queue room the other holds, and a member's texts reviewed on both make one risk window (news
between instances over NATS JetStream, chatd/peers.py). An instance killed mid-traffic loses nothing it had
archived, and the living instance takes its slots within seconds (chatd/takeover.py): its rooms and pseudonyms answer
again; a newcomer (same config, its own folder) has them freed by saying hello.
"""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Iterator

import asyncpg
import pytest

from chatd import i18n
from chatd.stack import Chatd
from tests.faults.load import until
from tests.integration.conftest import Stack, running_nats, running_stack
from tests.support.client import Client, body_of, error_from, message_from
from tests.support.muc import groupchat, join, say, self_presence
from tests.support.postgres import PostgresServer, needs_postgres

pytestmark = needs_postgres

PAIRS = [("alice", "bob"), ("carol", "dan"), ("eve", "gina"), ("hank", "ivy"), ("denise", "gilles")]
ROOMS = [  # room, the member who speaks there
    ("general@rooms.en.localhost", "bob"),
    ("military@rooms.en.localhost", "dan"),
    ("mst@rooms.en.localhost", "ivy"),
    ("general@rooms.fr.localhost", "gilles"),
    ("militaire@rooms.fr.localhost", "denise"),
    ("tsm@rooms.fr.localhost", "gilles"),
]
MEMBERS = sorted({name for pair in PAIRS for name in pair} | {"frank"})
EN_RECIPIENTS = ["alice", "bob", "carol", "dan", "eve", "gina", "hank", "ivy"]  # frank writes to them


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer) -> Iterator[tuple[Stack, Chatd]]:
    url = asyncio.run(postgres_server.new_database())
    limits = {"burst_messages": 1000, "burst_seconds": 10.0, "max_stanza_bytes": 8192}
    with (
        running_nats(tmp_path_factory, "two-instances-nats") as nats,
        running_stack(
            tmp_path_factory,
            "two-instances",
            server="ejabberd",
            store_url=url,
            slots=2,
            limits=limits,
            nats_url=nats.url,
            several_instances=True,
        ) as stack,
    ):
        second = stack.chatd.another(stack.chatd.run_dir.parent / "chatd-2")
        try:
            second.start()
            yield stack, second
        finally:
            second.stop()


def counter(instance: Chatd, name: str) -> int:
    counters = instance.health()["counters"]
    assert isinstance(counters, dict)
    return int(counters[name])


def reloads(instance: Chatd) -> list[str]:
    return [line for line in instance.log_file.read_text().splitlines() if "directory reloaded" in line]


async def clients(stack: Stack, connect_to, names: list[str]) -> dict[str, Client]:
    return {name: await connect_to(stack, name) for name in names}


async def join_rooms(stack: Stack, members: dict[str, Client]) -> None:
    for room, speaker in ROOMS:
        assert self_presence(await join(members[speaker], room, stack.accounts[speaker].pseudonym))


async def one_round(stack: Stack, members: dict[str, Client], label: str) -> None:
    """Each pair's message delivered and each room's message reflected to its speaker."""
    for sender, recipient in PAIRS:
        members[sender].send_chat(stack.pseudonym_jid(recipient), f"{label} {sender}")
    for room, speaker in ROOMS:
        say(members[speaker], room, f"{label} {room}")
    for sender, recipient in PAIRS:
        await members[recipient].expect(message_from(stack.pseudonym_jid(sender), f"{label} {sender}"))
    for room, speaker in ROOMS:
        await members[speaker].expect(groupchat(room, f"{label} {room}"))


async def carrier(instances: list[Chatd], send, arrived) -> int:
    """Which instance delivered one message (nothing else in flight): the one whose delivered count went up."""
    before = [counter(i, "delivered") for i in instances]
    send()
    await arrived()
    assert await until(lambda: sum(counter(i, "delivered") for i in instances) > sum(before), 5)
    [which] = [n for n, i in enumerate(instances) if counter(i, "delivered") > before[n]]
    return which


async def test_pairs_and_rooms_go_through_both_instances_and_a_mute_holds_on_both(two, connect_to) -> None:
    stack, second = two
    instances = [stack.chatd, second]
    members = await clients(stack, connect_to, MEMBERS)
    await join_rooms(stack, members)
    before = [counter(i, "delivered") for i in instances]
    for n in range(3):
        await one_round(stack, members, f"round-{n}")
    assert all(counter(i, "delivered") > before[n] for n, i in enumerate(instances))  # both carried traffic

    frank = members["frank"]
    holder = {}
    for name in EN_RECIPIENTS:  # which instance holds each recipient's pseudonym
        to = stack.pseudonym_jid(name)
        holder[name] = await carrier(
            instances,
            lambda to=to: frank.send_chat(to, "before the mute"),
            lambda name=name: members[name].expect(message_from(stack.pseudonym_jid("frank"), "before the mute")),
        )
    assert set(holder.values()) == {0, 1}, holder

    wendy = await connect_to(stack, "wendy")
    store = await stack.store()
    try:
        ids = {m.pseudonym: m.id for m in await store.members("en")}
    finally:
        await store.close()
    low, high = sorted((ids["kind-robin"], ids["steady-moose"]))  # frank and dan
    shadow = f"en-dm-{low}-{high}@watch.localhost"
    assert self_presence(await join(wendy, shadow, "sturdy-owl"))
    say(wendy, shadow, "!mute kind-robin 10m cooling off")
    await wendy.expect(groupchat(shadow, "kind-robin is muted"))
    # the guide's instance wrote the mute; each instance reloads its sanctions when the store's version changes
    assert await until(lambda: all(any(", 1 muted," in line for line in reloads(i)) for i in instances), 10)
    for name in EN_RECIPIENTS:
        to = stack.pseudonym_jid(name)
        sent = frank.send_chat(to, "am I muted?")
        await frank.expect(error_from(to, "policy-violation", stanza_id=sent))
    for name in EN_RECIPIENTS:
        assert not [e for e in members[name].received if "am I muted?" in (body_of(e) or "")]


async def listening(instances: list[Chatd]) -> None:
    assert await until(lambda: all(i.health()["peers"]["listening"] for i in instances), 20)


async def guide_and_members(stack: Stack, instances: list[Chatd], connect_to) -> tuple[dict[str, Client], Client, str]:
    """Once both instances listen to each other: the English members, and a Wall Guide in the queue room."""
    await listening(instances)
    members = await clients(stack, connect_to, EN_RECIPIENTS)
    wendy = await connect_to(stack, "wendy")
    queue = "en-queue@watch.localhost"
    assert self_presence(await join(wendy, queue, "sturdy-owl"))
    return members, wendy, queue


async def holders(stack: Stack, instances: list[Chatd], members: dict[str, Client], sender: str) -> dict[str, int]:
    """Which instance holds each English recipient's pseudonym (the sender's hello to each, one at a time)."""
    found = {}
    for name in [n for n in EN_RECIPIENTS if n != sender]:
        to, by = stack.pseudonym_jid(name), stack.pseudonym_jid(sender)
        found[name] = await carrier(
            instances,
            lambda to=to: members[sender].send_chat(to, f"hello from {sender}"),
            lambda name=name, by=by: members[name].expect(message_from(by, f"hello from {sender}")),
        )
    return found


async def test_guides_see_live_every_line_whichever_instance_reviewed_the_text(two, connect_to) -> None:
    stack, second = two
    instances = [stack.chatd, second]
    members, wendy, queue = await guide_and_members(stack, instances, connect_to)
    store = await stack.store()
    try:
        ids = {m.pseudonym: m.id for m in await store.members("en")}
    finally:
        await store.close()
    alice = ids[stack.accounts["alice"].pseudonym]
    shadows = {}
    for name in EN_RECIPIENTS[1:]:  # alice's conversation with each of the others
        low, high = sorted((alice, ids[stack.accounts[name].pseudonym]))
        shadows[name] = f"en-dm-{low}-{high}@watch.localhost"
        assert self_presence(await join(wendy, shadows[name], "sturdy-owl"))
    held = await holders(stack, instances, members, "alice")
    assert set(held.values()) == {0, 1}, held  # alice's texts are reviewed on both instances

    for name in EN_RECIPIENTS[1:]:
        body = f"live line to {name}"
        members["alice"].send_chat(stack.pseudonym_jid(name), body)
        await wendy.expect(groupchat(shadows[name], body))  # the shadow room's instance showed the other's line
    risky = {name: f"RISKME CUE-MEANS CUE-TIME CUE-INTENT to {name}" for name in EN_RECIPIENTS[1:]}
    for name, body in risky.items():
        members["alice"].send_chat(stack.pseudonym_jid(name), body)
        await members[name].expect(message_from(stack.pseudonym_jid("alice"), body))
    announced = groupchat(queue, f"risk.means · {stack.accounts['alice'].pseudonym}")

    def entries() -> int:
        return len([e for e in wendy.received if announced(e)])

    # every alert's entry is announced live in the queue room, whichever instance filed it
    assert await until(lambda: entries() >= len(risky), 15), entries()
    await asyncio.sleep(0.5)
    assert entries() == len(risky)
    told = [i.health()["peers"]["told"] for i in instances]
    assert all(n > 0 for n in told), told


async def test_a_members_texts_reviewed_on_both_instances_make_one_risk_window(two, connect_to) -> None:
    stack, second = two
    instances = [stack.chatd, second]
    members, wendy, queue = await guide_and_members(stack, instances, connect_to)
    held = await holders(stack, instances, members, "carol")
    on = {n: [name for name, i in held.items() if i == n] for n in (0, 1)}
    first, other = on[0][0], on[1][0]
    carol = stack.pseudonym_jid("carol")
    heard = [i.health()["peers"]["heard"] for i in instances]
    for cue, name in (("CUE-MEANS", first), ("CUE-TIME", other), ("CUE-INTENT", first)):
        members["carol"].send_chat(stack.pseudonym_jid(name), f"{cue} said to {name}")
        await members[name].expect(message_from(carol, f"{cue} said to {name}"))
        # the text's window news reaches the other instance before the next text is sent (not with one instance)
        await until(lambda heard=heard: sum(i.health()["peers"]["heard"] for i in instances) > sum(heard), 5)
        heard = [i.health()["peers"]["heard"] for i in instances]
    pseudonym = stack.accounts["carol"].pseudonym
    alert = await wendy.expect(groupchat(queue, f"risk.means · {pseudonym}"), timeout=15)
    together = i18n.text("en", "watch.recent_texts", count="8")  # the window is full: the cues and five hellos
    assert together in (body_of(alert) or ""), body_of(alert)
    await asyncio.sleep(1.0)
    assert len([e for e in wendy.received if groupchat(queue, f"risk.means · {pseudonym}")(e)]) == 1

    spare = stack.chatd.another(stack.chatd.run_dir.parent / "chatd-spare")  # no slot left: it only listens
    takeovers = [i.health()["peers"]["takeovers"] for i in instances]
    try:
        spare.start()
        # it replays the risk window's span: carol's ten texts at least (lines for guides are not replayed)
        assert await until(lambda: spare.health()["peers"]["heard"] >= 10, 20), spare.health()["peers"]
    finally:
        spare.stop()

    # its heartbeat stops: each instance opens a set of connections, which finds no free slot (scale-out.md)
    def silent_spare_taken_over() -> bool:
        return all(i.health()["peers"]["takeovers"] > n for i, n in zip(instances, takeovers, strict=True))

    assert await until(silent_spare_taken_over, 10)


async def test_guides_watch_groups_made_on_either_instance(two, connect_to) -> None:
    stack, second = two
    members, wendy, _queue = await guide_and_members(stack, [stack.chatd, second], connect_to)
    alice = members["alice"]
    groups = [f"walk-{n}" for n in range(6)]  # each group and its shadow room on one instance or the other
    for group in groups:
        assert self_presence(await join(alice, f"{group}@rooms.en.localhost", stack.accounts["alice"].pseudonym))
    for group in groups:  # the instance holding the shadow room knows the group another instance made
        joined = await join(wendy, f"en-room-{group}@watch.localhost", "sturdy-owl")
        assert self_presence(joined), group
    for group in groups:
        say(alice, f"{group}@rooms.en.localhost", f"first words in {group}")
        await wendy.expect(groupchat(f"en-room-{group}@watch.localhost", f"first words in {group}"))


async def archived_bodies(url: str, conversations: str = "%") -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT body FROM messages WHERE body IS NOT NULL AND conversation LIKE $1", conversations
        )
        return {row[0] for row in rows}
    finally:
        await conn.close()


def got(client: Client, sender: str, body: str) -> bool:
    return any(message_from(sender, body)(e) and body_of(e) == body for e in client.received)


async def test_an_instance_killed_mid_traffic_loses_nothing_archived_and_the_other_takes_its_slots(
    two, connect_to
) -> None:
    stack, second = two
    first = stack.chatd
    members = await clients(stack, connect_to, MEMBERS)
    await join_rooms(stack, members)
    acknowledged: set[str] = set()  # delivered to the recipient, or reflected to the room's speaker: archived
    sent: list[str] = []

    async def traffic(rounds: int) -> None:
        for n in range(rounds):
            for sender, recipient in PAIRS:
                body = f"kill-{n} {sender}"
                members[sender].send_chat(stack.pseudonym_jid(recipient), body)
                sent.append(body)
            for room, speaker in ROOMS:
                body = f"kill-{n} {room}"
                say(members[speaker], room, body)
                sent.append(body)
            await asyncio.sleep(0.05)

    before_kill = second.health()["peers"]
    sending = asyncio.create_task(traffic(60))
    await asyncio.sleep(1.0)
    assert first.process is not None
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    await sending
    await asyncio.sleep(2.0)  # answers from the living instance still on their way
    for sender, recipient in PAIRS:
        arrived = members[recipient].received
        acknowledged |= {(body_of(e) or "") for e in arrived if message_from(stack.pseudonym_jid(sender), "kill-")(e)}
    for room, speaker in ROOMS:
        acknowledged |= {(body_of(e) or "") for e in members[speaker].received if groupchat(room, "kill-")(e)}
    assert acknowledged and len(acknowledged) < len(sent)  # some went through, some met the dead instance
    missing = acknowledged - await archived_bodies(stack.chatd.store)
    assert not missing, sorted(missing)

    # the living instance hears no heartbeat and takes the dead one's slots: a connection per domain (a set of
    # connections opened when the spare of an earlier test stopped holds nothing: there was no free slot)
    domains = len(second.health()["streams"])

    def taken() -> bool:  # the set it opened now is up, beside the one the spare's silence made
        peers = second.health()["peers"]
        return peers["takeovers"] > before_kill["takeovers"] and peers["taken_over"] == domains * peers["takeovers"]

    assert await until(taken, 15), second.health()["peers"]
    await join_rooms(stack, members)  # the killed instance's rooms lost their occupants with it
    await one_round(stack, members, "after")  # every pair and room, the killed instance's included
    # every one-on-one message archived reaches its recipient: what the killed instance archived and had not
    # confirmed sent is sent by the living one once nothing confirms it (chatd.recovery)
    recipients = dict(PAIRS)
    for body in await archived_bodies(stack.chatd.store, "dm:%"):
        if body.startswith("kill-"):
            sender = body.split()[1]
            recipient = members[recipients[sender]]
            assert await until(functools.partial(got, recipient, stack.pseudonym_jid(sender), body), 30), body


async def test_what_a_killed_instance_archived_and_never_sent_reaches_its_recipient_through_the_replacement(
    two, connect_to, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack, second = two
    first = stack.chatd
    members = await clients(stack, connect_to, EN_RECIPIENTS)
    carol = stack.pseudonym_jid("carol")
    monkeypatch.setenv("CHATD_FAILPOINTS", "before_send")  # it dies after archiving a message, before sending it
    doomed = first.another(first.run_dir.parent / "chatd-4")
    try:
        doomed.start()  # its greeting frees the slots the living instance took over in the last test
        assert second.health()["peers"]["taken_over"] == 0
        monkeypatch.delenv("CHATD_FAILPOINTS")
        dead = doomed.process
        assert dead is not None
        killed_by = ""
        for name in [n for n in EN_RECIPIENTS if n != "carol"]:  # one at a time, until one reaches the doomed one
            members["carol"].send_chat(stack.pseudonym_jid(name), f"never sent {name}")
            check = functools.partial(got, members[name], carol, f"never sent {name}")
            assert await until(lambda check=check: check() or dead.poll() is not None, 10)
            if dead.poll() is not None:
                killed_by = name
                break
        assert killed_by, "no recipient on the doomed instance's slot"
        body = f"never sent {killed_by}"
        assert body in await archived_bodies(first.store) and not got(members[killed_by], carol, body)
    finally:
        doomed.stop()
    replacement = first.another(first.run_dir.parent / "chatd-5")
    try:
        replacement.start()
        assert await until(functools.partial(got, members[killed_by], carol, body), 30)
        logs = replacement.log_file.read_text() + second.log_file.read_text()  # one of them sent it
        assert "left unconfirmed in the shared store" in logs
    finally:
        replacement.stop()
