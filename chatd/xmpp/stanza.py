"""Stanza parsing and building: raw ElementTree in, plain strings out (serialized once)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from slixmpp.jid import JID, InvalidJID

from chatd.core.message import CHAT_STATES, ENCRYPTION_NAMESPACES, MARKERS, ChatMessage
from chatd.xmpp.ns import (
    NS_CHATSTATES,
    NS_CLIENT,
    NS_COMPONENT,
    NS_CORRECT,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_FALLBACK,
    NS_HINTS,
    NS_MARKERS,
    NS_RECEIPTS,
    NS_REPLY,
    NS_RETRACT,
    NS_SID,
    NS_STANZAS,
)

CLIENT_NAMESPACES = (NS_COMPONENT, NS_CLIENT)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def addresses(element: ET.Element) -> tuple[str, tuple[str, str, str] | None, tuple[str, str, str] | None]:
    """A stanza's kind (message, presence, iq), its sender and its target, each (local, domain, resource) if valid."""
    return local_name(element.tag), split_jid(element.get("from")), split_jid(element.get("to"))


def split_jid(value: str | None) -> tuple[str, str, str] | None:
    """(local, domain, resource) of a valid JID, else None."""
    if not value:
        return None
    try:
        jid = JID(value)
    except InvalidJID:
        return None
    return jid.user, jid.domain, jid.resource


def client_child(element: ET.Element, name: str) -> ET.Element | None:
    for ns in CLIENT_NAMESPACES:
        child = element.find(f"{{{ns}}}{name}")
        if child is not None:
            return child
    return None


def _body(element: ET.Element) -> str | None:
    bodies = [c for c in element if local_name(c.tag) == "body" and namespace(c.tag) in CLIENT_NAMESPACES]
    if not bodies:
        return None
    plain = [b for b in bodies if b.get(XML_LANG) is None]
    return (plain or bodies)[0].text or ""


def parse_message(element: ET.Element) -> ChatMessage:
    chat_state = receipt_for = replaces = reply_to = None
    marker: tuple[str, str] | None = None
    receipt_request = encrypted = False
    for child in element:
        ns, name = namespace(child.tag), local_name(child.tag)
        if ns == NS_CHATSTATES and name in CHAT_STATES:
            chat_state = name
        elif ns == NS_RECEIPTS:
            if name == "request":
                receipt_request = True
            elif name == "received":
                receipt_for = child.get("id") or None
        elif ns == NS_MARKERS and name in MARKERS and child.get("id"):
            marker = (name, child.get("id", ""))
        elif ns == NS_CORRECT and name == "replace":
            replaces = child.get("id") or None
        elif ns == NS_REPLY and name == "reply":
            reply_to = child.get("id") or None
        elif ns in ENCRYPTION_NAMESPACES:
            encrypted = True
    thread = client_child(element, "thread")
    return ChatMessage(
        id=element.get("id"),
        type=element.get("type") or "normal",
        body=_body(element),
        thread=thread.text if thread is not None else None,
        chat_state=chat_state,
        receipt_request=receipt_request,
        receipt_for=receipt_for,
        marker=marker,
        replaces=replaces,
        reply_to=reply_to,
        encrypted=encrypted,
    )


def origin_id(element: ET.Element) -> str | None:
    """XEP-0359: the id the sending client gave the message, if any."""
    origin = element.find(f"{{{NS_SID}}}origin-id")
    return (origin.get("id") or None) if origin is not None else None


def _attrs(**values: str | None) -> str:
    return "".join(f" {k.rstrip('_')}={quoteattr(v)}" for k, v in values.items() if v is not None)


