"""Push notifications (XEP-0357) on a real Prosody: a member's phone sleeps, a fake app server is told.

The app server is a component on a listed domain (in production it is another server, reached
over server-to-server toward it only). The member's client resumes streams (XEP-0198); its TCP
connection drops without closing the stream, so Prosody keeps the session hibernated and pushes.
"""

from __future__ import annotations

import asyncio
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator

import pytest

from chatd.i18n import text
from tests.integration.conftest import Stack, running_stack
from tests.support.app_server import AppServer
from tests.support.client import Client, error_from, error_texts, tag
from tests.support.muc import NS_MUC_USER, join, say

NS_PUSH = "urn:xmpp:push:0"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
NS_DATA = "jabber:x:data"
NS_COMPONENT = "jabber:component:accept"
APP_SERVER = "push.localhost"
SECRET = secrets.token_hex(12)


@pytest.fixture(scope="module")
def push_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    app_component = f'Component "{APP_SERVER}"\n  component_secret = "{SECRET}"\n'
    settings = {"push_app_servers": (APP_SERVER,), "extra_config": app_component}
    with running_stack(tmp_path_factory, "push-stack", prosody_settings=settings) as running:
        yield running


@pytest.fixture
async def app_server(push_stack: Stack) -> AsyncIterator[AppServer]:
    server = await AppServer(APP_SERVER, SECRET, push_stack.prosody.component_port).connect()
    yield server
    await server.close()


def xml_text(element: ET.Element) -> str:
    return ET.tostring(element, encoding="unicode")


def iq_answer(stanza_id: str, kind: str = "result"):
    return lambda e: e.tag == tag("iq") and e.get("id") == stanza_id and e.get("type") == kind


def enable_push(client: Client, service: str, node: str, stanza_id: str) -> None:
    client.send_raw(f"<iq type='set' id='{stanza_id}'><enable xmlns='{NS_PUSH}' jid='{service}' node='{node}'/></iq>")


async def phone(stack: Stack, name: str) -> Client:
    """A member's client that resumes streams (XEP-0198), as Conversations, Monal and Siskin do."""
    account = stack.accounts[name]
    client = Client(account.jid, account.password, stack.prosody.c2s_port)
    client.xmpp.register_plugin("xep_0198")
    enabled = asyncio.Event()
    client.xmpp.add_event_handler("sm_enabled", lambda _stanza: enabled.set())
    await client.connect()
    await asyncio.wait_for(enabled.wait(), 10)
    return client


def summary(notification: ET.Element) -> dict[str, str]:
    """The fields of the notification's summary form (XEP-0357 urn:xmpp:push:summary) that hold a value."""
    publish = notification.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}publish")
    assert publish is not None
    form = publish.find(f"{{{NS_PUBSUB}}}item/{{{NS_PUSH}}}notification/{{{NS_DATA}}}x")
    assert form is not None
    fields = {
        field.get("var") or "": "".join(value.text or "" for value in field.findall(f"{{{NS_DATA}}}value"))
        for field in form.findall(f"{{{NS_DATA}}}field")
    }
    return {name: value for name, value in fields.items() if value}


def publish_to(node: str):
    def match(element: ET.Element) -> bool:
        if element.tag != tag("iq", NS_COMPONENT) or element.get("type") != "set":
            return False
        publish = element.find(f"{{{NS_PUBSUB}}}pubsub/{{{NS_PUBSUB}}}publish")
        return publish is not None and publish.get("node") == node

    return match


async def falls_asleep(phone: Client, node: str) -> None:
    """The phone turns push on, then sleeps: its TCP connection is gone, its stream never closed."""
    enable_push(phone, APP_SERVER, node, f"push-on-{node}")
    await phone.expect(iq_answer(f"push-on-{node}"))
    # everything received so far is acknowledged: only what comes while it sleeps can be pushed
    # (written on the socket itself, so that it goes out before the close)
    handled = phone.xmpp.plugin["xep_0198"].handled
    phone.xmpp.transport.write(f"<a xmlns='urn:xmpp:sm:3' h='{handled}'/>".encode())
    phone.xmpp.transport.close()
    await asyncio.sleep(0.5)  # not a timed assertion: lets Prosody see the drop before the message comes


def assert_reveals_nothing(stack: Stack, notification: ET.Element, *secrets: str) -> None:
    seen = xml_text(notification)
    assert notification.get("from") == stack.prosody.members_host  # the server, not the account
    assert summary(notification) == {
        "FORM_TYPE": "urn:xmpp:push:summary",
        "message-count": "1",
        "last-message-body": f"{text('en', 'push.marker')} / {text('fr', 'push.marker')}",
    }
    for secret in (*secrets, stack.pseudonym_jid("bob"), "brave-heron", "bob", "alice", "calm-otter"):
        assert secret not in seen, f"{secret!r} is in the notification: {seen}"


