"""chatd/xmpp/multicast.py: finding the XEP-0033 service, and a fan-out cut into stanzas within its limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chatd.xmpp.multicast import DEFAULT_LIMIT, NS_ADDRESS, Multicast, Service, stanzas

WRAP = "<wrap xmlns='jabber:component:accept'>{}</wrap>"


def parsed(xml: str) -> ET.Element:
    return ET.fromstring(WRAP.format(xml))[0]


def answer(asked: bytes, payload: str) -> ET.Element:
    question = ET.fromstring(asked)
    return parsed(
        f"<iq type='result' id='{question.get('id')}' from='{question.get('to')}' to='rooms.en.example'>{payload}</iq>"
    )


def test_the_service_is_found_with_its_limit_and_forgotten_on_a_new_session_or_a_bounce() -> None:
    sent: list[bytes] = []
    discovery = Multicast("rooms.en.example", "example", sent.append, frozenset({"en.example", "rooms.en.example"}))
    discovery.start()
    items = "<query xmlns='http://jabber.org/protocol/disco#items'>{}</query>".format(
        "<item jid='rooms.en.example'/><item jid='en.example'/><item jid='multicast.example'/>"
        "<item jid='someone@example'/>"
    )
    assert discovery.received(answer(sent[0], items))
    asked = [ET.fromstring(s).get("to") for s in sent[1:]]
    assert asked == ["example", "multicast.example"]  # the server, then its services; never chatd's or an account
    plain = "<query xmlns='http://jabber.org/protocol/disco#info'><feature var='urn:xmpp:ping'/></query>"
    assert discovery.received(answer(sent[1], plain)) and discovery.service is None
    form = (
        "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
        f"<value>{NS_ADDRESS}</value></field><field var='message'><value>7</value></field></x>"
    )
    info = f"<query xmlns='http://jabber.org/protocol/disco#info'><feature var='{NS_ADDRESS}'/>{form}</query>"
    assert discovery.received(answer(sent[2], info))
    assert discovery.service == Service("multicast.example", 7)

    unrelated = parsed("<message from='someone@example' type='error'/>")
    assert not discovery.received(unrelated) and discovery.service is not None
    assert discovery.received(parsed("<message from='multicast.example' type='error'/>"))
    assert discovery.service is None and discovery.bounced == 1

    discovery.start()  # a reconnect asks again; an answer of the earlier session teaches nothing
    assert discovery.received(answer(sent[2], info)) and discovery.service is None
    without_limit = f"<query xmlns='http://jabber.org/protocol/disco#info'><feature var='{NS_ADDRESS}'/></query>"
    discovery.received(answer(sent[-1], items))
    discovery.received(answer(sent[-1], without_limit))
    assert discovery.service == Service("multicast.example", DEFAULT_LIMIT)


def test_a_fan_out_is_cut_into_stanzas_within_the_limit_with_bcc_addresses() -> None:
    tail = b" from='general@rooms.en.example/calm-otter' type='groupchat' id='x'><body>hi</body></message>"
    recipients = [f"'member{n}@example/phone'".encode() for n in range(5)]
    out = stanzas(Service("multicast.example", 2), b"<message to=", tail, recipients)
    assert len(out) == 3
    seen = []
    for raw in out:
        element = parsed(raw.decode())
        assert element.get("to") == "multicast.example" and element.get("type") == "groupchat"
        assert element.findtext("{jabber:component:accept}body") == "hi"
        addresses = element.findall(f"{{{NS_ADDRESS}}}addresses/{{{NS_ADDRESS}}}address")
        assert 1 <= len(addresses) <= 2 and all(a.get("type") == "bcc" for a in addresses)
        seen += [a.get("jid") for a in addresses]
    assert seen == [f"member{n}@example/phone" for n in range(5)]


def test_what_the_service_refuses_goes_to_its_recipients_one_by_one() -> None:
    sent: list[bytes] = []
    multicast = Multicast("rooms.en.example", "example", sent.append)
    multicast.start()
    multicast.received(answer(sent[0], "<query xmlns='http://jabber.org/protocol/disco#items'/>"))
    info = f"<query xmlns='http://jabber.org/protocol/disco#info'><feature var='{NS_ADDRESS}'/></query>"
    multicast.received(answer(sent[1], info))  # here the server itself offers it
    assert multicast.service == Service("example", DEFAULT_LIMIT)
    tail = b" from='general@rooms.en.example/calm-otter' type='groupchat' id='m1'><body>hi</body></message>"
    recipients = [b"'a@example/phone'", b"'b@example/laptop'", b"'c@example/phone'"]
    out = multicast.stanzas(Service("example", 2), b"<message to=", tail, recipients)
    assert len(out) == 2 and multicast.sent == 2
    del sent[:]
    second_chunk = parsed(out[1].decode())  # the service sends the stanza back as it got it, with an error
    second_chunk.set("type", "error")
    second_chunk.set("from", "example")
    assert multicast.received(second_chunk)
    assert multicast.service is None and multicast.bounced == 1
    assert sent == [b'<message to="c@example/phone"' + tail]  # that chunk's recipient only, directly
