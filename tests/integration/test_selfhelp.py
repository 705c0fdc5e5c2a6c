"""selfhelp@ on a real Prosody, through real client connections: the example check-in, resumed after a
disconnect and a restart, a flagged answer in the guides' queue, the private journal (an entry with a risk
signal reaches the guides inside its alert, others never reach the watch domain), the export, the French
flow, and a malformed instrument file that stops the start naming its file and line."""

from __future__ import annotations

import asyncio
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatd import i18n
from chatd.stack import REPO, StackError
from tests.integration.conftest import Stack, launch, needs_prosody, running_stack, shut
from tests.support.client import Client, body_of, error_from, error_texts, message_from
from tests.support.muc import groupchat, join, self_presence

QUEUE = "en-queue@watch.localhost"
DAY = 4.0  # a compressed day for goals' check-ins ([selfhelp] day_seconds): the stack's clock runs fast
RISKY = "RISKME CUE-MEANS CUE-TIME CUE-INTENT"  # the test policy's single-text risk alert (severity 3)


@pytest.fixture(scope="module")
def selfhelp_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: open check-ins and journals are the store's state (and one test restarts chatd)."""
    with running_stack(tmp_path_factory, "selfhelp-stack", day_seconds=DAY) as running:
        yield running


def bot(stack: Stack, realm: str = "en") -> str:
    return f"selfhelp@{stack.en if realm == 'en' else stack.fr}"


async def ask(client: Client, to: str, text: str, contains: str, timeout: float = 10.0) -> str:
    """Sends a chat to selfhelp@ and waits for its answer that contains the words."""
    mark = client.mark()
    client.send_chat(to, text)
    return body_of(await client.expect(message_from(to, contains), timeout=timeout, start=mark)) or ""


