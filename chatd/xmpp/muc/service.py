"""The MUC dispatcher both MUC services share (a realm's rooms domain, and the shadow rooms on the
watch domain): every stanza for a room runs in that room's queue, in arrival order; presence, messages,
admin and owner, MAM by concern in this folder; disco and pings here."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from typing import ClassVar

from chatd import i18n
from chatd.core import rooms as core
from chatd.core.direct import admit_sender
from chatd.core.model import Member
from chatd.core.refusal import Refusal, Refused
from chatd.core.rooms import Room
from chatd.xmpp import discovery
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.admin import AdminMixin
from chatd.xmpp.muc.mam import MamMixin
from chatd.xmpp.muc.messages import MessagesMixin
from chatd.xmpp.muc.payloads import data_form
from chatd.xmpp.muc.presence import PresenceMixin
from chatd.xmpp.ns import (
    NS_DISCO_INFO,
    NS_DISCO_ITEMS,
    NS_FASTEN,
    NS_FULLTEXT,
    NS_MAM,
    NS_MARKERS,
    NS_MODERATE,
    NS_MODERATE_0,
    NS_MUC,
    NS_MUC_ADMIN,
    NS_MUC_OWNER,
    NS_OCCUPANT_ID,
    NS_PING,
    NS_REACTIONS,
    NS_REPLY,
    NS_RETRACT,
    NS_RETRACT_0,
    NS_SELF_PING,
    NS_SID,
)
from chatd.xmpp.stream import ComponentStream

log = logging.getLogger("chatd.rooms")
TAGS_NODE = "tags"  # disco#items on the service with this node: a node per topic-room tag
TAG_NODE = "tag:"  # "tag:military": the topic rooms tagged military
RESERVED_NICK = "x-roomuser-item"  # XEP-0045 §7.12: the join dialog asks the room for the member's nickname

ROOM_FEATURES = [
    NS_DISCO_INFO,
    NS_MUC,
    "muc_persistent",
    "muc_unmoderated",
    "muc_unsecured",
    NS_MAM,
    NS_SID,
    NS_OCCUPANT_ID,
    NS_SELF_PING,
    NS_PING,
    NS_MODERATE,
    NS_MODERATE_0,
    NS_RETRACT,
    f"{NS_RETRACT}#tombstone",
    NS_RETRACT_0,
    f"{NS_MUC}#stable_id",  # XEP-0045 §17.1.6: the room's stanza-ids are stable
    NS_REPLY,
    NS_REACTIONS,
    NS_MARKERS,
]


class MucService(PresenceMixin, MessagesMixin, AdminMixin, MamMixin):
    """One dispatcher for a MUC service's stanzas: `handle` serves every stanza the same way on both services
    (members' rooms, chatd/xmpp/rooms.py; Wall Guides' shadow rooms, chatd/xmpp/watch.py) and asks the service
    only through these hooks, which a service inherits (members' rooms' behaviour) or provides:

    - `_admit(sender)`: the member behind a sender, or the refusal (members of the realm; guides of the realm).
    - `_room(local)`: the room at an address, or None. With `makes_groups` (a join to an address without a room
      makes a group), stanzas to such addresses are served; without it, they are refused (item-not-found, or
      the sender's refusal) before anything else. Shadow rooms are made on first use here.
    - `_on_service(...)`: stanzas to the service's own address: disco (named by `service_name` with
      `service_features`), ping; on the watch domain also ad-hoc commands, in the queue room's order.
    - `_on_invite(...)`: a mediated invitation (muc/messages.py: members invite members; nobody into a shadow).
    - `_on_groupchat(...)`: an occupant's groupchat text (muc/messages.py: through the pipeline to the room;
      in a shadow room: a guide's command, reply to a member, or talk among guides).
    """

    makes_groups: ClassVar[bool] = True
    service_name: ClassVar[str] = "room.service_name"  # an i18n key
    service_features: ClassVar[tuple[str, ...]] = (NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_MUC, NS_MAM)

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        self.counters.stanzas_in += 1
        kind, sender, target = st.addresses(element)
        if sender is None:
            self.counters.dropped += 1
            return
        if element.get("type") == "error":
            if target is not None and target[0] and self._room(target[0]) is not None and kind != "iq":
                self._submit(target[0], lambda: self._drop_ghost(stream, element, target[0]))
            return
        if target is None or target[1] != self.domain:
            self._refuse(stream, element, Refusal("jid-malformed", "error.malformed", kind="modify"), None)
            return
        member = self._admit(sender)
        unknown = bool(target[0]) and not self.makes_groups and self._room(target[0]) is None
        if isinstance(member, Refusal):
            if unknown or kind != "presence" or element.get("type") in (None, "subscribe", "probe"):
                self._refuse(stream, element, member, None)
            return
        try:
            if unknown:
                raise Refused(Refusal("item-not-found", "error.room_not_found", params={"name": target[0]}))
            self._dispatch(stream, element, member, kind, target[0], target[2])
        except Refused as refused:
            self._refuse(stream, element, refused.refusal, member)

    def _admit(self, sender: tuple[str, str, str]) -> Member | Refusal:
        return admit_sender(sender, self.config.server.members_host, self.realm, self.directory)

    def _room(self, local: str) -> Room | None:
        return self.rooms.get(local)

    def _dispatch(
        self, stream: ComponentStream, element: ET.Element, member: Member, kind: str, local: str, nick: str
    ) -> None:
        """An admitted member's stanza: to the concern that serves it (a refusal raised there answers it)."""
        self._check_size(element)
        if not local:
            self._on_service(stream, element, member)
        elif kind == "presence":
            self._serve(stream, element, member, local, lambda: self._on_presence(stream, element, member, local, nick))
        elif kind == "message":
            self._on_message(stream, element, member, local, nick)
        elif kind == "iq":
            self._serve(stream, element, member, local, lambda: self._on_iq(stream, element, member, local, nick))

    def _check_size(self, element: ET.Element) -> None:
        if st.size(element) > self.config.limits.max_stanza_bytes:
            raise Refused(Refusal("policy-violation", "error.too_large", kind="modify"))

    async def _on_iq(self, stream: ComponentStream, element: ET.Element, member: Member, local: str, nick: str) -> None:
        kind = element.get("type")
        if kind not in ("get", "set"):
            return
        query = st.payload(element)
        ns = st.namespace(query.tag) if query is not None else ""
        room = self.rooms.get(local)
        asks_nick = ns == NS_DISCO_INFO and query is not None and query.get("node") == RESERVED_NICK and not nick
        if asks_nick and (room is None or room.visible_to(member)):  # XEP-0045 §7.12: a new group's name too
            identity = [("conference", "text", member.pseudonym)]
            stream.send_nowait(st.build_iq_result(element, st.disco_info(identity, [], node=RESERVED_NICK)))
            return
        if room is None or not room.visible_to(member):
            raise Refused(Refusal("item-not-found", "error.room_not_found", params={"name": local}))
        if nick:
            self._on_occupant_iq(stream, element, member, room, nick, ns)
        elif kind == "get" and ns == NS_DISCO_INFO:
            stream.send_nowait(st.build_iq_result(element, self._room_info(room)))
        elif kind == "get" and ns == NS_DISCO_ITEMS:
            stream.send_nowait(st.build_iq_result(element, st.disco_items([])))
        elif kind == "get" and ns == NS_PING:
            stream.send_nowait(st.build_iq_result(element))
        elif ns == NS_MAM and query is not None:
            await self._on_mam(stream, element, member, room, query)
        elif ns == NS_MUC_ADMIN and query is not None:
            await self._on_admin(stream, element, member, room, query)
        elif ns == NS_MUC_OWNER and query is not None:
            await self._on_owner(stream, element, member, room, query)
        elif ns in (NS_MODERATE, NS_FASTEN) and query is not None:
            await self._on_moderate(stream, element, member, room, query)
        else:
            raise Refused(Refusal("service-unavailable", "error.unavailable"))

    def _on_occupant_iq(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, nick: str, ns: str
    ) -> None:
        """XEP-0410 self-ping is answered by the room; other iqs to occupants are not passed on."""
        occupant = room.occupant_of(element.get("from", ""))
        if occupant is None:
            raise Refused(Refusal("not-acceptable", "error.room_not_joined"))
        if discovery.is_profile_request(st.payload(element)):
            raise Refused(discovery.NOTHING_PUBLISHED)
        if ns != NS_PING or not core.is_own_nick(occupant, element.get("from", ""), nick):
            raise Refused(Refusal("feature-not-implemented", "error.unavailable"))
        stream.send_nowait(st.build_iq_result(element))

    def _on_service(self, stream: ComponentStream, element: ET.Element, member: Member) -> None:
        """Stanzas to the service's own address: discovery and ping."""
        if st.local_name(element.tag) != "iq":
            raise Refused(Refusal("service-unavailable", "error.unavailable"))
        query = st.payload(element)
        ns = st.namespace(query.tag) if query is not None else ""
        node = (query.get("node") or "") if query is not None else ""
        if element.get("type") == "get" and ns == NS_DISCO_INFO and (node == TAGS_NODE or node.startswith(TAG_NODE)):
            language = self.realm.language
            tag = node.removeprefix(TAG_NODE)
            name = i18n.text(language, "room.tags_node") if node == TAGS_NODE else i18n.tag_name(language, tag)
            stream.send_nowait(
                st.build_iq_result(element, st.disco_info([("hierarchy", "branch", name)], [NS_DISCO_ITEMS], node))
            )
        elif element.get("type") == "get" and ns == NS_DISCO_INFO:
            identity = ("conference", "text", i18n.text(self.realm.language, self.service_name))
            stream.send_nowait(st.build_iq_result(element, st.disco_info([identity], list(self.service_features))))
        elif element.get("type") == "get" and ns == NS_DISCO_ITEMS:
            stream.send_nowait(st.build_iq_result(element, self._service_items(member, node)))
        elif element.get("type") == "get" and ns == NS_PING:
            stream.send_nowait(st.build_iq_result(element))
        else:
            raise Refused(Refusal("service-unavailable", "error.unavailable"))

    def _service_items(self, member: Member, node: str) -> str:
        """The room directory (XEP-0030): every room the member sees; node "tags": a node per topic-room tag;
        node "tag:TAG": the topic rooms with that tag (private groups are never listed by tag)."""
        if not node:
            items = [(self._jid(r), r.name) for r in self.rooms.values() if r.visible_to(member)]
            return st.disco_items(sorted(items))
        topics = [r for r in self.rooms.values() if not r.is_group and r.visible_to(member)]
        if node == TAGS_NODE:
            tags = sorted({t for r in topics for t in r.tags})
            nodes = [(f"{TAG_NODE}{t}", i18n.tag_name(self.realm.language, t)) for t in tags]
            return st.disco_node_items(self.domain, nodes, node)
        if node.startswith(TAG_NODE):
            tag = node.removeprefix(TAG_NODE)
            return st.disco_items(sorted((self._jid(r), r.name) for r in topics if tag in r.tags), node)
        raise Refused(Refusal("item-not-found", "error.unavailable"))

    def _room_info(self, room: Room) -> str:
        """Groups are private groups to clients (members-only, non-anonymous); topic rooms public channels."""
        group = ["muc_membersonly", "muc_hidden", "muc_nonanonymous"]
        kind = group if room.is_group else ["muc_open", "muc_public", "muc_semianonymous"]
        searchable = [NS_FULLTEXT] if self.searchable else []
        info = st.disco_info([("conference", "text", room.name)], ROOM_FEATURES + searchable + kind)
        form = data_form(
            "result",
            f"{NS_MUC}#roominfo",
            [
                ("muc#roomconfig_roomname", None, [room.name]),
                ("muc#roominfo_description", None, [room.description]),
                ("muc#roominfo_occupants", None, [str(len(room.occupants))]),
                ("muc#roominfo_subject", None, [room.shown_subject]),
                ("muc#roominfo_lang", None, [self.realm.language]),
                ("x-chatd#tags", "text-multi", list(room.tags)),
            ],
        )
        return info.removesuffix("</query>") + form + "</query>"
