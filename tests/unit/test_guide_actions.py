"""Guide actions through the one service, without a network: commands in, store, stanzas and audit out."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest

from chatd import wiring
from chatd.core import rooms as core_rooms
from chatd.core.guides import CommandProblem, Verb, parse_guide_command
from chatd.core.model import Member, Role, Status
from chatd.core.pipeline import TextEvent
from chatd.core.refusal import Refusal
from chatd.core.rooms import Room, RoomKind
from chatd.core.shadow import short_id
from chatd.executor import Reply
from chatd.guide_actions import GuideActions
from chatd.runtime import Runtime
from chatd.store.audit import AuditLog
from chatd.xmpp import adhoc
from chatd.xmpp.rooms import RoomsDomain
from policies import Action, Conversation, Field
from tests.support.harness import EN, Recorder, Stream, make_runtime


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await make_runtime(tmp_path, Recorder(Action.HOLD))
    rt.audit = await AuditLog.open(tmp_path / "s.sqlite3")  # type: ignore[attr-defined]
    yield rt
    await rt.queues.idle()
    await rt.audit.close()  # type: ignore[attr-defined]
    await rt.store.close()


def service(rt: Runtime, lines: list[tuple[str, str]], rooms: RoomsDomain | None = None) -> GuideActions:
    async def post_line(where: str, author: Member | None, text: str) -> None:
        lines.append((where, text))

    rooms = rooms or wiring.rooms(rt, EN, [], wiring.executor(rt))
    return wiring.guide_actions(rt, EN, wiring.desk(rt), rooms, rt.audit, post_line)  # type: ignore[attr-defined]


def who(rt: Runtime, pseudonym: str) -> Member:
    found = rt.directory.by_pseudonym("en", pseudonym)
    assert found is not None
    return found


def sent(rt: Runtime) -> list[str]:
    stream = rt.streams[EN.people_domain]
    assert isinstance(stream, Stream)
    return stream.sent


async def write(
    rt: Runtime, author: Member, recipient: Member, text: str, place: Conversation = Conversation.DIRECT
) -> list[Refusal]:
    refused: list[Refusal] = []

    async def notice(text: str) -> None:
        return None

    kind, key = ("private", "roompm:en:general:1:2") if place is Conversation.ROOM_PRIVATE else ("message", "dm:1:2")
    event = TextEvent(author, EN, text, Field.BODY, place, key, kind, recipient, "c-9")
    await wiring.executor(rt).submit(event, Reply(refused.append, notice))
    return refused


async def test_an_approved_held_text_reaches_its_recipient_and_the_author_is_told(runtime: Runtime) -> None:
    alex, sam, guide = who(runtime, "calm-otter"), who(runtime, "brave-heron"), who(runtime, "amber-guide")
    await write(runtime, alex, sam, "call me tonight")
    held = (await runtime.store.conversation("dm:1:2"))[-1]
    assert (held.body, held.verdict) == (None, "hold")
    lines: list[tuple[str, str]] = []
    answer = await service(runtime, lines).execute(
        "en-dm-1-2", guide, parse_guide_command(f"!approve {short_id(held.stanza_id)}")
    )
    assert short_id(held.stanza_id) in answer
    to_sam = [s for s in sent(runtime) if "to='sam@localhost'" in s or 'to="sam@localhost"' in s]
    assert len(to_sam) == 1 and "call me tonight" in to_sam[0] and "calm-otter@en.example" in to_sam[0]
    assert any("alex@localhost" in s and "wallguide@en.example" in s for s in sent(runtime))  # the author is told
    settled = (await runtime.store.conversation("dm:1:2"))[-1]
    assert (settled.body, settled.verdict) == ("call me tonight", "approved")
    with pytest.raises(CommandProblem):  # settled once: no longer held
        await service(runtime, lines).execute(
            "en-dm-1-2", guide, parse_guide_command(f"!approve {short_id(held.stanza_id)}")
        )


async def test_a_mute_takes_effect_at_once_and_ends(runtime: Runtime) -> None:
    alex, sam, guide = who(runtime, "calm-otter"), who(runtime, "brave-heron"), who(runtime, "amber-guide")
    actions = service(runtime, [])
    await actions.execute("en-queue", guide, parse_guide_command("!mute calm-otter 10m flooding the room"))
    assert runtime.sanctions.muted_until(alex) is not None
    assert [r.text for r in await write(runtime, alex, sam, "hello")] == ["error.muted"]
    await actions.execute("en-queue", guide, parse_guide_command("!unmute calm-otter"))
    assert await write(runtime, alex, sam, "hello") == []


async def test_an_ad_hoc_form_runs_the_same_action_as_the_typed_command(runtime: Runtime) -> None:
    alex, guide = who(runtime, "calm-otter"), who(runtime, "amber-guide")
    actions = service(runtime, [])
    command = adhoc.guide_command(Verb.WATCH, {"member": "calm-otter", "text": "said goodbye"})
    assert command == parse_guide_command("!watch calm-otter said goodbye")
    await actions.execute("en-queue", guide, command)
    assert runtime.sanctions.is_watched(alex)
    await write(runtime, alex, who(runtime, "brave-heron"), "hello")
    assert runtime.moderation.policy.contexts[-1].watched  # type: ignore[attr-defined]


async def test_unknown_targets_are_refused_with_a_clear_problem(runtime: Runtime) -> None:
    actions = service(runtime, [])
    guide = who(runtime, "amber-guide")
    for line in ("!approve abcdef12", "!remove abcdef12 spam", "!warn no-such-name be kind", "!claim 999"):
        with pytest.raises(CommandProblem):
            await actions.execute("en-queue", guide, parse_guide_command(line))
    with pytest.raises(CommandProblem):  # a post needs a conversation: not the queue
        await actions.execute("en-queue", guide, parse_guide_command("!post hello everyone"))


async def test_an_approved_held_private_message_in_a_room_reaches_its_recipient_there(runtime: Runtime) -> None:
    alex, sam, guide = who(runtime, "calm-otter"), who(runtime, "brave-heron"), who(runtime, "amber-guide")
    rooms = wiring.rooms(runtime, EN, [], wiring.executor(runtime))
    room = rooms.rooms["general"] = Room("general", "en", RoomKind.TOPIC, "General", "", b"salt")
    for member, full in ((alex, "alex@localhost/phone"), (sam, "sam@localhost/laptop")):
        core_rooms.enter(room, member, full, quoteattr(full).encode(), member.pseudonym)
    actions = service(runtime, [], rooms)
    await write(runtime, alex, sam, "meet me after", Conversation.ROOM_PRIVATE)
    held = (await runtime.store.conversation("roompm:en:general:1:2"))[-1]
    await actions.execute("en-room-general", guide, parse_guide_command(f"!approve {short_id(held.stanza_id)}"))
    to_sam = [s for s in rooms_sent(runtime) if "sam@localhost/laptop" in s]
    assert len(to_sam) == 1 and "meet me after" in to_sam[0] and "general@rooms.en.example/calm-otter" in to_sam[0]

    await write(runtime, alex, sam, "one more thing", Conversation.ROOM_PRIVATE)
    core_rooms.leave(room, "sam@localhost/laptop")
    second = (await runtime.store.conversation("roompm:en:general:1:2"))[-1]
    with pytest.raises(CommandProblem, match="left the room"):
        await actions.execute("en-room-general", guide, parse_guide_command(f"!approve {short_id(second.stanza_id)}"))
    assert (await runtime.store.conversation("roompm:en:general:1:2"))[-1].verdict == "hold"  # still held


def rooms_sent(rt: Runtime) -> list[str]:
    stream = rt.streams[EN.rooms_domain]
    assert isinstance(stream, Stream)
    return stream.sent


async def test_a_rejected_held_text_reaches_nobody_and_its_author_is_told_why(runtime: Runtime) -> None:
    alex, sam, guide = who(runtime, "calm-otter"), who(runtime, "brave-heron"), who(runtime, "amber-guide")
    await write(runtime, alex, sam, "call me tonight")
    held = (await runtime.store.conversation("dm:1:2"))[-1]
    command = parse_guide_command(f"!reject {short_id(held.stanza_id)} not safe to share")
    await service(runtime, []).execute("en-dm-1-2", guide, command)
    assert not [s for s in sent(runtime) if "sam@localhost" in s]
    to_alex = [s for s in sent(runtime) if "alex@localhost" in s]
    assert len(to_alex) == 1 and "not safe to share" in to_alex[0]
    settled = (await runtime.store.conversation("dm:1:2"))[-1]
    assert (settled.verdict, settled.body, settled.original) == ("rejected", None, "call me tonight")
    with pytest.raises(CommandProblem):  # settled: neither approved nor rejected again
        await service(runtime, []).execute(
            "en-dm-1-2", guide, parse_guide_command(f"!approve {short_id(held.stanza_id)}")
        )


async def test_a_removed_room_message_is_retracted_for_every_occupant_and_kept_for_the_guides(runtime: Runtime) -> None:
    alex, guide = who(runtime, "calm-otter"), who(runtime, "amber-guide")
    runtime.moderation.policy.action = Action.DELIVER  # type: ignore[attr-defined]
    rooms = wiring.rooms(runtime, EN, [], wiring.executor(runtime))
    room = rooms.rooms["general"] = Room("general", "en", RoomKind.TOPIC, "General", "", b"salt")
    for member, full in ((alex, "alex@localhost/phone"), (who(runtime, "brave-heron"), "sam@localhost/laptop")):
        core_rooms.enter(room, member, full, quoteattr(full).encode(), member.pseudonym)
    event = TextEvent(alex, EN, "hello all", Field.BODY, Conversation.ROOM, "room:en:general", "message", None, "r-1")
    await wiring.executor(runtime).submit(event, Reply(lambda refusal: None, lambda text: asyncio.sleep(0)))
    delivered = (await runtime.store.conversation("room:en:general"))[-1]
    command = parse_guide_command(f"!remove {short_id(delivered.stanza_id)} off topic")
    await service(runtime, [], rooms).execute("en-room-general", guide, command)
    retractions = [s for s in rooms_sent(runtime) if "urn:xmpp:message-moderate" in s]
    told = "".join(retractions)
    assert "alex@localhost/phone" in told and "sam@localhost/laptop" in told and delivered.stanza_id in told
    removed = (await runtime.store.conversation("room:en:general"))[-1]
    assert (removed.verdict, removed.body, removed.original) == ("removed", "", "hello all")
    assert [s for s in sent(runtime) if "alex@localhost" in s and "off topic" in s]  # the author is told why


async def test_a_guide_asking_for_the_last_address_is_refused_and_audited_a_senior_is_sent_to_the_vault(
    runtime: Runtime,
) -> None:
    actions = service(runtime, [])
    command = parse_guide_command("!emergency calm-otter not answering since last night")
    with pytest.raises(CommandProblem, match="only a Senior Clinician"):
        await actions.execute("en-queue", who(runtime, "amber-guide"), command)
    [entry] = await runtime.audit.records("vault.emergency")  # type: ignore[attr-defined]
    assert (entry.actor, entry.target) == ("amber-guide", "calm-otter")
    assert entry.detail == {"reason": "not answering since last night", "outcome": "refused: not a Senior Clinician"}
    senior = Member(99, "senior@localhost", "en", "cedar-senior", Role.SENIOR_CLINICIAN, Status.ACTIVE, 0.0)
    with pytest.raises(CommandProblem, match=r"never shown in chat.*chatd vault emergency --member calm-otter"):
        await actions.execute("en-queue", senior, command)
    assert len(await runtime.audit.records("vault.emergency")) == 1  # type: ignore[attr-defined]
    assert Verb.EMERGENCY not in adhoc.OFFERED
