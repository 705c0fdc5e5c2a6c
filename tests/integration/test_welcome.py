"""The Wall Guides' welcome on a real Prosody: once per member at the first login, in the realm's language,
with the checked crisis resources; the guides see the new member in their queue."""

from __future__ import annotations

import asyncio
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from chatd import i18n
from chatd.core.resources import ResourceLibrary
from chatd.stack import REPO
from tests.integration.conftest import Stack, running_stack
from tests.support.client import Client, ask, body_of, message_from
from tests.support.muc import groupchat, join, say, self_presence

NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


@pytest.fixture(scope="module")
def welcome_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own: who was welcomed is the store's state, not shared with other tests."""
    with running_stack(tmp_path_factory, "welcome-stack") as running:
        yield running


async def log_in(stack: Stack, connect_to, name: str) -> Client:
    """A client's login as Conversations, Gajim or Dino do it: connected, then the server's services asked."""
    client = await connect_to(stack, name)
    host = stack.accounts[name].jid.split("@")[1]
    answer = await ask(client, host, f"<query xmlns='{NS_DISCO_ITEMS}'/>")
    assert answer.get("type") == "result"
    return client


def expected_welcome(stack: Stack, name: str, language: str, realm: int) -> str:
    with open(REPO / "conf" / "resources.toml", "rb") as handle:
        library = ResourceLibrary.from_settings(tomllib.load(handle))
    people = stack.chatd.realms[realm].people_domain
    return i18n.text(
        language,
        "welcome.message",
        name=stack.accounts[name].pseudonym,
        rules="\n".join(f"• {rule}" for rule in i18n.house_rules(language)),
        rooms=stack.chatd.realms[realm].rooms_domain,
        guide=f"wallguide@{people}",
        crisis="\n".join(library.for_topic("crisis", language)),
        encryption=i18n.text(language, "help.encryption"),
    )


async def test_first_login_gets_the_french_welcome_once(welcome_stack: Stack, connect_to) -> None:
    stack = welcome_stack
    gaston = await connect_to(stack, "gaston")
    assert self_presence(await join(gaston, "fr-queue@watch.localhost", "sage-hibou"))

    denise = await log_in(stack, connect_to, "denise")
    welcome = await denise.expect(message_from(f"wallguide@{stack.fr}"))
    text = body_of(welcome) or ""
    assert text == expected_welcome(stack, "denise", "fr", 1)
    assert text.startswith("Bienvenue") and i18n.text("fr", "help.encryption") in text
    assert "911" in text  # a checked crisis line from the resource library
    kind = i18n.text("fr", "watch.entry_kind.welcome")
    await gaston.expect(groupchat("fr-queue@watch.localhost", kind))

    await denise.close()
    again = await log_in(stack, connect_to, "denise")  # a second login (or a second device)
    await again.expect_nothing(message_from(f"wallguide@{stack.fr}"), wait=2.0)
    await again.close()

    await asyncio.to_thread(stack.chatd.stop)  # remembered in the store, not in the process
    await asyncio.to_thread(stack.chatd.start)
    after_restart = await log_in(stack, connect_to, "denise")
    await after_restart.expect_nothing(message_from(f"wallguide@{stack.fr}"), wait=2.0)


async def test_guides_and_other_realms_get_no_welcome(welcome_stack: Stack, connect_to) -> None:
    stack = welcome_stack
    gaston = await log_in(stack, connect_to, "gaston")  # a Wall Guide is not welcomed as a new member
    await gaston.expect_nothing(message_from(f"wallguide@{stack.fr}"), wait=1.0)
    gina = await log_in(stack, connect_to, "gina")
    welcome = await gina.expect(message_from(f"wallguide@{stack.en}"))
    assert body_of(welcome) == expected_welcome(stack, "gina", "en", 0)


def room_welcome(room: str, name: str):
    """The catalog's room welcome (any room name) for this member, in the room."""
    pattern = ".+".join(re.escape(part) for part in i18n.text("en", "welcome.room").split("{room}"))
    pattern = pattern.replace(re.escape("{name}"), re.escape(name)).replace(re.escape("{guide}"), ".+")
    in_room = groupchat(room, name)

    def match(element: ET.Element) -> bool:
        return in_room(element) and re.fullmatch(pattern, body_of(element) or "") is not None

    return match


async def test_first_post_in_a_topic_room_gets_a_welcome_there_once(welcome_stack: Stack, connect_to) -> None:
    stack = welcome_stack
    room = f"general@{stack.chatd.realms[0].rooms_domain}"
    hank, carol = await connect_to(stack, "hank"), await connect_to(stack, "carol")
    assert self_presence(await join(carol, room, "quiet-lynx"))
    assert self_presence(await join(hank, room, "humble-bison"))
    say(hank, room, "hello everyone")
    await carol.expect(groupchat(room, "hello everyone"))
    welcome = await hank.expect(room_welcome(room, "humble-bison"))
    assert (welcome.get("from") or "").endswith("/Wall Guide")  # the guides' name (the default)
    await carol.expect(room_welcome(room, "humble-bison"))  # every occupant sees it

    mark = hank.mark()
    say(hank, room, "me again")
    await carol.expect(groupchat(room, "me again"))
    await hank.expect_nothing(room_welcome(room, "humble-bison"), wait=2.0, start=mark)
