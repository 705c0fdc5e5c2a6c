"""Profanity itself (not a replay of its stanzas) finds rooms and makes a private group through chatd.

The real client runs in a detached tmux session with its own HOME and XDG folders, logged in to the test
Prosody; a slixmpp client on another member's account is the other side. What Profanity shows is read
from its screen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import Stack, running_stack
from tests.integration.test_client_rooms import features
from tests.integration.test_rooms import NS_DISCO_INFO, NS_MUC_USER, iq, reveals_account, room_jid
from tests.support.muc import groupchat, join
from tests.support.profanity import MISSING, Deadline, Profanity, expect_within

pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"not installed: {', '.join(MISSING)}")

BUDGET_SECONDS = 50.0  # every wait of a test shares it


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """This module's own stack: Profanity's sessions and rooms stay out of other tests' rooms."""
    with running_stack(tmp_path_factory, "profanity") as running:
        yield running


@pytest.fixture
def deadline() -> Deadline:
    return Deadline(BUDGET_SECONDS)


@pytest.fixture
def profanity(stack: Stack, tmp_path: Path, deadline: Deadline) -> Iterator[Profanity]:
    """Profanity logged in as alice (calm-otter); its tmux server is always stopped."""
    alice = stack.accounts["alice"]
    client = Profanity(tmp_path / "profanity", alice.jid, alice.password, stack.prosody.c2s_port, deadline)
    try:
        client.start()
        yield client
    finally:
        client.stop()


async def test_profanity_finds_the_realms_rooms_and_talks_in_one(stack: Stack, connect, profanity, deadline) -> None:
    await profanity.shows("logged in successfully")
    rooms_domain = stack.chatd.realms[0].rooms_domain
    # no service named: the one Profanity found in the server's disco#items after logging in
    await profanity.until_shows("/rooms", f"Rooms list response received: {rooms_domain}")
    for room in stack.chatd.realms[0].rooms:
        await profanity.shows(f"{room_jid(stack, str(room['id']))} ({room['name']})")
    screen = profanity.screen()
    assert stack.chatd.realms[1].rooms_domain not in screen  # the other realm's rooms are not offered

    bob = await connect("bob")
    general = room_jid(stack, "general")
    await join(bob, general, "brave-heron")
    profanity.type("/join general")  # the room's local name: Profanity adds the service it found
    await profanity.shows("You have joined the room as calm-otter")  # its own nickname rewritten to the pseudonym
    profanity.type("first time in here, hello from the terminal")
    got = await expect_within(bob, deadline, groupchat(f"{general}/calm-otter", "hello from the terminal"))
    assert got.find("{urn:xmpp:sid:0}stanza-id") is not None
    bob.send_raw(f"<message to='{general}' type='groupchat'><body>welcome, calm-otter</body></message>")
    await profanity.shows("brave-heron: welcome, calm-otter")
    assert reveals_account(stack, bob) == []


async def test_profanity_makes_a_private_group_and_invites(stack: Stack, connect, profanity, deadline) -> None:
    await profanity.shows("logged in successfully")
    bob = await connect("bob")
    group = room_jid(stack, "terminal-walkers")
    profanity.type(f"/join {group}")
    await profanity.shows("Use '/room accept' to accept the defaults")  # a new room: Profanity asks
    profanity.type("/room accept")
    await profanity.shows("Room unlocked.")

    mark = bob.mark()
    profanity.type(f"/invite send {stack.pseudonym_jid('bob')} come walk with us")
    invited = await expect_within(
        bob, deadline, lambda e: e.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite") is not None, start=mark
    )
    assert invited.get("from") == group
    invite = invited.find(f"{{{NS_MUC_USER}}}x/{{{NS_MUC_USER}}}invite")
    assert invite is not None and invite.get("from") == stack.pseudonym_jid("alice")
    assert invite.findtext(f"{{{NS_MUC_USER}}}reason") == "come walk with us"

    joined = await join(bob, group, "brave-heron")
    assert joined.get("type") != "error"  # members-only, and bob is a member now
    info = await iq(bob, group, f"<query xmlns='{NS_DISCO_INFO}'/>")  # what makes clients show a private group
    assert {"muc_membersonly", "muc_nonanonymous"} <= features(info)
    profanity.type("we meet at six")
    await expect_within(bob, deadline, groupchat(f"{group}/calm-otter", "we meet at six"))
    bob.send_raw(f"<message to='{group}' type='groupchat'><body>see you there</body></message>")
    await profanity.shows("brave-heron: see you there")
    seen = "".join(ET.tostring(e, encoding="unicode") for e in bob.received[mark:])
    assert stack.accounts["alice"].jid not in seen  # the group shows the pseudonym's address, never the account
