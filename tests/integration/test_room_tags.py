"""The topic-room directory by tag or by words, from any client: "!rooms WORDS" to wallguide@ and a
XEP-0030 disco node per tag on the rooms domain; only the member's realm, never private groups."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, running_stack
from tests.integration.test_client_rooms import item_jids
from tests.integration.test_rooms import NS_DISCO_INFO, NS_DISCO_ITEMS, iq, join, room_jid, rooms
from tests.support.client import Client, body_of, message_from


async def ask_rooms(client: Client, stack: Stack, realm: str, words: str) -> str:
    guide = f"wallguide@{stack.en if realm == 'en' else stack.fr}"
    mark = client.mark()
    client.send_chat(guide, f"!rooms {words}".strip())
    return body_of(await client.expect(message_from(guide), start=mark)) or ""


def join_links(answer: str) -> list[str]:
    return re.findall(r"xmpp:([^?\s]+)\?join", answer)


async def test_a_tag_lists_the_realms_topic_rooms_with_join_links_and_never_a_private_group(
    stack: Stack, connect
) -> None:
    eve = await connect("eve")
    await join(eve, stack, "military-pals", "swift-hare")  # a private group named like the tag
    answer = await ask_rooms(eve, stack, "en", "military")
    assert join_links(answer) == [room_jid(stack, "military"), room_jid(stack, "mst")], answer
    assert answer.startswith("Rooms about “military”") and "PTSD / trauma" in answer, answer
    assert "military-pals" not in answer


async def test_a_french_member_gets_the_french_directory_of_the_french_realm_only(stack: Stack, connect) -> None:
    denise = await connect("denise")
    fr_rooms = stack.chatd.realms[1].rooms_domain
    answer = await ask_rooms(denise, stack, "fr", "TSPT")
    assert join_links(answer) == [f"tsm@{fr_rooms}"], answer
    assert answer.startswith("Salons sur « tspt »") and "TSPT / trauma" in answer and "militaire" in answer, answer
    everything = await ask_rooms(denise, stack, "fr", "")
    assert sorted(join_links(everything)) == sorted(f"{r}@{fr_rooms}" for r in ("general", "militaire", "tsm"))
    assert "Étiquettes : " in everything and rooms(stack) not in everything, everything


async def test_free_words_find_a_room_by_its_tag_in_the_other_language_without_accents(stack: Stack, connect) -> None:
    frank = await connect("frank")
    answer = await ask_rooms(frank, stack, "en", "which rooms talk about TSPT")  # the French name of ptsd-trauma
    assert join_links(answer) == [room_jid(stack, "mst")], answer
    answer = await ask_rooms(frank, stack, "en", "Général")  # the French name of "general", accent and case aside
    assert join_links(answer) == [room_jid(stack, "general")], answer
    answer = await ask_rooms(frank, stack, "en", "sleep")
    assert join_links(answer) == [] and answer.startswith("No topic room matches “sleep”"), answer


async def test_the_disco_node_per_tag_lists_the_tagged_topic_rooms(stack: Stack, connect) -> None:
    gina = await connect("gina")
    await join(gina, stack, "military-crew", "gentle-crane")  # a private group the member belongs to
    everything = item_jids(await iq(gina, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}'/>"))
    assert room_jid(stack, "military-crew") in everything  # the plain directory shows the member's own groups

    tags = await iq(gina, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}' node='tags'/>")
    nodes = {i.get("node"): i.get("name") for i in tags.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert nodes == {
        "tag:general": "general",
        "tag:military": "military",
        "tag:abuse": "abuse",
        "tag:ptsd-trauma": "PTSD / trauma",
    }
    military = await iq(gina, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}' node='tag:military'/>")
    assert military.get("type") == "result"
    assert item_jids(military) == [room_jid(stack, "military"), room_jid(stack, "mst")]
    trauma = await iq(gina, rooms(stack), f"<query xmlns='{NS_DISCO_ITEMS}' node='tag:ptsd-trauma'/>")
    assert item_jids(trauma) == [room_jid(stack, "mst")]


async def test_the_french_realms_tag_nodes_are_named_in_french(stack: Stack, connect) -> None:
    gilles = await connect("gilles")
    fr_rooms = stack.chatd.realms[1].rooms_domain
    tags = await iq(gilles, fr_rooms, f"<query xmlns='{NS_DISCO_ITEMS}' node='tags'/>")
    nodes = {i.get("node"): i.get("name") for i in tags.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert nodes["tag:ptsd-trauma"] == "TSPT / trauma" and nodes["tag:military"] == "militaire"
    military = await iq(gilles, fr_rooms, f"<query xmlns='{NS_DISCO_ITEMS}' node='tag:military'/>")
    assert item_jids(military) == [f"militaire@{fr_rooms}", f"tsm@{fr_rooms}"]


async def test_a_tag_node_names_itself_to_disco_info(stack: Stack, connect) -> None:
    gilles = await connect("gilles")
    fr_rooms = stack.chatd.realms[1].rooms_domain
    info = await iq(gilles, fr_rooms, f"<query xmlns='{NS_DISCO_INFO}' node='tag:ptsd-trauma'/>")
    query = info.find(f"{{{NS_DISCO_INFO}}}query")
    assert query is not None and query.get("node") == "tag:ptsd-trauma"
    identity = query.find(f"{{{NS_DISCO_INFO}}}identity")
    assert identity is not None and identity.get("name") == "TSPT / trauma"
    listing = await iq(gilles, fr_rooms, f"<query xmlns='{NS_DISCO_INFO}' node='tags'/>")
    assert [i.get("name") for i in listing.iter(f"{{{NS_DISCO_INFO}}}identity")] == ["Salons thématiques par étiquette"]


# a stack whose "general" rooms (both realms) also talk about sleep, and whose English military room has a tag
# no catalog names


@pytest.fixture(scope="module")
def sleep_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = {"general": {"tags": ["general", "sleep"]}, "military": {"tags": ["military", "knitting-circle"]}}
    with running_stack(tmp_path_factory, "tags-stack", room_settings=settings) as running:
        yield running


async def test_which_rooms_talk_about_sleep_in_both_languages(sleep_stack: Stack, connect_to) -> None:
    alice, denise = await connect_to(sleep_stack, "alice"), await connect_to(sleep_stack, "denise")
    answer = await ask_rooms(alice, sleep_stack, "en", "which rooms talk about sleep?")
    assert join_links(answer) == [room_jid(sleep_stack, "general")], answer
    assert "(general, sleep)" in answer, answer
    fr_rooms = sleep_stack.chatd.realms[1].rooms_domain
    answer = await ask_rooms(denise, sleep_stack, "fr", "Quels salons parlent de SOMMEIL ?")
    assert join_links(answer) == [f"general@{fr_rooms}"], answer
    assert "(général, sommeil)" in answer, answer
    answer = await ask_rooms(denise, sleep_stack, "fr", "sleep")  # the English name finds the French room too
    assert join_links(answer) == [f"general@{fr_rooms}"], answer


async def test_an_unknown_tag_shows_as_itself_and_has_its_node(sleep_stack: Stack, connect_to) -> None:
    bob = await connect_to(sleep_stack, "bob")
    answer = await ask_rooms(bob, sleep_stack, "en", "knitting")
    assert join_links(answer) == [room_jid(sleep_stack, "military")], answer
    assert "(military, knitting-circle)" in answer, answer
    tags = await iq(bob, rooms(sleep_stack), f"<query xmlns='{NS_DISCO_ITEMS}' node='tags'/>")
    nodes = {i.get("node"): i.get("name") for i in tags.iter(f"{{{NS_DISCO_ITEMS}}}item")}
    assert nodes["tag:knitting-circle"] == "knitting-circle" and nodes["tag:sleep"] == "sleep"
    sleep = await iq(bob, rooms(sleep_stack), f"<query xmlns='{NS_DISCO_ITEMS}' node='tag:sleep'/>")
    assert item_jids(sleep) == [room_jid(sleep_stack, "general")]
