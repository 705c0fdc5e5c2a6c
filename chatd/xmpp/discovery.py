"""What clients discover beside chat: the services a member sees, and the profiles pseudonyms do not have.

- The server's own service list: Prosody (conf/prosody/mod_chatd_disco.lua) asks each realm's
  people domain which services an account sees; a member sees the realm's rooms service (Wall
  Guides also the watch domain; every member the upload service when it is on), anyone else
  nothing. Conversations and Gajim find a MUC service only there.
- Pseudonym addresses and room occupants publish nothing: a PEP/pubsub request (OMEMO device
  lists in both namespaces, bundles, avatars, nicknames) or a vCard request gets item-not-found
  at once, so a client that defaults to encryption learns there are no keys and sends in plain text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chatd import i18n
from chatd.core.model import Directory, Realm
from chatd.core.refusal import Refusal
from chatd.core.rooms import is_guide
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.payloads import attrs
from chatd.xmpp.ns import NS_CHATD_SERVICES, NS_PUBSUB, NS_VCARD, NS_VCARD4

PROFILE_NAMESPACES = (NS_PUBSUB, NS_VCARD, NS_VCARD4)
NOTHING_PUBLISHED = Refusal("item-not-found", "error.nothing_published")


def is_profile_request(query: ET.Element | None) -> bool:
    """A PEP/pubsub or vCard request: pseudonyms answer it with NOTHING_PUBLISHED."""
    return query is not None and st.namespace(query.tag) in PROFILE_NAMESPACES


def is_services_request(element: ET.Element, members_host: str) -> bool:
    """The server itself (never a member: its address has no local part) asking which services an account sees."""
    query = st.payload(element)
    return (
        element.get("from") == members_host
        and element.get("type") == "get"
        and query is not None
        and query.tag == f"{{{NS_CHATD_SERVICES}}}query"
    )


def services_answer(
    element: ET.Element, realm: Realm, directory: Directory, watch_domain: str, upload_domain: str = ""
) -> str:
    """The services of this realm the account sees: none unless it is an active member of this realm.

    With the upload service on, members see it too (clients look for XEP-0363 among the server's items)."""
    query = st.payload(element)
    member = directory.by_account(query.get("account", "")) if query is not None else None
    items: list[str] = []
    if member is not None and member.active and member.realm == realm.id:
        shown = [(realm.rooms_domain, "room.service_name")]
        if is_guide(member):
            shown.append((watch_domain, "watch.service_name"))
        if upload_domain:
            shown.append((upload_domain, "upload.service_name"))
        items = [f"<item{attrs(jid=d, name=i18n.text(realm.language, key))}/>" for d, key in shown]
    return st.build_iq_result(element, f"<query xmlns='{NS_CHATD_SERVICES}'>{''.join(items)}</query>")
