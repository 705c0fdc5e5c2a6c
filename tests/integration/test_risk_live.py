"""Conversation-level risk with the real policies (conf/policies.toml) through a real Prosody.

The authors here (frank, gilles) raise no risk alert in other tests: a member's window holds their
texts for 30 minutes, so an earlier alert of theirs would (rightly) keep a window alert quiet. Their
other texts may share the window, so the counts of texts scored together are not pinned.
"""

from __future__ import annotations

import asyncio
import json
import re

from tests.integration.conftest import Stack
from tests.integration.test_metrics import scrape
from tests.integration.test_risk_window import alert_entries, announced, answer_with_form, feedback_delta, settled
from tests.support.client import Client, body_of, message_from
from tests.support.muc import groupchat, join, say

# no text alone raises an alert; together: hopelessness, a firearm, tonight
SEQUENCE_EN = ("my pistol is in the nightstand", "tonight", "nothing is ever going to get better")
# a medium alert from the pistol (read with "tonight", or alone by the model), then a high one from all three
SEQUENCE_FR = ("j'ai le pistolet de mon père", "ce soir", "rien va jamais s'arranger")
JOKES_EN = (
    "this heat is killing me lol",
    "I'd die for a coffee right now",
    "my boss is gonna kill me if I'm late tonight",
)


async def send_in_order(author: Client, recipient: Client, author_jid: str, recipient_jid: str, texts: tuple[str, ...]):
    """One text after the other, each delivered (so reviewed) before the next."""
    for text in texts:
        author.send_chat(recipient_jid, text)
        await recipient.expect(message_from(author_jid, text))


async def test_three_short_texts_raise_one_alert_naming_its_constructs(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    frank, eve, wendy = await connect_policy("frank"), await connect_policy("eve"), await connect_policy("wendy")
    queue = "en-queue@watch.localhost"
    await join(wendy, queue, "sturdy-owl")
    joined = wendy.mark()  # entries announced from now on, not the room's history
    before_alerts = len(alert_entries(stack, "en", "kind-robin"))
    await send_in_order(frank, eve, stack.pseudonym_jid("frank"), stack.pseudonym_jid("eve"), SEQUENCE_EN)
    medium = body_of(await wendy.expect(announced(queue, "· kind-robin"), start=joined)) or ""
    assert "[severity 2]" in medium and "means: firearm" in medium
    line = body_of(await wendy.expect(announced(queue, "· kind-robin", "[severity 3]"), start=joined)) or ""
    assert re.search(r"\d+ recent texts together", line)
    assert "hopelessness" in line and "means: firearm" in line and "time: tonight" in line
    assert "xmpp:en-dm-" in line  # the conversation's shadow room, one click away
    crisis = await frank.expect(message_from(f"wallguide@{stack.en}", "988"))  # severity 3
    assert "911" in (body_of(crisis) or "")
    entries = (await settled(stack, "en", "kind-robin", before_alerts + 2))[before_alerts:]
    assert [entry[1] for entry in entries] == [2, 3]
    assert {"hopelessness", "means:firearm", "time:tonight"} <= set(entries[-1][3].split())

    entry = int(re.match(r"#(\d+)", line).group(1))  # type: ignore[union-attr]
    before = await asyncio.to_thread(scrape, stack)
    say(wendy, queue, f"!helpful {entry}")
    await wendy.expect(groupchat(queue, f"#{entry}: counted as helpful"))
    after = await asyncio.to_thread(scrape, stack)
    for construct in ("hopelessness", "means", "time"):
        assert feedback_delta(before, after, "en", construct, "helpful") == 1
    listing = stack.chatd.cli("audit", "list").stdout
    assert f"sturdy-owl\talert.helpful\ten\t#{entry}" in listing


async def test_a_french_window_alert_sends_french_crisis_resources(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    gilles, denise, gaston = (
        await connect_policy("gilles"),
        await connect_policy("denise"),
        await connect_policy("gaston"),
    )
    queue = "fr-queue@watch.localhost"
    await join(gaston, queue, "sage-hibou")
    joined, mark = gaston.mark(), gilles.mark()
    await send_in_order(gilles, denise, stack.pseudonym_jid("gilles"), stack.pseudonym_jid("denise"), SEQUENCE_FR)
    crisis = await gilles.expect(message_from(f"wallguide@{stack.fr}", "988"), start=mark)
    assert "composez le 911" in (body_of(crisis) or "")
    medium = body_of(await gaston.expect(announced(queue, "calme-loutre"), start=joined)) or ""
    assert "[gravité 2]" in medium and "messages récents ensemble" in medium
    line = body_of(await gaston.expect(announced(queue, "calme-loutre", "[gravité 3]"), start=joined)) or ""
    assert "messages récents ensemble" in line
    assert "moyens : arme à feu" in line and "moment : ce soir" in line
    assert "!nothelpful" in line

    entry = int(re.match(r"#(\d+)", line).group(1))  # type: ignore[union-attr]
    before = await asyncio.to_thread(scrape, stack)
    done = await answer_with_form(gaston, "watch.localhost", "nothelpful", entry, "déjà suivi")
    assert "comptée comme pas utile" in (done.findtext("{http://jabber.org/protocol/commands}note") or "")
    after = await asyncio.to_thread(scrape, stack)
    assert feedback_delta(before, after, "fr", "means", "not_helpful") == 1
    listing = stack.chatd.cli("audit", "list").stdout.splitlines()
    [record] = [line for line in listing if f"sage-hibou\talert.not_helpful\tfr\t#{entry}\t" in line]
    assert {"hopelessness", "means", "time"} <= set(json.loads(record.split("\t")[-1])["constructs"])
    assert stack.chatd.cli("audit", "verify").returncode == 0


async def test_look_alike_jokes_over_three_texts_raise_nothing(policy_stack: Stack, connect_policy) -> None:
    stack = policy_stack
    alice, bob = await connect_policy("alice"), await connect_policy("bob")
    before_alerts = len(alert_entries(stack, "en", "calm-otter"))
    mark = alice.mark()
    await send_in_order(alice, bob, stack.pseudonym_jid("alice"), stack.pseudonym_jid("bob"), JOKES_EN)
    await alice.expect_nothing(message_from(f"wallguide@{stack.en}", "988"), wait=1.0, start=mark)
    assert len(alert_entries(stack, "en", "calm-otter")) == before_alerts
