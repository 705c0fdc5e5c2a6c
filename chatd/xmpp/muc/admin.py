"""muc#admin (member lists, adding and removing members, kicks) and muc#owner (a group's name and description)."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

from chatd.core import rooms as core
from chatd.core.model import Member
from chatd.core.refusal import Refusal, Refused, checked
from chatd.core.rooms import Room
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.base import MucBase
from chatd.xmpp.muc.payloads import (
    attrs,
    child,
    data_form,
    form_values,
    no_delivery,
)
from chatd.xmpp.ns import (
    NS_DATA,
    NS_MUC,
    NS_MUC_ADMIN,
    NS_MUC_OWNER,
)
from chatd.xmpp.stream import ComponentStream
from policies import Field

log = logging.getLogger("chatd.rooms")

# What every group is, shown in its configuration form so that a client's "private group" settings
# (Conversations, Gajim) find their fields; submitted values for them change nothing.
GROUP_SETTINGS: list[tuple[str, str | None, list[str]]] = [
    ("muc#roomconfig_persistentroom", "boolean", ["1"]),
    ("muc#roomconfig_membersonly", "boolean", ["1"]),
    ("muc#roomconfig_publicroom", "boolean", ["0"]),
    ("muc#roomconfig_whois", "list-single", ["anyone"]),
    ("muc#roomconfig_changesubject", "boolean", ["0"]),
    ("muc#roomconfig_allowinvites", "boolean", ["0"]),
    ("muc#roomconfig_enablearchiving", "boolean", ["1"]),
]


class AdminMixin(MucBase):
    async def _on_admin(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        items = query.findall(f"{{{NS_MUC_ADMIN}}}item")
        if element.get("type") == "get":
            wanted = {i.get("affiliation") for i in items}
            listed = []
            for member_id, pseudonym in await self.store.rooms.members(room.realm, room.local):
                affiliation = "owner" if member_id == room.owner_id else "member"
                if affiliation in wanted:
                    jid = f"{pseudonym}@{self.realm.people_domain}"  # the pseudonym's address, never the account
                    listed.append(f"<item{attrs(affiliation=affiliation, jid=jid, nick=pseudonym)}/>")
            entries = "".join(listed)
            stream.send_nowait(st.build_iq_result(element, f"<query xmlns='{NS_MUC_ADMIN}'>{entries}</query>"))
            return
        checked(core.may_manage(room, member))
        for item in items:
            checked(await self._admin_change(stream, room, member, item))
        stream.send_nowait(st.build_iq_result(element))

    async def _admin_change(
        self, stream: ComponentStream, room: Room, member: Member, item: ET.Element
    ) -> Refusal | None:
        target = self._item_member(room, item)
        if target is None:
            return Refusal(
                "item-not-found",
                "error.room_unknown_occupant",
                params={"name": item.get("nick") or item.get("jid") or ""},
            )
        affiliation, role = item.get("affiliation"), item.get("role")
        if target.id == room.owner_id or (role is None and affiliation is None):
            return Refusal("not-allowed", "error.room_not_allowed")
        occupant = room.occupants.get(target.id)
        if role == "none" and affiliation is None:
            if occupant is not None:
                await self._remove(stream, room, occupant, "307")
            return None
        if not room.is_group or affiliation not in ("member", "none"):
            return Refusal("not-allowed", "error.room_not_allowed")
        on = affiliation == "member"
        await self.store.rooms.set_member(room.realm, room.local, target.id, on)
        (room.members.add if on else room.members.discard)(target.id)
        self._changed(room)
        if not on and occupant is not None:
            await self._remove(stream, room, occupant, "321")
        return None

    def _item_member(self, room: Room, item: ET.Element) -> Member | None:
        if item.get("nick"):
            return self.directory.by_pseudonym(self.realm.id, item.get("nick", ""))
        jid = st.split_jid(item.get("jid"))
        if jid is None or jid[1] != self.realm.people_domain:
            return None
        return self.directory.by_pseudonym(self.realm.id, jid[0])

    async def _on_owner(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        refusal = (
            core.may_manage(room, member)
            if room.is_group
            else Refusal("forbidden", "error.room_guides_only", kind="auth")
        )
        checked(refusal)
        if element.get("type") == "get":
            fields = [
                ("muc#roomconfig_roomname", "text-single", [room.name]),
                ("muc#roomconfig_roomdesc", "text-single", [room.description]),
                *GROUP_SETTINGS,
            ]
            form = data_form("form", f"{NS_MUC}#roomconfig", fields)
            stream.send_nowait(st.build_iq_result(element, f"<query xmlns='{NS_MUC_OWNER}'>{form}</query>"))
            return
        if child(query, NS_MUC_OWNER, "destroy") is not None:
            raise Refused(Refusal("feature-not-implemented", "error.unavailable"))
        values = form_values(child(query, NS_DATA, "x"))
        name, description = room.name, room.description
        for var, field_kind in (
            ("muc#roomconfig_roomname", Field.GROUP_NAME),
            ("muc#roomconfig_roomdesc", Field.GROUP_DESCRIPTION),
        ):
            text = values.get(var, "").strip()
            if not text or text == (name if field_kind is Field.GROUP_NAME else description):
                continue
            reply = self._reply(stream, element, room, member, no_delivery)
            delivered = (
                await self.executor.submit(self._event(room, member, text, field_kind, "config"), reply)
            ).delivered
            if delivered is None:
                return
            if field_kind is Field.GROUP_NAME:
                name = delivered
            else:
                description = delivered
        if (name, description) != (room.name, room.description):
            await self.store.rooms.set_name(room.realm, room.local, name, description)
            room.name, room.description = name, description
            self._changed(room)
        stream.send_nowait(st.build_iq_result(element))
