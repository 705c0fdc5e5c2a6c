"""The executor with a real store and a recording policy: what every path passes to moderation, and the order."""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatd import wiring
from chatd.actions import ActionRequest
from chatd.core.model import Member
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal
from chatd.executor import Reply
from chatd.runtime import Runtime
from policies import Conversation, Field
from tests.support.harness import EN, Recorder, make_runtime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await make_runtime(tmp_path, Recorder())
    yield rt
    await rt.store.close()


def member(rt: Runtime, pseudonym: str) -> Member:
    found = rt.directory.by_pseudonym("en", pseudonym)
    assert found is not None
    return found


def flood(rt: Runtime, who: Member, count: int) -> None:
    for _ in range(count):
        assert rt.limiter.allow(who.account, time.monotonic())


async def test_ask_a_wall_guide_passes_the_flood_count_and_the_watchlist(runtime: Runtime) -> None:
    alex = member(runtime, "calm-otter")
    flood(runtime, alex, 3)
    await runtime.sanctions.watch(alex, "test", "amber-guide", True)
    told: list[str] = []

    async def notice(text: str) -> None:
        told.append(text)

    event = TextEvent(alex, EN, "I need to talk", Field.BODY, Conversation.GUIDE, f"guide:{alex.id}", "guide")
    await wiring.executor(runtime).submit(event, Reply(lambda refusal: None, notice))
    context = runtime.moderation.policy.contexts[-1]  # type: ignore[attr-defined]
    assert context.recent_messages in (2, 3)  # the limiter's count is rough: 3 sent, minus the refill meanwhile
    assert (context.watched, context.conversation) == (True, Conversation.GUIDE)
    assert len(told) == 1  # the first text of a thread: "a guide will answer"


async def test_a_bots_post_passes_the_flood_count_and_the_watchlist(runtime: Runtime) -> None:
    bot, sam = member(runtime, "helper-bot"), member(runtime, "brave-heron")
    flood(runtime, bot, 2)
    await runtime.sanctions.watch(bot, "test", "amber-guide", True)
    runs = wiring.executor(runtime)
    rooms = {"en": wiring.rooms(runtime, EN, [], runs)}
    actions = wiring.actions(runtime, {}, rooms, {}, None, None, runs)  # type: ignore[arg-type]
    answer = await actions.post(
        "en", ActionRequest(service="s", token="t", bot="helper-bot", to="brave-heron", text="hi")
    )
    context = runtime.moderation.policy.contexts[-1]  # type: ignore[attr-defined]
    assert context.recent_messages in (1, 2) and (context.watched, context.conversation) == (True, Conversation.DIRECT)
    archived = await runtime.store.conversation(f"dm:{sam.id}:{bot.id}")
    assert [(m.body, m.verdict, m.stanza_id.endswith(answer["id"])) for m in archived] == [("hi", "deliver", True)]


async def test_the_archive_holds_a_text_before_anyone_gets_it(runtime: Runtime) -> None:
    alex, sam = member(runtime, "calm-otter"), member(runtime, "brave-heron")
    seen_at_delivery: list[list[str | None]] = []

    async def deliver(text: str, stanza_id: str) -> None:
        seen_at_delivery.append([m.body for m in await runtime.store.conversation("dm:1:2")])

    async def notice(text: str) -> None:
        return None

    event = TextEvent(alex, EN, "hello", Field.BODY, Conversation.DIRECT, "dm:1:2", "message", sam)
    outcome = await wiring.executor(runtime).submit(event, Reply(lambda refusal: None, notice, deliver))
    assert outcome.delivered == "hello" and seen_at_delivery == [["hello"]]


async def test_when_the_archive_fails_nothing_is_delivered_and_the_author_is_told(runtime: Runtime) -> None:
    alex, sam = member(runtime, "calm-otter"), member(runtime, "brave-heron")
    refused: list[Refusal] = []
    delivered: list[str] = []

    async def deliver(text: str, stanza_id: str) -> None:
        delivered.append(text)

    async def notice(text: str) -> None:
        return None

    await runtime.store.db.execute("ALTER TABLE messages RENAME TO gone")  # every archive write fails now
    event = TextEvent(alex, EN, "hello", Field.BODY, Conversation.DIRECT, "dm:1:2", "message", sam, "c1")
    released: list[bool] = []  # the translator releases the text, so that a resend of it counts as new
    reply = Reply(refused.append, notice, deliver, unarchived=lambda: released.append(True))
    await wiring.executor(runtime).submit(event, reply)
    assert [(r.condition, r.text) for r in refused] == [("internal-server-error", "error.not_delivered")]
    assert delivered == [] and released == [True]
