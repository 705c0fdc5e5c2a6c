"""XEP-0033 (Extended Stanza Addressing): a room's fan-out as one stanza to the server's multicast service.

ejabberd offers the service (mod_multicast, open to chatd's domains only: docs/ejabberd.md); Prosody does not,
and there each copy is written on its own, as before. Each component stream looks for the service when its
session starts (again after every reconnect): the server's disco#items, then disco#info of each item, for the
feature `http://jabber.org/protocol/address`; the service's limit of addresses per stanza comes from the same
answer (XEP-0128 field `message`). Until it is found, copies go one by one. A stanza the service refuses
comes back with its addresses: each of them then gets its copy directly (the stream keeps the last stanzas'
contents for that), and multicast is off until the stream's next session.

Recipients are `bcc` addresses: the service strips them, so no copy names another occupant.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from chatd.xmpp.ns import NS_DATA, NS_DISCO_INFO, NS_DISCO_ITEMS

log = logging.getLogger("chatd.xmpp")

NS_ADDRESS = "http://jabber.org/protocol/address"
DISCO_PREFIX = "chatd-multicast-"
DEFAULT_LIMIT = 20  # XEP-0033 leaves the limit to the service; ejabberd's own default for chatd's domains
KEPT = 256  # recent multicast stanzas whose copies can still be sent directly if the service refuses them
STANZA_ID = re.compile(rb"""^[^>]*?\sid=(["'])([^"']*)\1""")


@dataclass(frozen=True, slots=True)
class Service:
    """A multicast service: its address and how many addresses one message may carry."""

    jid: str
    limit: int = DEFAULT_LIMIT


class Multicast:
    """One stream's use of the server's multicast service: the search (`service` is None until it is found),
    the stanzas, and what the service refused."""

    def __init__(
        self, domain: str, server: str, send: Callable[[bytes], None], own_domains: frozenset[str] = frozenset()
    ):
        self.domain = domain
        self.server = server
        self.send = send
        self.own_domains = own_domains | {domain}  # chatd's: never asked (they are not the service)
        self.service: Service | None = None
        self.bounced = 0  # stanzas the service refused (multicast is then off until the next session)
        self.sent = 0  # stanzas to the service
        self._round = 0
        self._asked: dict[str, str] = {}  # iq id -> the item asked
        self._refusing = ""  # the service whose refusals are recognised (also once multicast is off)
        self._kept: OrderedDict[bytes, tuple[bytes, bytes]] = OrderedDict()  # stanza id -> (head, tail)

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
        refused = self._refusing and element.get("from") == self._refusing and element.get("type") == "error"
        if refused and not element.tag.endswith("}iq"):  # a message or presence it sent back
            self._refused(element)
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
            self._refusing = asked
            log.info("stream %s: multicast through %s, %d addresses a stanza", self.domain, asked, self.service.limit)
        return True

    def stanzas(self, service: Service, head: bytes, tail: bytes, recipients: Sequence[bytes]) -> list[bytes]:
        """The stanzas to the service for these recipients, remembered in case the service refuses them."""
        found = STANZA_ID.match(tail)
        if found is not None:
            self._kept[found.group(2)] = (head, tail)
            self._kept.move_to_end(found.group(2))
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        out = stanzas(service, head, tail, recipients)
        self.sent += len(out)
        return out

    def _refused(self, element: ET.Element) -> None:
        """A stanza the service refused: multicast off until the next session; its recipients get their copies."""
        self.bounced += 1
        self.service = None
        kept = self._kept.get((element.get("id") or "").encode())
        addresses = [a.get("jid", "") for a in element.iter(f"{{{NS_ADDRESS}}}address")]
        log.warning(
            "stream %s: the multicast service refused a stanza (%d addresses%s); copies go one by one",
            self.domain,
            len(addresses),
            "" if kept else ", its content no longer kept: not sent",
        )
        if kept is not None:
            head, tail = kept
            for jid in filter(None, addresses):
                self.send(head + quoteattr(jid).encode() + tail)


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
