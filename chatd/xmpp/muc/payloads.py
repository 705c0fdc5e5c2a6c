"""Stanza parts of the MUC service that need no state: forms, stamps, tombstones, history requests."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from chatd.core import rooms as core
from chatd.core.message import ChatMessage
from chatd.xmpp.ns import (
    NS_DATA,
    NS_MODERATE,
    NS_MODERATE_0,
    NS_MUC,
    NS_RETRACT,
    NS_RETRACT_0,
)


def tombstone(by: str) -> str:
    """What the archive shows for a message a Wall Guide removed (XEP-0425 with the XEP-0424 tombstone)."""
    return (
        f"<retracted xmlns='{NS_RETRACT}'><moderated{attrs(xmlns=NS_MODERATE, by=by)}/></retracted>"
        f"<moderated{attrs(xmlns=NS_MODERATE_0, by=by)}><retracted xmlns='{NS_RETRACT_0}'/></moderated>"
    )


def refs_of(message: ChatMessage) -> str | None:
    """What the room archive keeps of what a message points at: a reaction's, a reply's or a correction's
    reference (a reaction's emoji are its body: what a Wall Guide removes is gone from it too)."""
    if message.reactions_to is not None:
        return json.dumps({"reactions_to": message.reactions_to})
    kept: dict[str, str | None] = {}
    if message.reply_to is not None:
        kept.update(reply_to=message.reply_to, reply_author=message.reply_author)
    if message.replaces is not None:  # XEP-0308: catching up (MAM, history) shows the corrected text
        kept["replaces"] = message.replaces
    return json.dumps(kept) if kept else None


def kept_refs(refs: str | None, quote_end: int, body: str | None) -> ChatMessage | None:
    """The reference refs_of kept, to be carried again (st.carried); None for a plain text."""
    if not refs:
        return None
    kept = json.loads(refs)
    reactions = tuple((body or "").split()) if kept.get("reactions_to") is not None else ()
    return ChatMessage(
        None, "groupchat", reply_to=kept.get("reply_to"), reply_author=kept.get("reply_author"), quote_end=quote_end,
        reactions_to=kept.get("reactions_to"), reactions=reactions, replaces=kept.get("replaces"),
    )  # fmt: skip


def attrs(**values: str | None) -> str:
    return "".join(f" {k.rstrip('_')}={quoteattr(v)}" for k, v in values.items() if v is not None)


def stamp(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(value: str) -> float:
    return datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00")).timestamp()


async def no_notice(text: str) -> None:
    """No notice (a status text, a new group's name: the author is answered otherwise)."""


async def no_delivery(text: str, stanza_id: str) -> None:
    """Delivery read from the outcome (a group's name and description)."""


def child(element: ET.Element, ns: str, name: str) -> ET.Element | None:
    return element.find(f"{{{ns}}}{name}")


def form_values(form: ET.Element | None) -> dict[str, str]:
    if form is None:
        return {}
    values = {}
    for entry in form.findall(f"{{{NS_DATA}}}field"):
        value = entry.find(f"{{{NS_DATA}}}value")
        values[entry.get("var", "")] = (value.text or "") if value is not None else ""
    return values


def data_form(kind: str, form_type: str, fields: Sequence[tuple[str, str | None, Sequence[str]]]) -> str:
    """A XEP-0004 form: (var, type, values) per field after the hidden FORM_TYPE."""
    entries = "".join(
        f"<field{attrs(var=var, type=field_type)}>{''.join(f'<value>{escape(v)}</value>' for v in values)}</field>"
        for var, field_type, values in [("FORM_TYPE", "hidden", [form_type]), *fields]
    )
    return f"<x xmlns='{NS_DATA}' type='{kind}'>{entries}</x>"


def number(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def history_request(element: ET.Element) -> core.HistoryRequest:
    muc = child(element, NS_MUC, "x")
    history = child(muc, NS_MUC, "history") if muc is not None else None
    if history is None:
        return core.HistoryRequest()
    since = history.get("since")
    try:
        since_time = parse_stamp(since) if since else None
    except ValueError:
        since_time = None
    return core.HistoryRequest(
        number(history.get("maxstanzas")), number(history.get("maxchars")), number(history.get("seconds")), since_time
    )
