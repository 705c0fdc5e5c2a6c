"""One-on-one chat by pseudonym through a real Prosody and a real chatd process.

Tests on `any_stack` run on each supported server (Prosody and ejabberd, docs/ejabberd.md).
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

from tests.integration.conftest import Stack
from tests.integration.test_client_sources import NS_MAM, mam_results
from tests.support.client import ask, body_of, error_from, error_texts, message_from

NS_CHATSTATES = "http://jabber.org/protocol/chatstates"
NS_RECEIPTS = "urn:xmpp:receipts"


def xml_text(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


async def test_every_component_stream_of_chatd_is_up_on_the_server(any_stack: Stack) -> None:
    health = await asyncio.to_thread(any_stack.chatd.health)
    assert set(health["streams"]) == set(any_stack.chatd.components())
    assert {stream["state"] for stream in health["streams"].values()} == {"up"}


async def test_relay_both_ways_with_pseudonyms_only(any_stack: Stack, connect_any) -> None:
    alice, bob = await connect_any("alice"), await connect_any("bob")
    alice.send_chat(any_stack.pseudonym_jid("bob"), "hello from the other side")
    got = await bob.expect(message_from(any_stack.pseudonym_jid("alice"), "hello from the other side"))
    assert any_stack.accounts["alice"].jid not in xml_text(got)
    assert "alice" not in xml_text(got)

    bob.send_chat(got.get("from") or "", "hi back")
    reply = await alice.expect(message_from(any_stack.pseudonym_jid("bob"), "hi back"))
    assert any_stack.accounts["bob"].jid not in xml_text(reply)
    assert "bob@" not in xml_text(reply)


async def test_a_relayed_message_is_in_the_recipients_own_archive(any_stack: Stack, connect_any) -> None:
    """The server's MAM keeps a member's one-on-one messages (Prosody's mod_mam, ejabberd's mod_mam)."""
    alice, bob = await connect_any("alice"), await connect_any("bob")
    alice.send_chat(any_stack.pseudonym_jid("bob"), "kept in the archive")
    await bob.expect(message_from(any_stack.pseudonym_jid("alice"), "kept in the archive"))
    start = bob.mark()
    answer = await ask(bob, any_stack.accounts["bob"].jid, f"<query xmlns='{NS_MAM}' queryid='own'/>", "set")
    assert answer.get("type") == "result", xml_text(answer)
    kept = [m for _, m in mam_results(bob, start) if body_of(m) == "kept in the archive"]
    assert kept and all((m.get("from") or "").startswith(any_stack.pseudonym_jid("alice")) for m in kept)
    assert all(any_stack.accounts["alice"].jid not in xml_text(m) for m in kept)


async def test_chat_states_receipts_and_ids_cross_xhtml_dropped(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    to = stack.pseudonym_jid("bob")
    alice.send_raw(
        f"<message to='{to}' type='chat' id='msg-42'><body>plain text</body>"
        f"<active xmlns='{NS_CHATSTATES}'/><request xmlns='{NS_RECEIPTS}'/>"
        "<html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'>"
        "<p>rich <b>text</b></p></body></html></message>"
    )
    got = await bob.expect(message_from(stack.pseudonym_jid("alice"), "plain text"))
    assert got.get("id") == "msg-42"
    assert got.find(f"{{{NS_CHATSTATES}}}active") is not None
    assert got.find(f"{{{NS_RECEIPTS}}}request") is not None
    assert got.find("{http://jabber.org/protocol/xhtml-im}html") is None

    bob.send_raw(
        f"<message to='{stack.pseudonym_jid('alice')}' type='chat'>"
        f"<received xmlns='{NS_RECEIPTS}' id='msg-42'/></message>"
    )
    receipt = await alice.expect(lambda e: e.find(f"{{{NS_RECEIPTS}}}received") is not None)
    assert receipt.get("from", "").startswith(stack.pseudonym_jid("bob"))
    bob.send_raw(
        f"<message to='{stack.pseudonym_jid('alice')}' type='chat'><composing xmlns='{NS_CHATSTATES}'/></message>"
    )
    await alice.expect(lambda e: e.find(f"{{{NS_CHATSTATES}}}composing") is not None)


async def test_other_realm_is_refused_in_both_languages(stack: Stack, connect) -> None:
    alice = await connect("alice")
    sent = alice.send_chat(stack.pseudonym_jid("denise"), "bonjour")
    error = await alice.expect(error_from(stack.pseudonym_jid("denise"), "forbidden", stanza_id=sent))
    texts = error_texts(error)
    assert set(texts) == {"en", "fr"}
    assert "other language community" in texts["en"]
    assert "autre communauté" in texts["fr"]


async def test_unregistered_account_is_refused(stack: Stack, connect) -> None:
    mallory = await connect("mallory")
    sent = mallory.send_chat(stack.pseudonym_jid("alice"), "let me in")
    error = await mallory.expect(error_from(stack.pseudonym_jid("alice"), "registration-required", stanza_id=sent))
    assert "not registered" in error_texts(error)["en"]


async def test_member_to_member_direct_is_bounced_by_the_server(any_stack: Stack, connect_any) -> None:
    alice, bob = await connect_any("alice"), await connect_any("bob")
    mark = bob.mark()
    sent = alice.send_chat(any_stack.accounts["bob"].jid, "direct, bypassing chatd")
    await alice.expect(error_from(any_stack.accounts["bob"].jid, "policy-violation", stanza_id=sent))
    await bob.expect_nothing(lambda e: body_of(e) == "direct, bypassing chatd", wait=0.5, start=mark)
    # own-account traffic still passes: a message to one's own bare JID arrives
    alice.send_chat(any_stack.accounts["alice"].jid, "note to self")
    await alice.expect(lambda e: body_of(e) == "note to self")


async def test_encrypted_payload_is_refused_with_explanation(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    mark = bob.mark()
    alice.send_raw(
        f"<message to='{stack.pseudonym_jid('bob')}' type='chat' id='omemo-1'>"
        "<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='1'/><payload>AAAA</payload></encrypted>"
        "<body>I sent you an OMEMO encrypted message but your client doesn't seem to support that.</body></message>"
    )
    error = await alice.expect(error_from(stack.pseudonym_jid("bob"), "not-acceptable", stanza_id="omemo-1"))
    assert "Encrypted messages" in error_texts(error)["en"]
    alice.send_chat(stack.pseudonym_jid("bob"), "?OTRv23? off the record please")
    await alice.expect(lambda e: e.get("type") == "error" and "Encrypted" in error_texts(e).get("en", ""), start=1)
    await bob.expect_nothing(lambda e: e.get("from", "").startswith(stack.pseudonym_jid("alice")), wait=0.5, start=mark)


async def test_unknown_pseudonym_gets_item_not_found(stack: Stack, connect) -> None:
    alice = await connect("alice")
    sent = alice.send_chat(f"nobody-here@{stack.en}", "hello?")
    error = await alice.expect(error_from(f"nobody-here@{stack.en}", "item-not-found", stanza_id=sent))
    assert "nobody-here" in error_texts(error)["en"]


async def test_blocking_and_unblocking(stack: Stack, connect) -> None:
    carol, frank = await connect("carol"), await connect("frank")
    guide = f"wallguide@{stack.en}"
    carol.send_chat(guide, f"!block {stack.accounts['frank'].pseudonym}")
    await carol.expect(message_from(guide, "is blocked"))

    mark = carol.mark()
    sent = frank.send_chat(stack.pseudonym_jid("carol"), "are you there?")
    await frank.expect(error_from(stack.pseudonym_jid("carol"), "service-unavailable", stanza_id=sent))
    await carol.expect_nothing(message_from(stack.pseudonym_jid("frank")), wait=0.5, start=mark)

    sent = carol.send_chat(stack.pseudonym_jid("frank"), "writing to someone I blocked")
    error = await carol.expect(error_from(stack.pseudonym_jid("frank"), "not-acceptable", stanza_id=sent))
    assert "!unblock" in error_texts(error)["en"]

    carol.send_chat(guide, "!blocks")
    await carol.expect(message_from(guide, stack.accounts["frank"].pseudonym))
    carol.send_chat(guide, f"!unblock {stack.accounts['frank'].pseudonym}")
    await carol.expect(message_from(guide, "no longer blocked"))
    frank.send_chat(stack.pseudonym_jid("carol"), "hello again")
    await carol.expect(message_from(stack.pseudonym_jid("frank"), "hello again"))


async def test_french_member_gets_french_texts(stack: Stack, connect) -> None:
    denise = await connect("denise")
    guide = f"wallguide@{stack.fr}"
    denise.send_chat(guide, "!help")
    got = await denise.expect(message_from(guide, "Commandes"))
    assert "911" in (body_of(got) or "") and "resources@" in (body_of(got) or "")
    sent = denise.send_chat(f"personne-ici@{stack.fr}", "allo")
    error = await denise.expect(error_from(f"personne-ici@{stack.fr}", "item-not-found", stanza_id=sent))
    assert error_texts(error) == {"fr": "Personne dans cette communauté n’utilise le nom personne-ici."}


async def test_disco_on_domain_and_pseudonyms(stack: Stack, connect) -> None:
    alice = await connect("alice")
    xmpp = alice.xmpp
    xmpp.register_plugin("xep_0030")
    disco = xmpp.plugin["xep_0030"]
    info = await disco.get_info(jid=stack.en, timeout=5)
    features = info["disco_info"]["features"]
    assert "http://jabber.org/protocol/disco#info" in features
    info = await disco.get_info(jid=stack.pseudonym_jid("bob"), timeout=5)
    assert ("account", "registered", None, "brave-heron") in info["disco_info"]["identities"]
    assert "urn:xmpp:receipts" in info["disco_info"]["features"]
    items = await disco.get_items(jid=stack.en, timeout=5)
    assert f"wallguide@{stack.en}" in [item[0] for item in items["disco_items"]["items"]]
    mark = alice.mark()
    alice.send_raw(
        f"<iq type='get' to='ghost-name@{stack.en}' id='d1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    await alice.expect(error_from(f"ghost-name@{stack.en}", "item-not-found", kind="iq", stanza_id="d1"), start=mark)


async def test_bad_input_gets_errors_and_service_goes_on(stack: Stack, connect) -> None:
    alice, bob = await connect("alice"), await connect("bob")
    to = stack.pseudonym_jid("bob")
    big = "x" * 9000  # over the test stack's 8 KiB stanza limit
    alice.send_raw(f"<message to='{to}' type='chat' id='big-1'><body>{big}</body></message>")
    error = await alice.expect(error_from(to, "policy-violation", stanza_id="big-1"))
    assert "too large" in error_texts(error)["en"]
    alice.send_raw(f"<message to='{to}' type='chat' id='blank-1'><body>   \n  </body></message>")
    await alice.expect(error_from(to, "not-acceptable", stanza_id="blank-1"))
    alice.send_raw(f"<message to='{to}' type='groupchat' id='gc-1'><body>wrong type</body></message>")
    await alice.expect(error_from(to, "bad-request", stanza_id="gc-1"))
    alice.send_raw(f"<message to='{to}' type='chat' id='empty-1'><unknown xmlns='urn:example:x'/></message>")
    await alice.expect(error_from(to, "bad-request", stanza_id="empty-1"))
    alice.send_raw(f"<iq type='set' to='{to}' id='iq-1'><query xmlns='urn:example:nothing'/></iq>")
    await alice.expect(error_from(to, "service-unavailable", kind="iq", stanza_id="iq-1"))
    alice.send_raw(f"<message to='@{stack.en}' type='chat' id='jid-1'><body>bad address</body></message>")
    await alice.expect(lambda e: e.get("id") == "jid-1" and e.get("type") == "error")
    alice.send_chat(to, "still working")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "still working"))
    assert stack.chatd.process is not None and stack.chatd.process.poll() is None


async def test_burst_from_one_account_is_throttled_others_unaffected(stack: Stack, connect) -> None:
    eve, bob, alice = await connect("eve"), await connect("bob"), await connect("alice")
    to = stack.pseudonym_jid("bob")
    for n in range(30):
        eve.send_chat(to, f"burst {n}")
    await eve.expect(error_from(to, "policy-violation"))
    await asyncio.sleep(0.5)
    refused = [e for e in eve.received if e.get("type") == "error" and "too quickly" in error_texts(e).get("en", "")]
    delivered = [e for e in bob.received if (body_of(e) or "").startswith("burst ")]
    assert len(refused) >= 5
    assert len(delivered) + len(refused) == 30
    alice.send_chat(to, "I am not throttled")
    await bob.expect(message_from(stack.pseudonym_jid("alice"), "I am not throttled"))
