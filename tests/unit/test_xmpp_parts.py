import asyncio
import threading
import xml.etree.ElementTree as ET
from functools import partial

import pytest

from chatd.serial import OrderedThread, SerialQueues
from chatd.xmpp import stanza as st
from chatd.xmpp.outbox import Outbox


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def test_parse_and_build_message_round_trip() -> None:
    element = parse(
        "<message xmlns='jabber:component:accept' from='a@h/r' to='calm-otter@en.h' type='chat' id='m1'>"
        "<body xml:lang='fr'>bonjour</body><body>hello &amp; &lt;you&gt;</body>"
        "<composing xmlns='http://jabber.org/protocol/chatstates'/>"
        "<request xmlns='urn:xmpp:receipts'/><displayed xmlns='urn:xmpp:chat-markers:0' id='m0'/>"
        "<replace xmlns='urn:xmpp:message-correct:0' id='m0'/>"
        "<html xmlns='http://jabber.org/protocol/xhtml-im'/><thread>t1</thread></message>"
    )
    message = st.parse_message(element)
    assert message.body == "hello & <you>"
    assert (message.chat_state, message.receipt_request, message.marker, message.replaces, message.thread) == (
        "composing",
        True,
        ("displayed", "m0"),
        "m0",
        "t1",
    )
    built = parse(st.build_message("calm-otter@en.h", "b@h", message))
    assert built.get("from") == "calm-otter@en.h" and built.get("id") == "m1"
    assert built.findtext("body") == "hello & <you>"
    assert built.find("{http://jabber.org/protocol/xhtml-im}html") is None
    assert built.find("{urn:xmpp:message-correct:0}replace").get("id") == "m0"


def test_encrypted_payloads_are_seen() -> None:
    for ns in ("eu.siacs.conversations.axolotl", "urn:xmpp:omemo:2", "jabber:x:encrypted", "urn:xmpp:openpgp:0"):
        element = parse(f"<message xmlns='jabber:client' type='chat'><x xmlns='{ns}'/></message>")
        assert st.parse_message(element).encrypted, ns


def test_error_reply_swaps_addresses_and_carries_texts() -> None:
    element = parse("<iq xmlns='jabber:client' from='a@h/r' to='x@en.h' type='get' id='q&amp;1'/>")
    reply = parse(st.build_error(element, "item-not-found", "cancel", {"en": "No <one>", "fr": "Personne"}))
    assert (reply.get("from"), reply.get("to"), reply.get("type"), reply.get("id")) == (
        "x@en.h",
        "a@h/r",
        "error",
        "q&1",
    )
    texts = reply.findall("error/{urn:ietf:params:xml:ns:xmpp-stanzas}text")
    assert [t.text for t in texts] == ["No <one>", "Personne"]
    assert st.build_error(parse("<message xmlns='jabber:client' type='error'/>"), "x", "cancel", {}) is None


def test_split_jid() -> None:
    assert st.split_jid("calm-otter@en.h/res") == ("calm-otter", "en.h", "res")
    assert st.split_jid("bad@@x") is None
    assert st.split_jid("") is None


async def test_outbox_keeps_stanzas_while_down_and_sends_them_in_order_after() -> None:
    written: list[bytes] = []
    outbox = Outbox(size=3)
    await outbox.put(b"1")
    await outbox.put(b"2")
    assert outbox.put_nowait(b"x")
    outbox.attach(written.append)
    await outbox.put(b"3")
    assert written == [b"1", b"2", b"x", b"3"]
    outbox.detach()
    for n in (4, 5, 6):
        await outbox.put(str(n).encode())
    assert not outbox.put_nowait(b"7") and outbox.dropped == 1
    waiting = asyncio.ensure_future(outbox.put(b"8"))  # back-pressure: waits for room
    await asyncio.sleep(0.01)
    assert not waiting.done()
    outbox.attach(written.append)
    await asyncio.wait_for(waiting, 1)
    assert written[4:] == [b"4", b"5", b"6", b"8"]


async def test_outbox_pauses_with_the_transport() -> None:
    written: list[bytes] = []
    outbox = Outbox(size=10)
    outbox.attach(written.append)
    outbox.pause()
    await outbox.put(b"a")
    assert written == []
    outbox.resume()
    assert written == [b"a"]


