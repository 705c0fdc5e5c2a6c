"""Stanza parsing and building: raw ElementTree in, plain strings out (serialized once)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

from slixmpp.jid import JID, InvalidJID

from chatd.core.message import CHAT_STATES, ENCRYPTION_NAMESPACES, MARKERS, ChatMessage
from chatd.core.refusal import Refusal
from chatd.xmpp.ns import (
    NS_CHATSTATES,
    NS_CLIENT,
    NS_COMPONENT,
    NS_CONFERENCE,
    NS_CORRECT,
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_FALLBACK,
    NS_FASTEN,
    NS_HINTS,
    NS_MARKERS,
    NS_REACTIONS,
    NS_RECEIPTS,
    NS_REPLY,
    NS_RETRACT,
    NS_RETRACT_0,
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


def body(element: ET.Element) -> str | None:
    """The message's body (the one without a language first), or None."""
    bodies = [c for c in element if local_name(c.tag) == "body" and namespace(c.tag) in CLIENT_NAMESPACES]
    if not bodies:
        return None
    plain = [b for b in bodies if b.get(XML_LANG) is None]
    return (plain or bodies)[0].text or ""


def parse_message(element: ET.Element) -> ChatMessage:
    chat_state = receipt_for = replaces = invites_to = None
    marker: tuple[str, str] | None = None
    receipt_request = encrypted = markable = False
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
        elif ns == NS_MARKERS and name == "markable":
            markable = True
        elif ns == NS_CORRECT and name == "replace":
            replaces = child.get("id") or None
        elif ns == NS_CONFERENCE and name == "x":
            invites_to = child.get("jid") or None
        elif ns in ENCRYPTION_NAMESPACES:
            encrypted = True
    thread = client_child(element, "thread")
    message = ChatMessage(
        id=element.get("id"),
        type=element.get("type") or "normal",
        body=body(element),
        thread=thread.text if thread is not None else None,
        chat_state=chat_state,
        receipt_request=receipt_request,
        receipt_for=receipt_for,
        marker=marker,
        replaces=replaces,
        encrypted=encrypted,
        markable=markable,
        invites_to=invites_to,
    )
    return _with_references(element, message)


def _with_references(element: ET.Element, message: ChatMessage) -> ChatMessage:
    """XEP-0461 replies, XEP-0444 reactions and XEP-0424 retractions; a malformed one names its error."""
    reply = element.find(f"{{{NS_REPLY}}}reply")
    if reply is not None:
        if not reply.get("id"):
            return replace(message, malformed="error.reply_malformed")
        quote_end = _quote_end(element, message.body)
        if quote_end is None:
            return replace(message, malformed="error.reply_malformed")
        message = replace(message, reply_to=reply.get("id"), reply_author=reply.get("to") or None, quote_end=quote_end)
    reactions = element.find(f"{{{NS_REACTIONS}}}reactions")
    if reactions is not None:
        if not reactions.get("id"):
            return replace(message, malformed="error.reaction_malformed")
        chosen = tuple((r.text or "").strip() for r in reactions.findall(f"{{{NS_REACTIONS}}}reaction"))
        message = replace(message, reactions_to=reactions.get("id"), reactions=tuple(dict.fromkeys(chosen)))
    retract = element.find(f"{{{NS_RETRACT}}}retract")
    applied = element.find(f"{{{NS_FASTEN}}}apply-to")
    if retract is None and applied is not None and applied.find(f"{{{NS_RETRACT_0}}}retract") is not None:
        retract = applied  # the older form: <apply-to id=...><retract xmlns='...retract:0'/></apply-to>
    if retract is not None:
        if not retract.get("id"):
            return replace(message, malformed="error.retract_malformed")
        message = replace(message, retracts=retract.get("id"))
    return message


def _quote_end(element: ET.Element, body: str | None) -> int | None:
    """Where the quote of a reply's fallback ends (0: no quote at the start); None when the range is malformed."""
    for fallback in element.findall(f"{{{NS_FALLBACK}}}fallback"):
        if fallback.get("for") != NS_REPLY:
            continue
        span = fallback.find(f"{{{NS_FALLBACK}}}body")
        if span is None or body is None:
            return 0
        start, end = span.get("start", "0"), span.get("end", "")
        if not (start.isdigit() and end.isdigit()) or int(start) > int(end) or int(end) > len(body):
            return None
        return int(end) if int(start) == 0 else 0
    return 0


