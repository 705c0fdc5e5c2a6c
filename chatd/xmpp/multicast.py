"""XEP-0033 (Extended Stanza Addressing): a room's fan-out as one stanza to the server's multicast service.

ejabberd offers the service (mod_multicast, open to chatd's domains only: docs/ejabberd.md); Prosody does not,
and there each copy is written on its own, as before. Each component stream looks for the service when its
session starts (again after every reconnect): the server's disco#items, then disco#info of each item, for the
feature `http://jabber.org/protocol/address`; the service's limit of addresses per stanza comes from the same
answer (XEP-0128 field `message`). Until it is found, or when the service bounces a stanza, copies go one by one.

Recipients are `bcc` addresses: the service strips them, so no copy names another occupant.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from chatd.xmpp.ns import NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS

log = logging.getLogger("chatd.xmpp")

NS_ADDRESS = "http://jabber.org/protocol/address"
DISCO_PREFIX = "chatd-multicast-"
DEFAULT_LIMIT = 20  # XEP-0033 leaves the limit to the service; ejabberd's own default for chatd's domains


@dataclass(frozen=True, slots=True)
class Service:
    """A multicast service: its address and how many addresses one message may carry."""

    jid: str
    limit: int = DEFAULT_LIMIT


class Discovery:
    """One stream's search for the server's multicast service; `service` is None until it is found."""

    def __init__(
        self, domain: str, server: str, send: Callable[[bytes], None], own_domains: frozenset[str] = frozenset()
    ):
        self.domain = domain
        self.server = server
        self.send = send
        self.own_domains = own_domains | {domain}  # chatd's: never asked (they are not the service)
        self.service: Service | None = None
        self.bounced = 0  # stanzas the service refused (multicast is then off until the next session)
        self._round = 0
        self._asked: dict[str, str] = {}  # iq id -> the item asked

    def start(self) -> None:
        """A new session: forget the service and ask the server again."""
        self.service = None
        self._round += 1
        self._asked = {}
        if self.server:
            self._ask(f"{DISCO_PREFIX}{self._round}-items", self.server, NS_DISCO_ITEMS)

    def _ask(self, iq_id: str, to: str, namespace: str) -> None:
        self._asked[iq_id] = to
        self.send(
            f"<iq type='get' id={quoteattr(iq_id)} from={quoteattr(self.domain)} to={quoteattr(to)}>"
            f"<query xmlns='{namespace}'/></iq>".encode()
        )

    def received(self, element: ET.Element) -> bool:
        """An answer to the search, or a bounce from the service: handled here (True); anything else: False."""
        if self.service is not None and element.get("from") == self.service.jid and element.get("type") == "error":
            self.bounced += 1
            log.warning("stream %s: the multicast service refused a stanza; copies go one by one", self.domain)
            self.service = None
            return True
        iq_id = element.get("id") or ""
        if not iq_id.startswith(DISCO_PREFIX) or not element.tag.endswith("}iq"):
            return False
        asked = self._asked.pop(iq_id, None)
        if asked is None or element.get("type") != "result" or self.service is not None:
            return True  # an earlier session's, or an error: nothing to learn
        query = element.find(f"{{{NS_DISCO_ITEMS}}}query")
        if query is not None:
            items = (item.get("jid", "") for item in query.findall(f"{{{NS_DISCO_ITEMS}}}item"))
            services = [
                jid for jid in items if jid and "@" not in jid and "/" not in jid and jid not in self.own_domains
            ]
            for index, jid in enumerate([self.server, *services]):
                self._ask(f"{DISCO_PREFIX}{self._round}-info-{index}", jid, NS_DISCO_INFO)
            return True
        info = element.find(f"{{{NS_DISCO_INFO}}}query")
        if info is not None and any(f.get("var") == NS_ADDRESS for f in info.findall(f"{{{NS_DISCO_INFO}}}feature")):
            self.service = Service(asked, _limit(info))
            log.info("stream %s: multicast through %s, %d addresses a stanza", self.domain, asked, self.service.limit)
        return True


def _limit(info: ET.Element) -> int:
    """The `message` limit of the service's XEP-0128 form (FORM_TYPE XEP-0033), else the default."""
    for form in info.findall(f"{{{NS_DATA}}}x"):
        fields = {f.get("var"): f.findtext(f"{{{NS_DATA}}}value", "") for f in form.findall(f"{{{NS_DATA}}}field")}
        if fields.get("FORM_TYPE") == NS_ADDRESS and (fields.get("message") or "").isdigit():
            return max(1, int(fields["message"] or 0))
    return DEFAULT_LIMIT


def stanzas(service: Service, head: bytes, tail: bytes, recipients: Sequence[bytes]) -> list[bytes]:
    """The stanza (head `<message to=`, tail from the attributes after `to` on) to the service, once per
    chunk of at most the service's limit, each recipient (a quoted address) a bcc address."""
    body, close = tail[: tail.rindex(b"</")], tail[tail.rindex(b"</") :]
    opening = head + quoteattr(service.jid).encode() + body + f"<addresses xmlns='{NS_ADDRESS}'>".encode()
    limit = service.limit
    out = []
    for start in range(0, len(recipients), limit):
        addresses = b"".join(b"<address type='bcc' jid=" + r + b"/>" for r in recipients[start : start + limit])
        out.append(opening + addresses + b"</addresses>" + close)
    return out
