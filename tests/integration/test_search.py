"""Search on a real Prosody with real clients: "!search WORDS" to wallguide@ finds what the member may read in
their realm, as it was shown (redacted, never held); accents aside in French; paging; FTS syntax is plain words;
the guides' search on the watch domain is audited; XEP-0431's full-text filter in a room's MAM."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator

import pytest

from chatd.store.audit import AuditLog
from tests.integration.conftest import Stack, running_stack
from tests.integration.test_rooms import NS_DISCO_INFO, NS_MAM, iq, join, room_jid, say
from tests.support.client import Client, body_of, message_from, tag
from tests.support.muc import groupchat
from tests.support.muc import join as join_room
from tests.support.seam_policy import SECRET

NS_DATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
FULLTEXT = "{urn:xmpp:fulltext:0}fulltext"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this module's own: its held texts and queue entries stay out of other tests' queue."""
    with running_stack(tmp_path_factory, "search-stack") as running:
        yield running


@pytest.fixture
def connect(stack: Stack, connect_to) -> Callable[[str], Awaitable[Client]]:
    async def open_client(name: str) -> Client:
        return await connect_to(stack, name)

    return open_client


async def search(client: Client, stack: Stack, realm: str, words: str) -> str:
    guide = f"wallguide@{stack.en if realm == 'en' else stack.fr}"
    mark = client.mark()
    client.send_chat(guide, f"!search {words}")
    return body_of(await client.expect(message_from(guide), start=mark)) or ""


async def posted(client: Client, room: str, text: str) -> None:
    say(client, room, text)
    await client.expect(message_from(room, text.split()[-1]))


async def test_a_member_finds_what_they_may_read_in_their_realm_as_it_was_shown(stack: Stack, connect) -> None:
    alice, bob, carol = await connect("alice"), await connect("bob"), await connect("carol")
    denise = await connect("denise")
    general, nest = room_jid(stack, "general"), room_jid(stack, "heron-nest")
    await join(carol, stack, "general", "quiet-lynx")
    mark = carol.mark()
    say(carol, general, f"dusk walks help, write me at {SECRET} about zephyrwalk")
    redacted = body_of(await carol.expect(message_from(general, "zephyrwalk"), start=mark)) or ""
    assert SECRET not in redacted, redacted
    say(carol, general, "zephyrwalk HOLDME tonight")  # held for a guide: never found
    await join(bob, stack, "heron-nest", "brave-heron")  # bob's private group: alice is not a member
    await posted(bob, nest, "a zephyrwalk in the nest")
    fr_general = f"general@{stack.chatd.realms[1].rooms_domain}"
    await join_room(denise, fr_general, "doux-castor")
    await posted(denise, fr_general, "une zephyrwalk à l'armée")

    answer = await search(alice, stack, "en", "zephyrwalk")  # alice never joined general: topic rooms are public
    assert answer.startswith("Found for “zephyrwalk”, results 1 to 1"), answer
    assert "1. in General, " in answer and "quiet-lynx" in answer and redacted in answer, answer
    assert SECRET not in answer and "HOLDME" not in answer and "nest" not in answer and "armée" not in answer
    assert answer.endswith("That is all."), answer

    answer = await search(bob, stack, "en", "ZEPHYRWALK")  # bob's own group too, newest first
    assert "1. in heron-nest" in answer and "2. in General" in answer, answer

    answer = await search(denise, stack, "fr", "zephyrwalk armee")  # the French realm: accents aside
    assert answer.startswith("Trouvé pour « zephyrwalk armee »") and "une zephyrwalk à l'armée" in answer, answer
    assert "dusk" not in answer, answer
    assert "C’est tout." in answer, answer

    chatd_log = stack.chatd.log_file.read_text()  # the words searched and the texts found are never logged
    assert "zephyrwalk" not in chatd_log and "armee" not in chatd_log


async def test_a_chat_is_found_by_its_two_members_only_and_pages_follow(stack: Stack, connect) -> None:
    eve, frank, gina = await connect("eve"), await connect("frank"), await connect("gina")
    to_frank = stack.pseudonym_jid("frank")
    for n in range(7):
        eve.send_chat(to_frank, f"quillnote number {n}")
        await frank.expect(message_from(stack.pseudonym_jid("eve"), f"quillnote number {n}"))
    first = await search(frank, stack, "en", "quillnote")
    assert first.startswith("Found for “quillnote”, results 1 to 5"), first
    assert "1. chat with swift-hare" in first and "quillnote number 6" in first and "quillnote number 2" in first
    assert "quillnote number 1" not in first and first.endswith("Send !search more for the next results.")
    second = await search(frank, stack, "en", "more")
    assert "results 6 to 7" in second and "6. chat with swift-hare" in second and "quillnote number 0" in second
    assert second.endswith("That is all."), second
    assert (await search(frank, stack, "en", "more")).startswith("There is no search to continue")
    assert (await search(gina, stack, "en", "quillnote")).startswith("Nothing found for “quillnote”")