def origin_id(element: ET.Element) -> str | None:
    """XEP-0359: the id the sending client gave the message, if any."""
    origin = element.find(f"{{{NS_SID}}}origin-id")
    return (origin.get("id") or None) if origin is not None else None


def _attrs(**values: str | None) -> str:
    return "".join(f" {k.rstrip('_')}={quoteattr(v)}" for k, v in values.items() if v is not None)


def build_message(sender: str, recipient: str, message: ChatMessage) -> str:
    """A chat message with only what chatd carries across: body, thread, states, receipts, markers, references."""
    parts = [f"<message{_attrs(from_=sender, to=recipient, type=message.type, id=message.id)}>"]
    if message.body is not None:
        parts.append(f"<body>{escape(message.body)}</body>")
    if message.thread:
        parts.append(f"<thread>{escape(message.thread)}</thread>")
    parts.append(receipts(message))
    if message.invites_to:  # XEP-0249 (Monal's invitations): the room's address, no reason or password
        parts.append(f"<x xmlns='{NS_CONFERENCE}'{_attrs(jid=message.invites_to)}/>")
    parts.append(carried(message))
    parts.append("</message>")
    return "".join(parts)


def receipts(message: ChatMessage) -> str:
    """XEP-0184 as chats and a room's private messages carry it: the request, or the receipt for an id."""
    request = f"<request xmlns='{NS_RECEIPTS}'/>" if message.receipt_request else ""
    received = f"<received xmlns='{NS_RECEIPTS}'{_attrs(id=message.receipt_for)}/>" if message.receipt_for else ""
    return request + received


def carried(message: ChatMessage) -> str:
    """What chats and rooms carry beside the body: chat state, markers, correction, reply, reactions."""
    parts = []
    if message.chat_state:
        parts.append(f"<{message.chat_state} xmlns='{NS_CHATSTATES}'/>")
    if message.marker:
        parts.append(f"<{message.marker[0]} xmlns='{NS_MARKERS}'{_attrs(id=message.marker[1])}/>")
    if message.markable:
        parts.append(f"<markable xmlns='{NS_MARKERS}'/>")
    if message.replaces:
        parts.append(f"<replace xmlns='{NS_CORRECT}'{_attrs(id=message.replaces)}/>")
    if message.reply_to:
        parts.append(f"<reply xmlns='{NS_REPLY}'{_attrs(to=message.reply_author, id=message.reply_to)}/>")
        if message.quote_end:
            span = f"<body start='0' end='{message.quote_end}'/>"
            parts.append(f"<fallback xmlns='{NS_FALLBACK}' for='{NS_REPLY}'>{span}</fallback>")
    if message.reactions_to is not None:
        chosen = "".join(f"<reaction>{escape(r)}</reaction>" for r in message.reactions)
        parts.append(f"<reactions xmlns='{NS_REACTIONS}'{_attrs(id=message.reactions_to)}>{chosen}</reactions>")
        parts.append(f"<store xmlns='{NS_HINTS}'/>")
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
    application: str = "",
) -> str | None:
    """The error reply to a stanza, from its recipient to its sender; None for errors.

    `application`: an application-specific condition element (e.g. XEP-0363's file-too-large)."""
    if element.get("type") == "error":
        return None  # never answer an error with an error
    name = local_name(element.tag)
    text = "".join(
        f"<text xmlns='{NS_STANZAS}' xml:lang={quoteattr(lang)}>{escape(value)}</text>" for lang, value in texts.items()
    )
    return (
        f"<{name}{_attrs(from_=element.get('to'), to=element.get('from'), type='error', id=element.get('id'))}>"
        f"<error type={quoteattr(kind)}><{condition} xmlns='{NS_STANZAS}'/>{text}{application}</error></{name}>"
    )


class Sender(Protocol):
    def send_nowait(self, data: str | bytes) -> None: ...


