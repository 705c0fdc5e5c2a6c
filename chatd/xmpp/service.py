"""A domain that answers discovery and ping, and refuses what it does not serve yet."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chatd.core.refusal import Refusal
from chatd.runtime import Runtime
from chatd.xmpp import stanza as st
from chatd.xmpp.stream import ComponentStream


class ServiceDomain:
    def __init__(self, runtime: Runtime, identity: tuple[str, str, str], features: list[str]):
        self.rt = runtime
        self.identity = identity
        self.features = [st.NS_DISCO_INFO, st.NS_DISCO_ITEMS, st.NS_PING, *features]

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        self.rt.counters.stanzas_in += 1
        if element.get("type") in ("error", "result") or st.split_jid(element.get("from")) is None:
            return
        kind = st.local_name(element.tag)
        if kind == "presence" and element.get("type") == "unavailable":
            return
        query = st.payload(element) if kind == "iq" else None
        ns = st.namespace(query.tag) if query is not None else ""
        if kind == "iq" and element.get("type") == "get" and ns == st.NS_PING:
            stream.send_nowait(st.build_iq_result(element))
        elif kind == "iq" and element.get("type") == "get" and ns == st.NS_DISCO_INFO:
            stream.send_nowait(st.build_iq_result(element, st.disco_info([self.identity], self.features)))
        elif kind == "iq" and element.get("type") == "get" and ns == st.NS_DISCO_ITEMS:
            stream.send_nowait(st.build_iq_result(element, st.disco_items([])))
        else:
            refusal = Refusal("service-unavailable", "error.unavailable")
            reply = st.build_error(element, refusal.condition, refusal.kind, self.rt.texts(refusal, None))
            if reply is not None:
                stream.send_nowait(reply)