def build_message(sender: str, recipient: str, message: ChatMessage) -> str:
    """A chat message with only what chatd carries across: body, thread, states, receipts."""
    parts = [f"<message{_attrs(from_=sender, to=recipient, type=message.type, id=message.id)}>"]
    if message.body is not None:
        parts.append(f"<body>{escape(message.body)}</body>")
    if message.thread:
        parts.append(f"<thread>{escape(message.thread)}</thread>")
    if message.chat_state:
        parts.append(f"<{message.chat_state} xmlns='{NS_CHATSTATES}'/>")
    if message.receipt_request:
        parts.append(f"<request xmlns='{NS_RECEIPTS}'/>")
    if message.receipt_for:
        parts.append(f"<received xmlns='{NS_RECEIPTS}'{_attrs(id=message.receipt_for)}/>")
    if message.marker:
        parts.append(f"<{message.marker[0]} xmlns='{NS_MARKERS}'{_attrs(id=message.marker[1])}/>")
    if message.replaces:
        parts.append(f"<replace xmlns='{NS_CORRECT}'{_attrs(id=message.replaces)}/>")
    parts.append("</message>")
    return "".join(parts)


def build_retraction(
    sender: str, recipient: str, retracted_id: str, fallback: str, stanza_id: str, extra: str = ""
) -> str:
    """XEP-0424: the sender's message retracted in a one-on-one chat; older clients read the fallback."""
    return (
        f"<message{_attrs(from_=sender, to=recipient, type='chat', id=stanza_id)}>"
        f"<retract xmlns='{NS_RETRACT}'{_attrs(id=retracted_id)}/>"
        f"<fallback xmlns='{NS_FALLBACK}' for='{NS_RETRACT}'/><body>{escape(fallback)}</body>"
        f"<store xmlns='{NS_HINTS}'/>{extra}</message>"
    )


def build_chat(sender: str, recipient: str, body: str) -> str:
    """A plain chat message from a service address (notices, command answers)."""
    return f"<message{_attrs(from_=sender, to=recipient, type='chat')}><body>{escape(body)}</body></message>"


def build_presence(sender: str, recipient: str, kind: str | None = None) -> str:
    return f"<presence{_attrs(from_=sender, to=recipient, type=kind)}/>"


def build_error(
    element: ET.Element,
    condition: str,
    kind: str,
    texts: dict[str, str],
) -> str | None:
    """The error reply to a stanza, from its recipient to its sender; None for errors."""
    if element.get("type") == "error":
        return None  # never answer an error with an error
    name = local_name(element.tag)
    text = "".join(
        f"<text xmlns='{NS_STANZAS}' xml:lang={quoteattr(lang)}>{escape(value)}</text>" for lang, value in texts.items()
    )
    return (
        f"<{name}{_attrs(from_=element.get('to'), to=element.get('from'), type='error', id=element.get('id'))}>"
        f"<error type={quoteattr(kind)}><{condition} xmlns='{NS_STANZAS}'/>{text}</error></{name}>"
    )


def build_iq_result(element: ET.Element, payload: str = "") -> str:
    attrs = _attrs(from_=element.get("to"), to=element.get("from"), type="result", id=element.get("id"))
    return f"<iq{attrs}>{payload}</iq>"


def disco_info(identities: list[tuple[str, str, str]], features: list[str], node: str | None = None) -> str:
    ids = "".join(f"<identity{_attrs(category=c, type=t, name=n)}/>" for c, t, n in identities)
    feats = "".join(f"<feature{_attrs(var=f)}/>" for f in sorted(set(features)))
    return f"<query xmlns='{NS_DISCO_INFO}'{_attrs(node=node)}>{ids}{feats}</query>"


def disco_items(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item{_attrs(jid=j, name=n)}/>" for j, n in items)
    return f"<query xmlns='{NS_DISCO_ITEMS}'>{entries}</query>"


def payload(element: ET.Element) -> ET.Element | None:
    """The first child of an iq (its query)."""
    for child in element:
        if namespace(child.tag) not in CLIENT_NAMESPACES:
            return child
    return None


def size(element: ET.Element) -> int:
    return len(ET.tostring(element, encoding="utf-8"))
