"""Following rooms without joining them: the pure parts (paces, targets, digest wording), and the service with a
fake clock against a real store (no network: what would go to Prosody is kept by the harness's streams)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from chatd import i18n, wiring
from chatd.core import keys
from chatd.core.commands import parse_command
from chatd.core.follows import (
    DigestLine,
    FollowRequest,
    Pace,
    Since,
    compose,
    followed_since,
    next_due,
    parse_follow,
    parse_pace,
    rooms_of,
    since_wording,
    target_of,
)
from chatd.core.pipeline import archive_record
from chatd.core.tags import ListedRoom
from chatd.follows import Follows, render
from chatd.runtime import Runtime
from chatd.store import Store
from policies import Action, Verdict
from tests.support.harness import EN, Recorder, Stream, make_runtime

ROOMS = [
    ListedRoom("general", "General", "Peer support on any topic.", ("general",)),
    ListedRoom("military", "Military life", "Serving, leaving and life after service.", ("military",)),
    ListedRoom("mst", "MST community", "Military sexual trauma.", ("military", "abuse", "ptsd-trauma")),
]
LABELS = {t: i18n.tag_names(t) for r in ROOMS for t in r.tags}
NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC).timestamp()
DAY = 86400.0


# the pure parts


def test_the_last_word_is_the_pace_in_either_language() -> None:
    assert parse_follow("military daily") == FollowRequest("military", Pace.DAILY)
    assert parse_follow("Military life") == FollowRequest("Military life", None)
    assert parse_follow("hourly") == FollowRequest("", Pace.HOURLY)
    assert parse_follow("") == FollowRequest("", None)
    assert parse_pace("Quotidien") is Pace.DAILY and parse_pace("arrêt") is Pace.OFF and parse_pace("weekly") is None


def test_a_room_is_named_by_id_name_or_address_and_a_tag_by_id_or_name_in_any_language() -> None:
    assert target_of("mst", ROOMS, LABELS) == "room:mst"
    assert target_of("military life", ROOMS, LABELS) == "room:military"  # a room's id wins over a tag's
    assert target_of("xmpp:general@rooms.en.localhost?join", ROOMS, LABELS) == "room:general"
    assert target_of("abuse", ROOMS, LABELS) == "tag:abuse"
    assert target_of("TSPT / trauma", ROOMS, LABELS) == "tag:ptsd-trauma"  # the tag's French name
    assert target_of("sleep", ROOMS, LABELS) is None  # no room of this realm carries it
    assert target_of("#military", ROOMS, LABELS) == target_of("tag Military", ROOMS, LABELS) == "tag:military"
    assert target_of("tag", ROOMS, LABELS) is None
    assert target_of("", ROOMS, LABELS) is None


def test_a_tag_covers_every_room_that_carries_it() -> None:
    assert [r.local for r in rooms_of("tag:military", ROOMS)] == ["military", "mst"]
    assert [r.local for r in rooms_of("room:general", ROOMS)] == ["general"]
    assert rooms_of("room:gone", ROOMS) == []


def test_a_room_counts_from_the_last_digest_or_from_its_follow_if_later() -> None:
    follows = {"room:mst": 500.0, "tag:military": 50.0}
    assert followed_since(follows, ROOMS, since=100.0) == {"military": 100.0, "mst": 100.0}
    assert followed_since({"room:mst": 500.0}, ROOMS, since=100.0) == {"mst": 500.0}


def test_digests_are_due_a_period_after_the_window_began_and_never_when_off() -> None:
    assert next_due(1000.0, Pace.HOURLY) == 4600.0
    assert next_due(1000.0, Pace.DAILY) == 1000.0 + DAY
    assert next_due(1000.0, Pace.OFF) is None


def test_the_window_start_is_said_as_the_last_hour_a_time_yesterday_or_a_date() -> None:
    assert since_wording(NOON - 3600, NOON) == Since("last_hour")
    assert since_wording(NOON - 3 * 3600, NOON) == Since("time", (("time", "09:00"),))
    assert since_wording(NOON - DAY, NOON) == Since("yesterday")
    assert since_wording(NOON - 3 * DAY, NOON) == Since("date", (("date", "2026-11-30"),))


def test_a_digest_has_a_line_per_room_with_new_messages_and_nothing_else() -> None:
    starts = {"general": NOON - DAY, "mst": NOON - 3600}
    lines = compose(ROOMS, starts, {"general": 12, "mst": 0, "military": 5}, NOON)
    assert lines == [DigestLine("general", "General", 12, Since("yesterday"))]  # military is not followed
    assert compose(ROOMS, starts, {}, NOON) == []


def test_plural_forms_are_right_in_both_languages() -> None:
    def line(language: str, n: int) -> str:
        return i18n.plural(language, "digest.line", n, count=str(n), room="Sleep", since="", link="")

    assert line("en", 1).startswith("1 new message in") and line("en", 12).startswith("12 new messages in")
    assert line("en", 0).startswith("0 new messages")
    assert line("fr", 1).startswith("1 nouveau message dans") and line("fr", 12).startswith("12 nouveaux messages")
    assert line("fr", 0).startswith("0 nouveau message ")  # French: 0 takes the singular


def test_every_plural_text_exists_in_english_and_french_with_the_same_parameters() -> None:
    english, french = i18n.plural_catalog("en")[0], i18n.plural_catalog("fr")[0]
    assert english and set(english) == set(french)
    for key, forms in english.items():
        wanted = {frozenset(re.findall(r"\{(\w+)\}", f)) for f in forms}
        assert wanted == {frozenset(re.findall(r"\{(\w+)\}", f)) for f in french[key]}, key


def test_a_rendered_digest_carries_counts_and_join_links_only() -> None:
    lines = [DigestLine("general", "Général", 1, Since("yesterday")), DigestLine("tsm", "TSM", 3, Since("last_hour"))]
    text = render(lines, "fr", "rooms.fr.localhost")
    assert "1 nouveau message dans Général depuis hier : xmpp:general@rooms.fr.localhost?join" in text
    assert "3 nouveaux messages dans TSM depuis une heure : xmpp:tsm@rooms.fr.localhost?join" in text


# the service, with a fake clock and a real store


class Setup:
    def __init__(self, runtime: Runtime, now: list[float]):
        self.runtime, self.now = runtime, now
        self.follows = self.make()

    def make(self) -> Follows:
        follows = wiring.follows(self.runtime)
        follows.clock = lambda: self.now[0]
        return follows

    @property
    def sent(self) -> list[str]:
        stream = self.runtime.streams[EN.people_domain]
        assert isinstance(stream, Stream)
        return stream.sent

    def digests(self) -> list[str]:
        return [s for s in self.sent if "urn:xmpp:receipts" in s]

    async def say(self, name: str, text: str) -> str:
        member = self.runtime.directory.by_pseudonym("en", "calm-otter" if name == "alex" else "brave-heron")
        assert member is not None
        command = parse_command(text)
        assert command is not None
        key, params = await self.follows.command(member, command)
        return i18n.text("en", key, **params)

    async def post(self, room: str, text: str, verdict: Verdict | None = None) -> str:
        self.now[0] += 1
        record = archive_record(f"s-{self.now[0]}", str(keys.room("en", room)), 2, text, self.now[0], verdict)
        await self.runtime.store.archive(record)
        return record.stanza_id

    async def tick(self, seconds: float) -> None:
        self.now[0] += seconds
        await self.follows.send_due()
        await self.runtime.queues.idle()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    rt = await make_runtime(tmp_path, Recorder())
    yield Setup(rt, [NOON])
    await rt.queues.idle()
    await rt.store.close()


async def test_a_follower_gets_one_digest_a_day_with_counts_and_no_text(setup: Setup) -> None:
    assert "now follow Military life" in await setup.say("alex", "!follow military")
    for n in range(12):
        await setup.post("military", f"secret words {n}")
    await setup.post("general", "not followed")
    await setup.tick(DAY - 60)
    assert setup.digests() == []  # not due yet
    await setup.tick(60)
    (digest,) = setup.digests()
    assert "12 new messages in Military life since yesterday" in digest
    assert "xmpp:military@rooms.en.example?join" in digest and "alex@localhost" in digest
    assert "secret" not in digest and "General" not in digest and "brave-heron" not in digest
    assert 'from="wallguide@en.example"' in digest or "from='wallguide@en.example'" in digest


async def test_held_removed_retracted_and_reactions_are_not_counted(setup: Setup) -> None:
    await setup.say("alex", "!follow general hourly")
    await setup.post("general", "seen")
    await setup.post("general", "held", Verdict(Action.HOLD, "held"))
    await setup.post("general", "rejected", Verdict(Action.REJECT, "rejected"))
    removed = await setup.post("general", "removed later")
    await setup.runtime.store.moderate(removed, "")
    taken = await setup.post("general", "taken back")
    await setup.runtime.store.retract(taken)
    reaction = await setup.post("general", "👍")
    refs = json.dumps({"reactions_to": "x"})
    await setup.runtime.store.db.execute("UPDATE messages SET refs = ? WHERE stanza_id = ?", (refs, reaction))
    await setup.runtime.store.db.commit()
    await setup.tick(3600)
    (digest,) = setup.digests()
    assert "1 new message in General in the last hour" in digest


async def test_nothing_new_sends_nothing_and_the_window_moves_on(setup: Setup) -> None:
    await setup.say("alex", "!follow general hourly")
    await setup.tick(3600)
    assert setup.digests() == []
    await setup.post("general", "one")
    await setup.tick(3600)
    (digest,) = setup.digests()
    assert "1 new message in General in the last hour" in digest


async def test_a_waiting_digest_is_not_followed_by_another_until_the_member_is_seen(setup: Setup) -> None:
    await setup.say("alex", "!follow general hourly")
    await setup.post("general", "one")
    await setup.tick(3600)
    assert len(setup.digests()) == 1
    await setup.post("general", "two")
    await setup.post("general", "three")
    await setup.tick(3600)
    await setup.tick(3600)
    assert len(setup.digests()) == 1  # offline: one digest waits, no pile
    member = setup.runtime.directory.by_account("alex@localhost")
    assert member is not None
    setup.follows.seen(member)
    await setup.runtime.queues.idle()
    await setup.tick(3600)
    assert len(setup.digests()) == 2
    assert "2 new messages in General since" in setup.digests()[1]  # the whole time since the waiting one


async def test_a_restart_neither_loses_follows_nor_sends_a_window_twice(setup: Setup) -> None:
    assert "No topic room" in await setup.say("alex", "!follow sleep daily")  # no room or tag has that name
    await setup.say("alex", "!follow military daily")
    await setup.post("mst", "not followed")
    await setup.post("military", "one")
    setup.now[0] += DAY
    await setup.follows.send_due()
    other = setup.make()  # a second service on the same store while the first one's digest is under way
    await other.send_due()
    await setup.runtime.queues.idle()
    assert len(setup.digests()) == 1
    assert "1 new message in Military life" in setup.digests()[0]
    restarted = setup.make()  # after a restart: the follow and the waiting digest are still known
    await restarted.load()
    assert restarted.waiting == {1}
    setup.now[0] += DAY
    await restarted.send_due()
    await setup.runtime.queues.idle()
    assert len(setup.digests()) == 1
    setup.follows = restarted
    assert "You follow: Military life. Digests: once a day" in await setup.say("alex", "!following")


async def test_a_tag_follow_covers_its_rooms_and_unfollow_stops_digests(setup: Setup) -> None:
    answer = await setup.say("alex", "!follow military hourly")
    assert "Military life" in answer
    await setup.say("alex", "!unfollow military")
    assert "You now follow Military life" in await setup.say("alex", "!follow Military")  # the room of that name
    await setup.say("alex", "!unfollow military")
    assert "the rooms tagged military (Military life" in await setup.say("alex", "!follow #military")
    await setup.say("alex", "!unfollow tag military")
    answer = await setup.say("alex", "!follow militaire hourly")  # the tag, by its French name
    assert "the rooms tagged military (Military life, MST community)" in answer
    await setup.post("military", "a")
    await setup.post("mst", "b")
    await setup.post("mst", "c")
    await setup.tick(3600)
    (digest,) = setup.digests()
    assert "1 new message in Military life" in digest and "2 new messages in MST community" in digest
    assert "You no longer follow" in await setup.say("alex", "!unfollow militaire")
    assert "You follow no topic room" in await setup.say("alex", "!following")
    setup.follows.seen(setup.runtime.directory.by_account("alex@localhost"))  # type: ignore[arg-type]
    await setup.post("mst", "d")
    await setup.tick(3600)
    assert len(setup.digests()) == 1


async def test_off_stops_digests_and_on_again_counts_from_then(setup: Setup) -> None:
    await setup.say("alex", "!follow general hourly")
    assert "Digests: off" in await setup.say("alex", "!follow off")
    await setup.post("general", "while off")
    await setup.tick(3 * 3600)
    assert setup.digests() == []
    assert "every hour" in await setup.say("alex", "!follow hourly")
    await setup.post("general", "after")
    await setup.tick(3600)
    (digest,) = setup.digests()
    assert "1 new message in General" in digest


async def test_unknown_names_get_the_rooms_and_tags(setup: Setup) -> None:
    answer = await setup.say("alex", "!follow sleep")
    assert "No topic room or tag of this community is called “sleep”" in answer
    assert "General (general)" in answer and "PTSD / trauma" in answer
    assert "No topic room" in await setup.say("alex", "!follow tsm")  # the French realm's room: not in this realm
    assert "!follow ROOM or TAG" in await setup.say("alex", "!follow")
    assert "You do not follow General" in await setup.say("alex", "!unfollow general")


async def test_follows_are_kept_in_the_store(setup: Setup, tmp_path: Path) -> None:
    await setup.say("alex", "!follow mst")
    store = await Store.open(tmp_path / "s.sqlite3")
    try:
        async with store.db.execute("SELECT target, pace FROM follows JOIN followers USING (member_id)") as cursor:
            assert [tuple(r) for r in await cursor.fetchall()] == [("room:mst", "daily")]
    finally:
        await store.close()
