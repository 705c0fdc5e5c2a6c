"""Conversation-level risk and the guides' feedback, wired through a real Prosody (keyword test policy).

The test policy (tests/support/seam_policy.py) raises a window alert when one member's recent texts
hold all three cues; the real policies are in test_risk_live.py.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import xml.etree.ElementTree as ET

from tests.integration.conftest import Stack
from tests.integration.test_metrics import scrape
from tests.support.client import Client, body_of, message_from
from tests.support.muc import groupchat, join, say

NS_COMMANDS = "http://jabber.org/protocol/commands"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def alert_entries(stack: Stack, realm: str, pseudonym: str) -> list[tuple[int, int, str, str]]:
    """The queue's alerts about one member: (entry, severity, summary, signals)."""
    with sqlite3.connect(stack.chatd.store_path) as db:
        rows = db.execute(
            "SELECT id, severity, summary, signals FROM queue WHERE realm = ? AND kind = 'alert' AND summary LIKE ?"
            " ORDER BY id",
            (realm, f"% · {pseudonym}%"),
        ).fetchall()
    return [(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]


async def settled(stack: Stack, realm: str, pseudonym: str, count: int) -> list[tuple[int, int, str, str]]:
    """The member's alerts once the desk has filed `count` of them (and a moment more for any extra one)."""
    for _ in range(50):
        entries = alert_entries(stack, realm, pseudonym)
        if len(entries) >= count:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    return alert_entries(stack, realm, pseudonym)


def announced(queue: str, *parts: str):
    """A new queue entry's first announcement (not a reminder) holding every part."""
    return lambda e: (
        groupchat(queue, "")(e) and (body_of(e) or "").startswith("#") and all(p in (body_of(e) or "") for p in parts)
    )


def feedback_delta(before: Samples, after: Samples, realm: str, construct: str, answer: str) -> float:
    key = ("chatd_alert_feedback_total", (("answer", answer), ("construct", construct), ("realm", realm)))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def answer_with_form(guide: Client, watch: str, node: str, entry: int, note: str) -> ET.Element:
    """A guide's answer through the XEP-0050 form: execute, then submit; returns the completed command."""
    mark = guide.mark()
    guide.send_raw(f"<iq type='set' to='{watch}' id='fb-1'><command xmlns='{NS_COMMANDS}' node='{node}'/></iq>")
    form = await guide.expect(lambda e: e.get("id") == "fb-1", start=mark)
    command = form.find(f"{{{NS_COMMANDS}}}command")
    assert command is not None and {f.get("var") for f in command.iter("{jabber:x:data}field")} == {"entry", "text"}
    guide.send_raw(
        f"<iq type='set' to='{watch}' id='fb-2'>"
        f"<command xmlns='{NS_COMMANDS}' node='{node}' sessionid='{command.get('sessionid')}'>"
        f"<x xmlns='jabber:x:data' type='submit'><field var='entry'><value>{entry}</value></field>"
        f"<field var='text'><value>{note}</value></field></x></command></iq>"
    )
    done = await guide.expect(lambda e: e.get("id") == "fb-2", start=mark)
    completed = done.find(f"{{{NS_COMMANDS}}}command")
    assert completed is not None and completed.get("status") == "completed"
    return completed


async def test_cues_over_three_conversations_raise_one_alert_and_a_guide_answers(stack: Stack, connect) -> None:
    gina, dan, wendy = await connect("gina"), await connect("dan"), await connect("wendy")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    await join(gina, "general@rooms.en.localhost", "gentle-crane")
    before_alerts = len(alert_entries(stack, "en", "gentle-crane"))
    gina.send_chat(stack.pseudonym_jid("dan"), "it is CUE-MEANS here")
    await dan.expect(message_from(stack.pseudonym_jid("gina"), "CUE-MEANS"))
    say(gina, "general@rooms.en.localhost", "and CUE-TIME")
    await gina.expect(groupchat("general@rooms.en.localhost", "and CUE-TIME"))  # reviewed before the next one
    gina.send_chat(f"wallguide@{stack.en}", "CUE-INTENT")
    line = await wendy.expect(announced(queue, "risk.means · gentle-crane"))
    body = body_of(line) or ""
    assert "means: firearm; time: tonight; intent" in body and re.search(r"\d+ recent texts together", body)
    assert "xmpp:en-guide-" in body  # the newest text's shadow room, one click away
    crisis = await gina.expect(message_from(f"wallguide@{stack.en}", "988"))
    assert "911" in (body_of(crisis) or "")
    gina.send_chat(stack.pseudonym_jid("dan"), "thanks for listening")  # the same cues are still in the window
    entries = (await settled(stack, "en", "gentle-crane", before_alerts + 1))[before_alerts:]
    assert [(severity, signals) for _, severity, _, signals in entries] == [(3, "means:firearm time:tonight intent")]

    entry = int(re.match(r"#(\d+)", body).group(1))  # type: ignore[union-attr]
    assert f"!helpful {entry}" in body
    before = await asyncio.to_thread(scrape, stack)
    say(wendy, queue, f"!helpful {entry}")
    await wendy.expect(groupchat(queue, f"#{entry}: counted as helpful"))
    say(wendy, queue, f"!nothelpful {entry}")
    await wendy.expect(groupchat(queue, f"You have answered #{entry} already"))
    after = await asyncio.to_thread(scrape, stack)
    for construct in ("means", "time", "intent"):
        assert feedback_delta(before, after, "en", construct, "helpful") == 1
        assert feedback_delta(before, after, "en", construct, "not_helpful") == 0
    listing = stack.chatd.cli("audit", "list").stdout
    assert (
        f"sturdy-owl\talert.helpful\ten\t#{entry}" in listing and '"constructs": ["means", "time", "intent"]' in listing
    )
    assert stack.chatd.cli("audit", "verify").returncode == 0


async def test_no_window_alert_after_a_single_text_alert_and_feedback_by_form(stack: Stack, connect) -> None:
    hank, wendy = await connect("hank"), await connect("wendy")
    before_alerts = len(alert_entries(stack, "en", "humble-bison"))
    hank.send_chat(f"wallguide@{stack.en}", "RISKME CUE-MEANS CUE-TIME CUE-INTENT")
    await hank.expect(message_from(f"wallguide@{stack.en}", "988"))
    hank.send_chat(f"wallguide@{stack.en}", "still here")
    entries = (await settled(stack, "en", "humble-bison", before_alerts + 1))[before_alerts:]
    assert len(entries) == 1 and "recent texts" not in entries[0][2]
    before = await asyncio.to_thread(scrape, stack)
    done = await answer_with_form(wendy, "watch.localhost", "nothelpful", entries[0][0], "test phrase")
    assert "counted as not helpful" in (done.findtext(f"{{{NS_COMMANDS}}}note") or "")
    after = await asyncio.to_thread(scrape, stack)
    assert feedback_delta(before, after, "en", "means", "not_helpful") == 1

    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    say(wendy, queue, "!helpful 999999")
    await wendy.expect(groupchat(queue, "No queue entry #999999"))
    with sqlite3.connect(stack.chatd.store_path) as db:
        other = db.execute("SELECT id FROM queue WHERE realm = 'en' AND kind <> 'alert' LIMIT 1").fetchone()[0]
    say(wendy, queue, f"!helpful {other}")
    await wendy.expect(groupchat(queue, f"#{other} is not an alert"))


async def test_member_help_says_guides_are_alerted_in_both_languages(stack: Stack, connect) -> None:
    frank, denise = await connect("frank"), await connect("denise")
    frank.send_chat(f"wallguide@{stack.en}", "!help")
    await frank.expect(message_from(f"wallguide@{stack.en}", "even several short ones together"))
    denise.send_chat(f"wallguide@{stack.fr}", "!help")
    await denise.expect(message_from(f"wallguide@{stack.fr}", "même plusieurs courts messages ensemble"))
