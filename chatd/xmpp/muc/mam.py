"""MAM (XEP-0313) on room addresses, with RSM paging."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from chatd.core.model import Member
from chatd.core.refusal import Refusal, Refused
from chatd.core.rooms import Room
from chatd.ids import new_stanza_id
from chatd.store.rooms import ArchiveQuery
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.base import MucBase
from chatd.xmpp.muc.payloads import (
    attrs,
    child,
    data_form,
    form_values,
    number,
    parse_stamp,
    stamp,
)
from chatd.xmpp.ns import (
    NS_CLIENT,
    NS_DATA,
    NS_DELAY,
    NS_FORWARD,
    NS_MAM,
    NS_RSM,
)
from chatd.xmpp.stream import ComponentStream

MAM_PAGE = 50  # results per page at most


class MamMixin(MucBase):
    async def _on_mam(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        if element.get("type") == "get":
            fields = [(var, "text-single", ()) for var in ("with", "start", "end", "before-id", "after-id", "ids")]
            form = data_form("form", NS_MAM, fields)
            stream.send_nowait(st.build_iq_result(element, f"<query xmlns='{NS_MAM}'>{form}</query>"))
            return
        try:
            search = self._archive_query(form_values(child(query, NS_DATA, "x")), child(query, NS_RSM, "set"))
            records, complete = await self.store.rooms.search(room.key, search)
        except KeyError:  # an RSM or MAM anchor id that is not in this archive
            raise Refused(Refusal("item-not-found", "error.malformed")) from None
        except ValueError:
            raise Refused(Refusal("bad-request", "error.malformed", kind="modify")) from None
        full = quoteattr(element.get("from", "")).encode()
        queryid = query.get("queryid")
        room_jid = self._jid(room)
        results = [
            self._addressed(
                b"<message to=",
                full,
                f"{attrs(from_=room_jid, id=new_stanza_id())}>"
                f"<result{attrs(xmlns=NS_MAM, queryid=queryid, id=r.stanza_id)}>"
                f"<forwarded xmlns='{NS_FORWARD}'><delay{attrs(xmlns=NS_DELAY, stamp=stamp(r.created_at))}/>"
                f"<message xmlns='{NS_CLIENT}'{self._message_tail(room, r).decode()}"
                "</forwarded></result></message>",
            )
            for r in records
        ]
        await self._send(stream, results)
        page = f"<first index='0'>{records[0].stanza_id}</first><last>{records[-1].stanza_id}</last>" if records else ""
        fin = (
            f"<fin{attrs(xmlns=NS_MAM, complete='true' if complete else None)}><set xmlns='{NS_RSM}'>{page}</set></fin>"
        )
        await stream.send(st.build_iq_result(element, fin))

    def _archive_query(self, form: dict[str, str], rsm: ET.Element | None) -> ArchiveQuery:
        sender_id = None
        if form.get("with"):
            jid = st.split_jid(form["with"])
            author = self.directory.by_pseudonym(self.realm.id, jid[2]) if jid else None
            sender_id = author.id if author is not None else -1
        ids = tuple(form["ids"].split()) if form.get("ids") else ()
        limit, after, before = MAM_PAGE, form.get("after-id") or None, form.get("before-id") or None
        if rsm is not None:
            requested = number(rsm.findtext(f"{{{NS_RSM}}}max"))
            limit = MAM_PAGE if requested is None else min(requested, MAM_PAGE)
            after = rsm.findtext(f"{{{NS_RSM}}}after") or after
            before_element = rsm.find(f"{{{NS_RSM}}}before")
            if before_element is not None:
                before = before_element.text or ""
        return ArchiveQuery(
            start=parse_stamp(form["start"]) if form.get("start") else None,
            end=parse_stamp(form["end"]) if form.get("end") else None,
            sender_id=sender_id,
            after_id=after,
            before_id=before,
            ids=ids,
            limit=limit,
        )