async def test_full_text_syntax_is_read_as_plain_words_and_gets_a_clear_answer(stack: Stack, connect) -> None:
    hank, gilles = await connect("hank"), await connect("gilles")
    answer = await search(hank, stack, "en", '"foo AND (')
    assert answer.startswith('Nothing found for “"foo AND (”'), answer
    answer = await search(hank, stack, "en", '(( * " :')
    assert answer.startswith("Write the words to look for after !search"), answer
    answer = await search(gilles, stack, "fr", "NEAR(")
    assert answer.startswith("Rien trouvé pour « NEAR( »"), answer
    assert (await search(gilles, stack, "fr", "")).startswith("Écrivez les mots à chercher")


async def test_a_guides_search_covers_the_realm_from_the_watch_domain_and_is_audited(stack: Stack, connect) -> None:
    dan, wendy, gina = await connect("dan"), await connect("wendy"), await connect("gina")
    await join(dan, stack, "dan-den", "steady-moose")  # a private group no other member is in
    await posted(dan, room_jid(stack, "dan-den"), "the larkspur garden")
    gina.send_chat(stack.pseudonym_jid("dan"), "larkspur seeds for you")
    await dan.expect(message_from(stack.pseudonym_jid("gina"), "larkspur seeds"))
    queue = "en-queue@watch.localhost"
    await join_room(wendy, queue, "sturdy-owl")
    mark = wendy.mark()
    say(wendy, queue, "!search larkspur")
    answer = body_of(await wendy.expect(groupchat(queue, "larkspur"), start=mark)) or ""
    assert answer.startswith("Search “larkspur” (audited), results 1 to 2"), answer
    assert "chat with gentle-crane ↔ steady-moose" in answer or "chat with steady-moose ↔ gentle-crane" in answer
    assert "in dan-den" in answer and "(id " in answer, answer

    audit = await AuditLog.open(stack.chatd.store_path)
    try:
        entries = [r for r in await audit.records("archive.search") if r.detail.get("words") == "larkspur"]
    finally:
        await audit.close()
    assert len(entries) == 1, entries
    assert entries[0].actor == "sturdy-owl" and entries[0].realm == "en" and entries[0].detail["results"] == 2
    assert "larkspur" not in stack.chatd.log_file.read_text()

    answer, _ = await mam_bodies(wendy, queue, fulltext_query("larkspur"))  # shadow rooms' lines are not indexed
    error = answer.find(tag("error"))
    assert error is not None and error.find(f"{{{NS_STANZAS}}}feature-not-implemented") is not None


def fulltext_query(words: str, field: str = FULLTEXT) -> str:
    form = (
        f"<x xmlns='{NS_DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>{NS_MAM}</value></field>"
        f"<field var='{field}'><value>{words}</value></field></x>"
    )
    return f"<query xmlns='{NS_MAM}' queryid='ft'>{form}</query>"


async def mam_bodies(client: Client, room: str, payload: str) -> tuple[ET.Element, list[str]]:
    mark = client.mark()
    answer = await iq(client, room, payload, "set")
    await asyncio.sleep(0)
    results = [e.find(f"{{{NS_MAM}}}result") for e in client.received[mark:] if e.tag == tag("message")]
    return answer, [(r.find(".//" + tag("body")).text or "") for r in results if r is not None]  # type: ignore[union-attr]


async def test_a_rooms_mam_filters_by_words_with_xep_0431(stack: Stack, connect) -> None:
    carol, eve = await connect("carol"), await connect("eve")
    military = room_jid(stack, "military")
    info = await iq(eve, military, f"<query xmlns='{NS_DISCO_INFO}'/>")
    assert "urn:xmpp:fulltext:0" in [f.get("var") for f in info.iter(f"{{{NS_DISCO_INFO}}}feature")]
    form = await iq(eve, military, f"<query xmlns='{NS_MAM}'/>")
    assert FULLTEXT in [f.get("var") for f in form.iter(f"{{{NS_DATA}}}field")]
    await join(carol, stack, "military", "quiet-lynx")
    for text in ("the brambleford base at night", "nothing to see here", "Brambleford again"):
        await posted(carol, military, text)

    answer, bodies = await mam_bodies(eve, military, fulltext_query("brambleford"))
    assert answer.get("type") == "result" and bodies == ["the brambleford base at night", "Brambleford again"]
    answer, bodies = await mam_bodies(eve, military, fulltext_query("night BRAMBLEFORD", "withtext"))
    assert bodies == ["the brambleford base at night"]
    answer, bodies = await mam_bodies(eve, military, fulltext_query('"( AND'))
    assert answer.get("type") == "result" and bodies == []  # syntax is plain words: nothing says "AND" here
    answer, _ = await mam_bodies(eve, military, fulltext_query("(("))
    error = answer.find(tag("error"))
    assert answer.get("type") == "error" and error is not None and error.get("type") == "modify"