async def test_serial_queues_keep_order_per_key_and_signal_pressure() -> None:
    seen: list[tuple[str, int]] = []
    signals: list[str] = []
    queues = SerialQueues(high=4, on_full=lambda: signals.append("full"), on_drained=lambda: signals.append("drained"))

    def job(key: str, n: int):
        async def run() -> None:
            await asyncio.sleep(0.001 * (5 - n))
            seen.append((key, n))

        return run

    for n in range(5):
        queues.submit("a", job("a", n))
        queues.submit("b", job("b", n))
    assert (queues.waiting("a"), queues.waiting("b"), queues.waiting("c")) == (5, 5, 0)
    await queues.idle()
    assert queues.waiting("a") == 0
    assert [n for k, n in seen if k == "a"] == list(range(5))
    assert [n for k, n in seen if k == "b"] == list(range(5))
    assert signals == ["full", "drained"]
    assert queues.pending == 0 and not queues._queues


def test_a_stream_never_sends_from_another_domain() -> None:
    from chatd.xmpp.stream import ComponentStream, WrongDomain

    async def scenario() -> list[bytes]:
        stream = ComponentStream("en.h", "secret-123", "127.0.0.1", 1, 10, handler=lambda s, e: None)
        await stream.send("<message from='calm-otter@en.h' to='a@h'><body>x</body></message>")
        stream.send_nowait('<iq type="result" from="en.h" to="a@h/r" id="1"/>')
        for wrong in (
            "<message from='calm-otter@fr.h' to='a@h'/>",
            "<message to='a@h' from='x@en.h.evil'/>",
            "<message to='a@h'/>",
            "<message from='en.h@fr.h' to='a@h'/>",
        ):
            try:
                await stream.send(wrong)
            except WrongDomain:
                continue
            raise AssertionError(f"sent from a foreign domain: {wrong}")
        return list(stream.outbox.queue)

    queued = asyncio.run(scenario())
    assert len(queued) == 2


def _shape(element: ET.Element, root: bool = True) -> tuple[object, ...]:
    """Everything a parse gives of an element: tag, attributes, text, tail (not the outermost's) and children."""
    children = tuple(_shape(child, False) for child in element)
    return element.tag, sorted(element.items()), element.text, None if root else element.tail, children


def test_a_received_stanza_is_serialized_as_clients_write_it_and_parses_back_the_same() -> None:
    written = (
        '<message xmlns="jabber:component:accept" from="a@h/r" to="calm-otter@en.h" type="chat" id="m&amp;1">'
        '<body xml:lang="fr">bonjour &lt;toi&gt; &amp; "eux"</body><body>line one\nline two\tend</body>'
        '<reply xmlns="urn:xmpp:reply:0" to="x@h" id="q\'1"/>'
        '<fallback xmlns="urn:xmpp:fallback:0" for="urn:xmpp:reply:0"><body start="0" end="4"/></fallback>'
        '<x xmlns="jabber:x:conference" jid="room@rooms.h">before<y xmlns="">inner</y>after</x>'
        '<origin-id xmlns="urn:xmpp:sid:0" id="o1"/></message>'
    )
    element = parse(written)
    data = st.serialized(element)
    assert data == written.encode()  # the size limit counts the stanza as written, without generated prefixes
    assert st.size(element) == len(written.encode())
    assert _shape(parse(data.decode())) == _shape(element)
    assert _shape(parse(ET.tostring(element, encoding="unicode"))) == _shape(element)  # as ElementTree's own


def test_attribute_values_that_need_escaping_survive_serialization() -> None:
    element = ET.Element("{jabber:client}message", {"id": "a\"b'c<d>&e\n\tf", "to": "b@h"})
    ET.SubElement(element, "{jabber:client}body").text = "]]> & <![CDATA[ x"
    again = parse(st.serialized(element).decode())
    assert _shape(again) == _shape(element)


def test_attributes_in_other_namespaces_are_left_to_elementtree() -> None:
    element = parse(
        "<message xmlns='jabber:client' xmlns:e='urn:example' e:mark='1' to='b@h'><body>hi</body></message>"
    )
    data = st.serialized(element)
    assert _shape(parse(data.decode())) == _shape(element)
    assert data == ET.tostring(element, encoding="utf-8")


async def test_an_ordered_thread_runs_calls_in_order_off_the_event_loop(caplog: pytest.LogCaptureFixture) -> None:
    reader, ran = OrderedThread("test-reading"), []
    loop_thread = threading.get_ident()

    def call(n: int) -> int:
        ran.append((n, threading.get_ident() != loop_thread))
        return n * 10

    def broken() -> None:
        raise ValueError("the member's words")

    reader.submit(partial(call, 1))
    reader.submit(broken)  # nobody waits: logged by kind, never its message
    results = await asyncio.gather(*(reader.run(partial(call, n)) for n in (2, 3, 4)))
    assert results == [20, 30, 40] and ran == [(n, True) for n in (1, 2, 3, 4)]
    with pytest.raises(ValueError):
        await reader.run(broken)  # the caller gets it
    assert await reader.run(partial(call, 5)) == 50  # and the thread goes on
    assert "ValueError" in caplog.text and "member's words" not in caplog.text