def refuse(stream: Sender, element: ET.Element, refusal: Refusal, texts: dict[str, str], application: str = "") -> None:
    """Sends a refusal's error reply (in the given languages' texts), unless the stanza is itself an error."""
    reply = build_error(element, refusal.condition, refusal.kind, texts, application)
    if reply is not None:
        stream.send_nowait(reply)


def build_iq_result(element: ET.Element, payload: str = "") -> str:
    attrs = _attrs(from_=element.get("to"), to=element.get("from"), type="result", id=element.get("id"))
    return f"<iq{attrs}>{payload}</iq>"


def disco_info(identities: list[tuple[str, str, str]], features: list[str], node: str | None = None) -> str:
    ids = "".join(f"<identity{_attrs(category=c, type=t, name=n)}/>" for c, t, n in identities)
    feats = "".join(f"<feature{_attrs(var=f)}/>" for f in sorted(set(features)))
    return f"<query xmlns='{NS_DISCO_INFO}'{_attrs(node=node)}>{ids}{feats}</query>"


def disco_items(items: list[tuple[str, str]], node: str | None = None) -> str:
    entries = "".join(f"<item{_attrs(jid=j, name=n)}/>" for j, n in items)
    return f"<query xmlns='{NS_DISCO_ITEMS}'{_attrs(node=node)}>{entries}</query>"


def disco_node_items(jid: str, nodes: list[tuple[str, str]], node: str | None = None) -> str:
    """Items that are nodes of one address: (node, name) each."""
    entries = "".join(f"<item{_attrs(jid=jid, node=n, name=name)}/>" for n, name in nodes)
    return f"<query xmlns='{NS_DISCO_ITEMS}'{_attrs(node=node)}>{entries}</query>"


def payload(element: ET.Element) -> ET.Element | None:
    """The first child of an iq (its query)."""
    for child in element:
        if namespace(child.tag) not in CLIENT_NAMESPACES:
            return child
    return None


class _LastSerialized:
    """The last stanza serialized: the journal and the size check of one received stanza share it."""

    element: ET.Element | None = None
    data = b""


class _Unusual(Exception):
    """Something the short writer leaves to ElementTree's (comments, attributes in other namespaces)."""


XML_ATTRIBUTE = "{http://www.w3.org/XML/1998/namespace}"


def serialized(element: ET.Element) -> bytes:
    """The stanza as UTF-8 XML, each element's namespace as a default declaration where it changes (the way
    clients write stanzas); serialized once however often it is asked for in a row.

    Parsed again (ET.fromstring) it gives the same tags, attributes and texts as ElementTree's own writer's
    output, which spells namespaces with generated prefixes (ns0:) and walks the tree twice; this one takes
    about a third of its time. The shape limits (chatd.core.input_limits) are checked before, so the depth is bounded.
    """
    if _LastSerialized.element is not element:
        parts: list[str] = []
        try:
            _write(element, "", parts)
            data = "".join(parts).encode()
        except _Unusual:
            data = ET.tostring(element, encoding="utf-8")
        _LastSerialized.data = data
        _LastSerialized.element = element
    return _LastSerialized.data


def _write(element: ET.Element, default: str, parts: list[str]) -> None:
    tag = element.tag
    if not isinstance(tag, str):
        raise _Unusual  # a comment or processing instruction (never from a parsed stream)
    ns, _, name = tag[1:].partition("}") if tag[:1] == "{" else ("", "", tag)
    parts.append(f"<{name}")
    if ns != default:
        parts.append(f" xmlns={quoteattr(ns)}")
    for key, value in element.items():
        if key[:1] == "{":
            if not key.startswith(XML_ATTRIBUTE):
                raise _Unusual
            key = f"xml:{key[len(XML_ATTRIBUTE) :]}"
        parts.append(f" {key}={quoteattr(value)}")
    if element.text or len(element):
        parts.append(">")
        if element.text:
            parts.append(escape(element.text))
        for child in element:
            _write(child, ns, parts)
            if child.tail:
                parts.append(escape(child.tail))
        parts.append(f"</{name}>")
    else:
        parts.append("/>")


def size(element: ET.Element) -> int:
    return len(serialized(element))
