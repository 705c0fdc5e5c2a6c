import pytest

from chatd.core.guides import (
    CommandProblem,
    QueueEntry,
    Verb,
    due_for_reannouncement,
    is_guide_of,
    parse_duration,
    parse_guide_command,
    ranked,
)
from chatd.core.model import Member, Role, Status
from chatd.store import Store
from chatd.store.guides import GuideStore


def test_commands_parse_with_their_arguments() -> None:
    mute = parse_guide_command("!mute Calm-Otter 2h spamming links")
    assert mute and mute.verb is Verb.MUTE and mute.arguments == {"member": "calm-otter", "duration": "2h"}
    assert mute.text == "spamming links"
    edit = parse_guide_command("!edit 17ab-Cd new text -- it named a base")
    assert (
        edit
        and edit.arguments == {"message": "17ab-Cd"}
        and (edit.text, edit.reason) == ("new text", "it named a base")
    )
    approve = parse_guide_command("!approve 17ab")
    assert approve and approve.text == "" and approve.reason == ""
    assert parse_guide_command("just chatting") is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("!dance", "unknown command"),
        ("!remove 12", "usage: !remove <message> <reason>"),
        ("!edit 12 only text", "usage: !edit"),
        ("!mute calm-otter forever rude", "duration"),
        ("!unmute calm-otter and more", "usage: !unmute <member>"),
        ("!claim", "usage: !claim <entry>"),
        ("!post", "usage: !post <text>"),
    ],
)
def test_bad_commands_say_how_to_type_them(line: str, problem: str) -> None:
    with pytest.raises(CommandProblem, match=problem):
        parse_guide_command(line)


def test_durations() -> None:
    assert parse_duration("30m") == 1800 and parse_duration("2H") == 7200 and parse_duration("3d") == 259200
    assert parse_duration("10s") == 10
    for bad in ("0m", "4s", "31d", "2w", "h", ""):
        with pytest.raises(CommandProblem):
            parse_duration(bad)


def test_only_guides_of_the_realm_may_act() -> None:
    def member(role: Role, realm: str = "en", status: Status = Status.ACTIVE) -> Member:
        return Member(1, "a@h", realm, "amber-guide", role, status, 0.0)

    assert is_guide_of(member(Role.WALL_GUIDE), "en") and is_guide_of(member(Role.SENIOR_CLINICIAN), "en")
    assert not is_guide_of(member(Role.WALL_GUIDE), "fr")
    assert not is_guide_of(member(Role.MEMBER), "en") and not is_guide_of(member(Role.BOT), "en")
    assert not is_guide_of(member(Role.WALL_GUIDE, status=Status.SUSPENDED), "en")


def test_queue_ranking_and_reannouncement() -> None:
    def entry(id: int, severity: int, created: float, status: str = "open", announced: float = 0.0) -> QueueEntry:
        return QueueEntry(id, "en", "alert", severity, "dm:1:2", "risk", created, status, "", announced)

    entries = [entry(1, 1, 10), entry(2, 3, 20), entry(3, 3, 5), entry(4, 3, 1, "claimed"), entry(5, 2, 1, "resolved")]
    assert [e.id for e in ranked(entries)] == [3, 2, 1, 4, 5]
    due = due_for_reannouncement(entries, now=400, after=300)
    assert [e.id for e in due] == [3, 2]
    assert due_for_reannouncement([entry(6, 3, 0, announced=200)], now=400, after=300) == []


async def test_guide_store(store_url: str) -> None:
    store = await Store.open(store_url)
    member = await store.add_member("a@h", "en", "calm-otter", Role.MEMBER)
    guides = GuideStore(store.db)
    first = await guides.add_entry("en", "alert", 3, "dm:1:2", "risk.active_ideation from calm-otter")
    await guides.add_entry("fr", "held", 2, "dm:3:4", "held")
    assert [e.id for e in await guides.entries("en")] == [first.id]
    await guides.set_status("en", first.id, "claimed", "amber-guide")
    claimed = await guides.entry("en", first.id)
    assert claimed and (claimed.status, claimed.claimed_by) == ("claimed", "amber-guide")
    await guides.set_status("en", first.id, "resolved")
    assert await guides.entries("en") == [] and len(await guides.entries("en", include_resolved=True)) == 1
    await guides.mute(member.id, 100.0, "spam", "amber-guide")
    assert await guides.mutes() == {member.id: 100.0}
    assert await guides.unmute(member.id) and not await guides.unmute(member.id)
    assert await guides.watch(member.id, "risk", "amber-guide", True) and await guides.watched() == {member.id}
    await guides.add_note(member.id, "amber-guide", "prefers evening check-ins")
    assert (await guides.notes(member.id))[0][1:] == ("amber-guide", "prefers evening check-ins")
    other = await store.add_member("b@h", "en", "quiet-heron", Role.MEMBER)
    await guides.crisis_sent(member.id, 1000.0, 3)
    await guides.crisis_sent(member.id, 2000.0, 4)  # the latest replaces the earlier one
    await guides.crisis_sent(other.id, 500.0, 3)
    assert await guides.crisis_followups(since=900.0) == [(member.id, 2000.0, 4)]
    assert sorted(await guides.crisis_followups(since=0.0)) == sorted([(member.id, 2000.0, 4), (other.id, 500.0, 3)])
    await store.close()
