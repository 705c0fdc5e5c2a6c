"""Domain events through a real nats-server: subjects, no accounts, JetStream catch-up, NATS restarts."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import time
from collections.abc import Iterator

import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.integration.conftest import Stack, connector, running_nats, running_stack
from tests.support.client import message_from
from tests.support.muc import groupchat, join
from tests.support.nats import NatsServer

SERVICE, SERVICE_TOKEN = "resource-poster", "a-long-enough-token-for-tests"

pytestmark = pytest.mark.skipif(shutil.which("nats-server") is None, reason="nats-server is not installed")


@pytest.fixture(scope="module")
def events_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    with running_nats(tmp_path_factory, "events-nats") as server:
        yield server


@pytest.fixture(scope="module")
def events_stack(events_nats: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tokens = {SERVICE: SERVICE_TOKEN}
    with running_stack(tmp_path_factory, "events-stack", nats_url=events_nats.url, action_tokens=tokens) as running:
        yield running


@pytest.fixture
async def connect_events(events_stack: Stack):
    opened = []
    yield connector(events_stack, opened)
    for client in opened:
        await client.close()


async def stream_events(url: str, since: float) -> list[tuple[str, dict]]:
    """Everything in the JetStream stream from the start, read by a consumer created now."""
    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        subscription = await jetstream.subscribe(
            "chatd.>", stream="CHATD_EVENTS", config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        )
        found = []
        while True:
            try:
                message = await subscription.next_msg(timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                break
            event = json.loads(message.data)
            if event["at"] >= since:
                found.append((message.subject, event))
        await subscription.unsubscribe()
        return found
    finally:
        await client.close()


async def wait_for_events(url: str, since: float, predicate, count: int, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    found: list[tuple[str, dict]] = []
    while time.monotonic() < deadline:
        try:
            found = [item for item in await stream_events(url, since) if predicate(item)]
        except Exception:  # the stream may not exist yet, or NATS is still starting
            found = []
        if len(found) >= count:
            return found
        await asyncio.sleep(0.3)
    raise AssertionError(f"expected {count} events, got {len(found)}: {found}")


async def test_events_on_subjects_without_accounts(events_stack: Stack, events_nats: NatsServer, connect_events):
    stack = events_stack
    live = await nats.connect(events_nats.url)
    received: list[tuple[str, bytes]] = []

    async def record(message) -> None:
        received.append((message.subject, message.data))

    await live.subscribe("chatd.>", cb=record)
    await live.flush()
    alice, bob = await connect_events("alice"), await connect_events("bob")
    to = stack.pseudonym_jid("bob")
    alice.send_chat(to, "plain and simple")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "plain and simple"))
    alice.send_chat(to, "here is SECRET-CODE")
    alice.send_chat(to, "HOLDME now")
    alice.send_chat(to, "REJECTME now")
    wanted = {f"chatd.en.message_{kind}" for kind in ("delivered", "redacted", "held", "rejected")}
    for _ in range(50):
        if wanted <= {subject for subject, _ in received}:
            break
        await asyncio.sleep(0.1)
    await live.close()
    assert wanted <= {subject for subject, _ in received}
    everything = b"".join(data for _, data in received).decode()
    for account in stack.accounts.values():
        assert account.jid not in everything
    assert "SECRET-CODE" not in everything and "plain and simple" not in everything
    redacted = next(json.loads(d) for s, d in received if s == "chatd.en.message_redacted")
    assert (redacted["sender"], redacted["recipient"], redacted["kinds"]) == (
        "calm-otter",
        "brave-heron",
        ["pii.email"],
    )


async def test_late_jetstream_consumer_gets_earlier_events(
    events_stack: Stack, events_nats: NatsServer, connect_events
):
    stack = events_stack
    since = time.time()
    carol, dan = await connect_events("carol"), await connect_events("dan")
    for n in range(3):
        carol.send_chat(stack.pseudonym_jid("dan"), f"before the consumer {n}")
    await dan.expect(message_from(stack.pseudonym_jid("carol"), "before the consumer 2"))
    events = await wait_for_events(events_nats.url, since, lambda item: item[1].get("sender") == "quiet-lynx", count=3)
    assert {subject for subject, _ in events} == {"chatd.en.message_delivered"}


async def test_nats_restart_loses_no_buffered_events(events_stack: Stack, events_nats: NatsServer, connect_events):
    stack = events_stack
    since = time.time()
    eve, frank = await connect_events("eve"), await connect_events("frank")
    events_nats.stop()
    try:
        for n in range(5):
            eve.send_chat(stack.pseudonym_jid("frank"), f"while NATS is down {n}")
        await frank.expect(message_from(stack.pseudonym_jid("eve"), "while NATS is down 4"))  # chatd keeps serving
    finally:
        events_nats.start()
    events = await wait_for_events(
        events_nats.url, since, lambda item: item[1].get("sender") == "swift-hare", count=5, timeout=30
    )
    assert len(events) == 5  # each exactly once (JetStream de-duplicates by event id)


async def act(url: str, verb: str, **fields: object) -> dict:
    client = await nats.connect(url)
    try:
        payload = {"service": SERVICE, "token": SERVICE_TOKEN, **fields}
        for _ in range(50):  # chatd subscribes once it is connected
            try:
                reply = await client.request(f"chatd.en.action.{verb}", json.dumps(payload).encode(), timeout=0.3)
                return json.loads(reply.data)
            except (TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError):
                await asyncio.sleep(0.1)
        raise AssertionError("no answer to the action")
    finally:
        await client.close()


async def test_actions_post_alert_remove_and_refuse_strangers(
    events_stack: Stack, events_nats: NatsServer, connect_events
):
    stack = events_stack
    hank = await connect_events("hank")
    room = "general@rooms.en.localhost"
    await join(hank, room, "humble-bison")

    posted = await act(events_nats.url, "post", bot="helper-bot", room="general", text="Peer support meets Tuesday.")
    assert posted["ok"], posted
    got = await hank.expect(groupchat(room, "Peer support meets Tuesday."))
    assert got.get("from") == f"{room}/helper-bot"

    stranger = await act(events_nats.url, "post", bot="helper-bot", room="general", text="x", token="wrong-token-value")
    assert stranger == {"ok": False, "error": "not authorized"}
    not_a_bot = await act(events_nats.url, "post", bot="calm-otter", room="general", text="hello")
    assert not not_a_bot["ok"] and "not a bot" in not_a_bot["error"]

    alerted = await act(events_nats.url, "alert", member="calm-otter", kind="risk.external", severity=2, reason="x")
    assert alerted["ok"], alerted
    with sqlite3.connect(stack.chatd.store_path) as db:
        summary = db.execute("SELECT summary FROM queue WHERE id = ?", (alerted["entry"],)).fetchone()[0]
        assert summary.startswith("risk.external · calm-otter")

    removed = await act(events_nats.url, "remove", message=posted["id"], reason="posted twice")
    assert removed["ok"], removed
    await hank.expect(lambda e: e.find("{urn:xmpp:message-retract:1}retract") is not None)
    with sqlite3.connect(stack.chatd.store_path) as db:
        actions = [row[0] for row in db.execute("SELECT action FROM audit WHERE actor = ?", (f"service:{SERVICE}",))]
    assert actions == ["action.post", "action.alert", "message.remove", "action.remove"]