async def test_hibernated_member_gets_a_push_without_text_or_sender(
    push_stack: Stack, app_server: AppServer, connect_to
) -> None:
    alice = await phone(push_stack, "alice")
    try:
        await falls_asleep(alice, "device-7f3a")
        bob = await connect_to(push_stack, "bob")
        mark = app_server.mark()
        bob.send_chat(push_stack.pseudonym_jid("alice"), "the lake at dawn, see you there")
        notification = await app_server.expect(publish_to("device-7f3a"), start=mark)
        assert_reveals_nothing(push_stack, notification, "the lake at dawn", "lake")
    finally:
        await alice.close()


async def test_member_whose_session_ended_gets_a_push(push_stack: Stack, app_server: AppServer, connect_to) -> None:
    carol = await phone(push_stack, "carol")
    enable_push(carol, APP_SERVER, "device-ended", "push-on-ended")
    await carol.expect(iq_answer("push-on-ended"))
    await carol.close()  # the stream is closed: no session is kept, push stays on for the account
    bob = await connect_to(push_stack, "bob")
    mark = app_server.mark()
    bob.send_chat(push_stack.pseudonym_jid("carol"), "are you coming to the walk tomorrow")
    notification = await app_server.expect(publish_to("device-ended"), start=mark)
    assert_reveals_nothing(push_stack, notification, "the walk tomorrow", "carol", "quiet-lynx")


async def test_hibernated_member_gets_a_push_for_a_private_group(
    push_stack: Stack, app_server: AppServer, connect_to
) -> None:
    room = f"walk-club@{push_stack.chatd.realms[0].rooms_domain}"
    bob, alice = await connect_to(push_stack, "bob"), await phone(push_stack, "alice")
    try:
        await join(bob, room, "brave-heron")  # a room not known yet: bob's private group
        invite = f"<invite to='{push_stack.pseudonym_jid('alice')}'/>"
        bob.send_raw(f"<message to='{room}'><x xmlns='{NS_MUC_USER}'>{invite}</x></message>")
        await alice.expect(lambda e: (x := e.find("{jabber:x:conference}x")) is not None and x.get("jid") == room)
        await join(alice, room, "calm-otter")
        await falls_asleep(alice, "device-group")
        mark = app_server.mark()
        say(bob, room, "meet by the old mill on sunday")
        notification = await app_server.expect(publish_to("device-group"), start=mark)
        assert_reveals_nothing(
            push_stack, notification, "old mill", "walk-club", push_stack.chatd.realms[0].rooms_domain
        )
    finally:
        await alice.close()


async def test_push_toward_an_unlisted_address_is_refused(push_stack: Stack, app_server: AppServer, connect_to) -> None:
    alice = await connect_to(push_stack, "alice")
    for stanza_id, service in (
        ("push-remote", "push.example.net"),  # a remote server that is not listed
        ("push-chatd", push_stack.en),  # one of chatd's own domains
        ("push-member", push_stack.accounts["bob"].jid),  # another member
        ("push-account", f"someone@{APP_SERVER}"),  # an account on a listed app server's domain
    ):
        enable_push(alice, service, "device-1", stanza_id)
        error = await alice.expect(iq_answer(stanza_id, "error"))
        assert error.find(f"{tag('error')}/{{urn:ietf:params:xml:ns:xmpp-stanzas}}not-allowed") is not None
        assert "push services this community lists" in xml_text(error)
        assert "services push que cette communauté autorise" in xml_text(error)
    # the operator's log names the refused domain (to decide whether to list it), never an account
    log = (push_stack.prosody.run_dir / "prosody.log").read_text()
    assert "Refused to enable push toward push.example.net: not a listed app server" in log
    assert push_stack.accounts["bob"].jid not in log and push_stack.accounts["alice"].jid not in log


async def test_members_cannot_write_to_the_app_server(push_stack: Stack, app_server: AppServer, connect_to) -> None:
    alice = await connect_to(push_stack, "alice")
    mark = app_server.mark()
    sent = alice.send_chat(APP_SERVER, "hello app server")
    error = await alice.expect(error_from(APP_SERVER, "not-allowed", stanza_id=sent))
    assert "push services this community lists" in " ".join(error_texts(error).values())
    alice.send_raw(
        f"<iq type='set' id='fake-publish' to='{APP_SERVER}'><pubsub xmlns='{NS_PUBSUB}'>"
        "<publish node='device-7f3a'><item/></publish></pubsub></iq>"
    )
    await alice.expect(iq_answer("fake-publish", "error"))
    # the account still says it offers push (apps look for it before they enable push)
    account = push_stack.accounts["alice"].jid
    alice.send_raw(
        f"<iq type='get' id='probe' to='{account}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>"
    )
    info = await alice.expect(iq_answer("probe"))
    features = {f.get("var") for f in info.iter("{http://jabber.org/protocol/disco#info}feature")}
    assert NS_PUSH in features
    assert not [e for e in app_server.received[mark:] if "alice" in xml_text(e) or "hello" in xml_text(e)]