def rows(stack: Stack, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(stack.chatd.store_path) as db:
        return list(db.execute(sql, args))


async def guide_in_queue(stack: Stack, connect_to) -> tuple[Client, int]:
    """A Wall Guide in the English queue room, and where what arrives after joining begins."""
    wendy = await connect_to(stack, "wendy")
    assert self_presence(await join(wendy, QUEUE, "sturdy-owl"))
    return wendy, wendy.mark()


def member_id(stack: Stack, name: str) -> int:
    return int(rows(stack, "SELECT id FROM members WHERE pseudonym = ?", stack.accounts[name].pseudonym)[0][0])


async def test_the_weekly_check_in_completes_and_is_scored(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    alice = await connect_to(stack, "alice")
    to = bot(stack)
    first = await ask(alice, to, "!start", "Question 1 of 5")
    assert first.startswith("Weekly well-being check-in") and "1. Not at all" in first and "4. Most days" in first
    assert "Question 2 of 5" in await ask(alice, to, "2", "Question 2 of 5")  # by number
    await ask(alice, to, "several days", "Question 3 of 5")  # by word
    again = await ask(alice, to, "maybe", "Question 3 of 5")  # not an answer: asked again
    assert "number from 1 to 4" in again
    await ask(alice, to, "Most", "Question 4 of 5")  # the one label it begins
    await ask(alice, to, "never", "Question 5 of 5")
    result = await ask(alice, to, "not at all", "your score is")
    assert "your score is 6 out of 15 — some strain" in result
    assert "What it does not mean: It is not a clinical test" in result
    assert rows(
        stack, "SELECT score, answers FROM selfhelp_results WHERE member_id = ?", member_id(stack, "alice")
    ) == [(6, "[1, 2, 3, 0, 0]")]
    assert not rows(stack, "SELECT * FROM selfhelp_open WHERE member_id = ?", member_id(stack, "alice"))

    history = await ask(alice, to, "!history", "Weekly well-being check-in")
    assert "your last 1 (oldest first, scale 0–15)" in history and "▄" in history and ": 6" in history


async def test_a_check_in_resumes_after_a_disconnect_and_after_a_restart(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    to = bot(stack)
    bob = await connect_to(stack, "bob")
    await ask(bob, to, "!start", "Question 1 of 5")
    await ask(bob, to, "4", "Question 2 of 5")
    await ask(bob, to, "3", "Question 3 of 5")
    await bob.close()

    bob = await connect_to(stack, "bob")  # later, another session: the answers so far are kept
    resumed = await ask(bob, to, "resume", "Question 3 of 5")
    assert "kept away from people" in resumed
    await ask(bob, to, "back", "Question 2 of 5")  # back changes the last answer
    await ask(bob, to, "1", "Question 3 of 5")
    paused = await ask(bob, to, "stop", "is paused")
    assert "resume" in paused
    await bob.close()

    await asyncio.to_thread(stack.chatd.stop)  # the open check-in is in the store, not in the process
    await asyncio.to_thread(stack.chatd.start)
    bob = await connect_to(stack, "bob")
    still = await ask(bob, to, "2", "Write resume to go on")  # an answer while paused is not taken
    assert still.startswith("Your Weekly well-being check-in is paused")
    assert [body_of(e) for e in bob.received if "your answers so far are kept" in (body_of(e) or "")] == []
    await ask(bob, to, "resume", "Question 3 of 5")
    for answer, following in (("1", "Question 4 of 5"), ("1", "Question 5 of 5")):
        await ask(bob, to, answer, following)
    result = await ask(bob, to, "1", "your score is")
    assert "your score is 3 out of 15" in result  # 3 + 0 + 0 + 0 + 0: the answer given after "back" counts
    assert rows(stack, "SELECT answers FROM selfhelp_results WHERE member_id = ?", member_id(stack, "bob")) == [
        ("[3, 0, 0, 0, 0]",)
    ]


async def test_a_flagged_answer_raises_an_alert_in_the_guides_queue(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    wendy, joined = await guide_in_queue(stack, connect_to)
    carol = await connect_to(stack, "carol")
    to = bot(stack)
    await ask(carol, to, "!start", "Question 1 of 5")
    for answer, following in (("1", "2 of 5"), ("1", "3 of 5"), ("1", "4 of 5"), ("1", "5 of 5")):
        await ask(carol, to, answer, following)
    await wendy.expect_nothing(groupchat(QUEUE, "quiet-lynx"), wait=1.0, start=joined)  # no flag before item 5
    result = await ask(carol, to, "a day or two", "your score is")
    assert "your score is 1 out of 15" in result

    line = body_of(await wendy.expect(groupchat(QUEUE, "risk.checkin · quiet-lynx"), start=joined)) or ""
    assert "[severity 3]" in line and "question 5" in line and "«A day or two»" in line
    assert "better off not being here" in line and "en-guide-" in line  # the member's thread, to reach out
    crisis = body_of(await carol.expect(message_from(f"wallguide@{stack.en}", "988"))) or ""  # severity 3
    assert crisis.startswith(i18n.text("en", "resources.crisis_intro"))


async def test_a_journal_is_private_except_an_entry_that_raises_a_risk_alert(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    wendy, joined = await guide_in_queue(stack, connect_to)
    dan = await connect_to(stack, "dan")
    to = bot(stack)

    told = await ask(dan, to, "!journal Quiet morning, coffee on the porch", "not kept yet")
    assert told.startswith(i18n.text("en", "selfhelp.journal_told"))  # told before the first entry is kept
    kept = await ask(dan, to, "!journal Quiet morning, coffee on the porch", "Kept as entry 1")
    assert "!delete 1" in kept and "Before your first entry" not in kept  # told once
    await ask(dan, to, "!journal Walked the dog by the river\nfelt a bit better", "Kept as entry 2")
    await ask(dan, to, f"!journal {RISKY} and I am scared", "Kept as entry 3")

    alert = body_of(await wendy.expect(groupchat(QUEUE, "risk.means · steady-moose"), start=joined)) or ""
    assert (
        f"Private journal entry (shown to guides only because it raised this alert): «{RISKY} and I am scared»" in alert
    )
    crisis = await dan.expect(message_from(f"wallguide@{stack.en}", "988"))
    assert crisis is not None

    listing = await ask(dan, to, "!entries", "Your journal entries")
    assert "1. " in listing and "— Quiet morning, coffee on the porch" in listing and "— Walked the dog" in listing
    read = await ask(dan, to, "!read 2", "Entry 2")
    assert read.endswith("Walked the dog by the river\nfelt a bit better")
    assert "Entry 1 is deleted" in await ask(dan, to, "!delete 1", "deleted")
    assert "There is no entry 1" in await ask(dan, to, "!read 1", "no entry")
    after = await ask(dan, to, "!entries", "Your journal entries")
    assert "Quiet morning" not in after and "2. " in after

    # the other entries never reached the watch domain: not in what guides received, their rooms' archives, the queue
    unshared = ("Walked the dog", "Quiet morning")
    await wendy.expect_nothing(lambda e: any(t in (body_of(e) or "") for t in unshared), wait=1.0)
    for text in unshared:
        assert not rows(stack, "SELECT 1 FROM messages WHERE body LIKE ? OR original LIKE ?", f"%{text}%", f"%{text}%")
        assert not rows(stack, "SELECT 1 FROM queue WHERE summary LIKE ?", f"%{text}%")
    assert rows(stack, "SELECT 1 FROM queue WHERE summary LIKE ?", "%I am scared%")
    log = stack.chatd.log_file.read_text(encoding="utf-8", errors="replace")
    assert "Walked the dog" not in log and "I am scared" not in log and "Quiet morning" not in log


async def test_export_gives_everything_the_bot_keeps_and_forget_deletes_it(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    eve = await connect_to(stack, "eve")
    to = bot(stack)
    assert await ask(eve, to, "!export", "keeps nothing") == i18n.text("en", "selfhelp.export_none")
    await ask(eve, to, "!journal", "Write !journal followed by your entry")
    await ask(eve, to, "!journal Planted tomatoes", "Kept as entry 1")
    await ask(eve, to, "!start weekly", "Question 1 of 5")
    await ask(eve, to, "3", "Question 2 of 5")
    export = await ask(eve, to, "!export", "Everything this bot keeps about you")
    assert "Check-in in progress: Weekly well-being check-in; answers so far: 1. Several days" in export
    assert (
        "Entry 1 (" in export and "Planted tomatoes" in export and "You were told who may read your journal" in export
    )

    assert "!forget yes" in await ask(eve, to, "!forget", "This deletes everything")
    assert rows(stack, "SELECT COUNT(*) FROM journal_entries WHERE member_id = ?", member_id(stack, "eve"))[0][0] == 1
    await ask(eve, to, "!forget yes", "this bot keeps nothing about you any more")
    for table in ("selfhelp_open", "journal_entries", "journal_told"):
        assert rows(stack, f"SELECT COUNT(*) FROM {table} WHERE member_id = ?", member_id(stack, "eve"))[0][0] == 0
    assert await ask(eve, to, "!export", "keeps nothing") == i18n.text("en", "selfhelp.export_none")


async def test_goal_check_ins_arrive_at_the_members_pace_and_stop_when_asked(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    frank = await connect_to(stack, "frank")
    to = bot(stack)
    assert "!pace 1 DAYS" in await ask(frank, to, "!goal Walk twenty minutes after lunch", "Goal 1 is set")
    assert "no check-ins" in await ask(frank, to, "!goals", "Your goals")
    await frank.expect_nothing(message_from(to, "Checking in"), wait=DAY + 1)  # no pace: never a check-in
    paced_at = frank.mark()
    await ask(frank, to, "!pace 1 1", "every 1 day(s), and not more often")
    first = await frank.expect(message_from(to, "Checking in on your goal 1"), timeout=3 * DAY, start=paced_at)
    assert "«Walk twenty minutes after lunch»" in (body_of(first) or "")
    goal = rows(stack, "SELECT every_days, next_at, created_at FROM selfhelp_goals WHERE member_id = ?",
                member_id(stack, "frank"))[0]  # fmt: skip
    assert goal[0] == 1 and float(goal[1]) > float(goal[2]) + DAY  # the next one a whole day after this one
    assert "is recorded." in await ask(frank, to, "!done 1", "Progress on goal 1")
    after_first = frank.mark()
    second = await frank.expect(message_from(to, "Checking in on your goal 1"), timeout=3 * DAY, start=after_first)
    assert "streak so far: 1" in (body_of(second) or "")
    assert [e for e in frank.received[after_first:] if "Checking in" in (body_of(e) or "")] == [second]
    assert "2 in a row. Well done!" in await ask(frank, to, "!done 1", "Progress on goal 1")
    await ask(frank, to, "!pace 1 0", "No more check-ins on goal 1")
    stopped = frank.mark()
    await frank.expect_nothing(message_from(to, "Checking in"), wait=DAY + 1, start=stopped)
    export = await ask(frank, to, "!export", "Everything this bot keeps about you")
    assert "Goal 1: Walk twenty minutes after lunch; no check-ins; progress on: " in export
    assert "Goal 1 is removed" in await ask(frank, to, "!endgoal 1", "removed")
    assert "no goals yet" in await ask(frank, to, "!goals", "goals")


async def test_a_course_gives_lessons_when_asked_and_its_room_opens(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    gina = await connect_to(stack, "gina")
    to = bot(stack)
    rooms = stack.chatd.realms[0].rooms_domain
    listing = await ask(gina, to, "!courses", "Courses")
    assert "• rest — Rest basics: Three short lessons" in listing and "(3 lessons)" in listing
    enrolled = await ask(gina, to, "!enrol rest", "Lesson 1 of 3: A wind-down hour")
    assert enrolled.startswith("You are enrolled in Rest basics.")
    room = f"general@{rooms}"
    assert f"xmpp:{room}?join" in enrolled and "!next rest gives the next lesson" in enrolled
    assert self_presence(await join(gina, room, "gentle-crane"))  # the course's room: members talk about it there
    await gina.expect_nothing(message_from(to, "Lesson 2"), wait=1.0)  # nothing arrives unasked
    assert "Lesson 2 of 3: Screens and the bedroom" in await ask(gina, to, "!next", "Lesson 2 of 3")
    last = await ask(gina, to, "!next rest", "Lesson 3 of 3")
    assert "That was the last lesson. Its room stays open" in last
    assert "You have had every lesson of Rest basics" in await ask(gina, to, "!next", "every lesson")
    assert "already enrolled" in await ask(gina, to, "!enrol rest", "already")
    export = await ask(gina, to, "!export", "Everything this bot keeps about you")
    assert "Course Rest basics: enrolled on " in export and "3 lesson(s) received" in export


async def test_the_french_flow_for_a_french_member(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    denise = await connect_to(stack, "denise")
    to = bot(stack, "fr")
    first = await ask(denise, to, "!commencer", "Question 1 sur 5")
    assert first.startswith("Bilan bien-être de la semaine") and "1. Pas du tout" in first
    await ask(denise, to, "plusieurs jours", "Question 2 sur 5")
    await ask(denise, to, "retour", "Question 1 sur 5")
    await ask(denise, to, "jamais", "Question 2 sur 5")
    for answer, following in (("1", "3 sur 5"), ("Un jour ou deux", "4 sur 5"), ("2", "5 sur 5")):
        await ask(denise, to, answer, following)
    result = await ask(denise, to, "pas du tout", "votre score est")
    assert "votre score est de 2 sur 15 — une semaine plutôt stable" in result
    assert "Ce que cela ne veut pas dire : Ce n’est ni un test clinique" in result
    help_text = await ask(denise, to, "!aide", "Commandes")
    assert "!journal TEXTE" in help_text


@needs_prosody
def test_a_malformed_instrument_file_stops_the_start_naming_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "instruments"
    folder.mkdir()
    text = (REPO / "conf" / "selfhelp" / "wellbeing-weekly.toml").read_text(encoding="utf-8")
    broken = folder / "weekly.toml"
    broken.write_text(text.replace("score = 2", 'score = "two"'), encoding="utf-8")
    line = next(n for n, row in enumerate(broken.read_text().splitlines(), 1) if 'score = "two"' in row)
    with pytest.raises(StackError, match="chatd exited with code 2"):
        stack = launch(tmp_path / "run", instruments=str(folder))
        shut(stack)  # not reached: the start fails
    log = (tmp_path / "run" / "chatd" / "chatd.log").read_text(encoding="utf-8")
    assert f"chatd: selfhelp: {broken}:{line}: options.2.score: Input should be a valid integer" in log


NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"


async def command_iq(client: Client, to: str, iq_id: str, node: str, inner: str = "", session: str = "") -> ET.Element:
    """Sends a XEP-0050 command iq to selfhelp@ and waits for its answer (a result or an error)."""
    mark = client.mark()
    sessionid = f" sessionid='{session}'" if session else ""
    client.send_raw(
        f"<iq type='set' to='{to}' id='{iq_id}'><command xmlns='{NS_COMMANDS}' node='{node}'{sessionid}"
        f" action='{'execute' if not session else 'complete'}'>{inner}</command></iq>"
    )
    return await client.expect(lambda e: e.get("id") == iq_id, start=mark)


def submit(values: dict[str, str]) -> str:
    fields = "".join(
        f"<field var='{var}'>{''.join(f'<value>{line}</value>' for line in value.splitlines())}</field>"
        for var, value in values.items()
    )
    return f"<x xmlns='{NS_DATA}' type='submit'>{fields}</x>"


def command_of(answer: ET.Element) -> ET.Element:
    command = answer.find(f"{{{NS_COMMANDS}}}command")
    assert answer.get("type") == "result" and command is not None, ET.tostring(answer, encoding="unicode")
    return command


def note_of(command: ET.Element) -> str:
    note = command.find(f"{{{NS_COMMANDS}}}note")
    return (note.text or "") if note is not None else ""


async def commands_listed(client: Client, to: str) -> dict[str, str]:
    mark = client.mark()
    client.send_raw(
        f"<iq type='get' to='{to}' id='list-1'>"
        f"<query xmlns='http://jabber.org/protocol/disco#items' node='{NS_COMMANDS}'/></iq>"
    )
    listing = await client.expect(lambda e: e.get("id") == "list-1", start=mark)
    items = listing.iter("{http://jabber.org/protocol/disco#items}item")
    return {i.get("node") or "": i.get("name") or "" for i in items}


async def guide_and_hank(stack: Stack, connect_to) -> tuple[Client, int, Client]:
    """A Wall Guide in the queue (and where what she receives after joining begins), and hank, who uses forms."""
    wendy, joined = await guide_in_queue(stack, connect_to)
    return wendy, joined, await connect_to(stack, "hank")


async def test_a_check_in_as_an_ad_hoc_form_is_scored_and_flagged_like_the_conversation(
    selfhelp_stack: Stack, connect_to
) -> None:
    stack = selfhelp_stack
    wendy, joined, hank = await guide_and_hank(stack, connect_to)
    to = bot(stack)
    assert await commands_listed(hank, to) == {
        "checkin/weekly": "Weekly well-being check-in",
        "journal": "Journal entry",
    }

    command = command_of(await command_iq(hank, to, "f-1", "checkin/weekly"))
    assert command.get("status") == "executing"
    fields = list(command.iter(f"{{{NS_DATA}}}field"))
    assert [f.get("var") for f in fields] == ["low", "rest", "apart", "too-much", "not-here"]
    assert all(f.get("type") == "list-single" and f.find(f"{{{NS_DATA}}}required") is not None for f in fields)
    assert fields[0].get("label") == "1. In the past week, I felt low or flat for much of the day."
    options = [(o.get("label"), o.findtext(f"{{{NS_DATA}}}value")) for o in fields[0].iter(f"{{{NS_DATA}}}option")]
    assert options == [("Not at all", "1"), ("A day or two", "2"), ("Several days", "3"), ("Most days", "4")]
    session = command.get("sessionid") or ""

    answers = {"low": "4", "rest": "4", "apart": "2", "too-much": "2"}
    missing = command_of(await command_iq(hank, to, "f-2", "checkin/weekly", submit(answers), session))
    assert missing.get("status") == "executing" and "question(s) 5 have no answer yet" in note_of(missing)
    unknown = command_of(
        await command_iq(hank, to, "f-3", "checkin/weekly", submit({**answers, "not-here": "9"}), session)
    )
    assert unknown.get("status") == "executing" and "question(s) 5 is not one of the options" in note_of(unknown)
    wrong = await command_iq(hank, to, "f-4", "checkin/weekly", submit({**answers, "not-here": "3"}), "not-a-session")
    assert error_from(to, "bad-request", kind="iq", stanza_id="f-4")(wrong)
    assert wrong.find(f"{{jabber:client}}error/{{{NS_COMMANDS}}}bad-sessionid") is not None
    assert error_texts(wrong) == {"en": i18n.text("en", "selfhelp.form_session")}
    await wendy.expect_nothing(groupchat(QUEUE, "humble-bison"), wait=0.5, start=joined)  # nothing scored yet
    assert not rows(stack, "SELECT 1 FROM selfhelp_results WHERE member_id = ?", member_id(stack, "hank"))

    done = command_of(
        await command_iq(hank, to, "f-5", "checkin/weekly", submit({**answers, "not-here": "3"}), session)
    )
    result = note_of(done)
    assert done.get("status") == "completed"
    assert "your score is 10 out of 15 — a hard week" in result  # 3 + 3 + 1 + 1 + 2, as the conversation scores
    assert (
        "You do not have to carry it alone" in result and "What it does not mean: It is not a clinical test" in result
    )
    assert "988" in result  # the band's resources
    assert rows(stack, "SELECT score, answers FROM selfhelp_results WHERE member_id = ?", member_id(stack, "hank")) == [
        (10, "[3, 3, 1, 1, 2]")
    ]
    line = body_of(await wendy.expect(groupchat(QUEUE, "risk.checkin · humble-bison"), start=joined)) or ""
    assert "[severity 3]" in line and "question 5" in line and "«Several days»" in line
    again = await command_iq(hank, to, "f-6", "checkin/weekly", submit({**answers, "not-here": "1"}), session)
    assert error_from(to, "bad-request", kind="iq", stanza_id="f-6")(again)  # a completed form is closed


async def test_a_journal_entry_as_an_ad_hoc_form_keeps_the_privacy_notice_rule(
    selfhelp_stack: Stack, connect_to
) -> None:
    stack = selfhelp_stack
    wendy, joined, hank = await guide_and_hank(stack, connect_to)
    to = bot(stack)
    command = command_of(await command_iq(hank, to, "j-1", "journal"))
    (entry,) = list(command.iter(f"{{{NS_DATA}}}field"))
    assert (entry.get("var"), entry.get("type"), entry.get("label")) == ("entry", "text-multi", "Your entry")
    session = command.get("sessionid") or ""
    empty = command_of(await command_iq(hank, to, "j-2", "journal", submit({}), session))
    assert empty.get("status") == "executing" and "The entry is empty" in note_of(empty)
    told = note_of(command_of(await command_iq(hank, to, "j-3", "journal", submit({"entry": "Baked bread"}), session)))
    assert told.startswith(i18n.text("en", "selfhelp.journal_told")) and "send the journal form again" in told
    assert not rows(stack, "SELECT 1 FROM journal_entries WHERE member_id = ?", member_id(stack, "hank"))

    session = command_of(await command_iq(hank, to, "j-4", "journal")).get("sessionid") or ""
    written = "Baked bread\nthe kitchen smelled good"
    kept = note_of(command_of(await command_iq(hank, to, "j-5", "journal", submit({"entry": written}), session)))
    assert kept.startswith("Kept as entry 1") and "Before your first entry" not in kept
    assert (await ask(hank, to, "!read 1", "Entry 1")).endswith(written)  # kept as written, lines and all
    assert rows(stack, "SELECT text FROM journal_entries WHERE member_id = ?", member_id(stack, "hank")) == [(written,)]
    session = command_of(await command_iq(hank, to, "j-6", "journal")).get("sessionid") or ""
    risky = note_of(
        command_of(await command_iq(hank, to, "j-7", "journal", submit({"entry": f"{RISKY} and I am scared"}), session))
    )
    assert risky.startswith("Kept as entry 2")
    alert = body_of(await wendy.expect(groupchat(QUEUE, "risk.means · humble-bison"), start=joined)) or ""
    assert f"«{RISKY} and I am scared»" in alert and "Baked bread" not in alert


async def test_a_french_member_gets_the_forms_in_french(selfhelp_stack: Stack, connect_to) -> None:
    stack = selfhelp_stack
    gilles = await connect_to(stack, "gilles")
    to = bot(stack, "fr")
    assert await commands_listed(gilles, to) == {
        "checkin/weekly": "Bilan bien-être de la semaine",
        "journal": "Entrée de journal",
    }
    command = command_of(await command_iq(gilles, to, "fr-1", "checkin/weekly"))
    fields = list(command.iter(f"{{{NS_DATA}}}field"))
    assert fields[1].get("label") == "2. Cette semaine, j’ai eu du mal à décrocher et à me reposer."
    labels = [o.get("label") for o in fields[1].iter(f"{{{NS_DATA}}}option")]
    assert labels == ["Pas du tout", "Un jour ou deux", "Plusieurs jours", "La plupart des jours"]
    session = command.get("sessionid") or ""
    partial = {"low": "1", "rest": "2", "apart": "1"}
    missing = command_of(await command_iq(gilles, to, "fr-2", "checkin/weekly", submit(partial), session))
    assert "la ou les questions 4, 5 n’ont pas encore de réponse" in note_of(missing)
    answers = {**partial, "too-much": "1", "not-here": "1"}
    done = command_of(await command_iq(gilles, to, "fr-3", "checkin/weekly", submit(answers), session))
    assert "votre score est de 1 sur 15 — une semaine plutôt stable" in note_of(done)
    unknown = await command_iq(gilles, to, "fr-4", "checkin/nope")
    assert error_from(to, "item-not-found", kind="iq", stanza_id="fr-4")(unknown)
    assert error_texts(unknown) == {"fr": "selfhelp n’a pas de commande « checkin/nope »."}
    session = command_of(await command_iq(gilles, to, "fr-5", "journal")).get("sessionid") or ""
    mark = gilles.mark()
    gilles.send_raw(
        f"<iq type='set' to='{to}' id='fr-6'><command xmlns='{NS_COMMANDS}' node='journal' sessionid='{session}'"
        " action='cancel'/></iq>"
    )
    canceled = command_of(await gilles.expect(lambda e: e.get("id") == "fr-6", start=mark))
    assert canceled.get("status") == "canceled" and note_of(canceled) == "Annulé : rien n’a été gardé."
