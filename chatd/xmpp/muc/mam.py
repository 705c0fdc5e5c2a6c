"""MAM (XEP-0313) on room addresses, with RSM paging."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import ClassVar
from xml.sax.saxutils import quoteattr

from chatd.core.model import Member
from chatd.core.refusal import Refusal, Refused
from chatd.core.rooms import Room
from chatd.core.search import match_expression
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
    NS_FULLTEXT,
    NS_MAM,
    NS_RSM,
)
from chatd.xmpp.stream import ComponentStream

MAM_PAGE = 50  # results per page at most
# the full-text filter's field: XEP-0431's, and ejabberd's older name for it, which some clients send instead
FULLTEXT_FIELDS = (f"{{{NS_FULLTEXT}}}fulltext", "withtext")


class MamMixin(MucBase):
    # XEP-0431 on the room's archive: its words are matched as in "!search" (chatd.core.search), against what
    # members saw; shadow rooms (their lines are guides' only) are not indexed and say so
    searchable: ClassVar[bool] = True

    async def _on_mam(
        self, stream: ComponentStream, element: ET.Element, member: Member, room: Room, query: ET.Element
    ) -> None:
        if element.get("type") == "get":
            names = ["with", "start", "end", "before-id", "after-id", "ids"]
            fields = [(var, "text-single", ()) for var in names + ([FULLTEXT_FIELDS[0]] if self.searchable else [])]
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
        blocked = {b.id for b in self.directory.blocked_by(member)}  # as live: never what someone blocked wrote
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
            if r.sender_id not in blocked
        ]
        await self._send(stream, results)  # the page's anchors stay the archive's, so paging goes on past them
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
            match=self._fulltext(form),
            start=parse_stamp(form["start"]) if form.get("start") else None,
            end=parse_stamp(form["end"]) if form.get("end") else None,
            sender_id=sender_id,
            after_id=after,
            before_id=before,
            ids=ids,
            limit=limit,
        )

    def _fulltext(self, form: dict[str, str]) -> str | None:
        """The full-text query of a MAM form's words (XEP-0431), or None when the form has none."""
        words = next((form[var] for var in FULLTEXT_FIELDS if form.get(var, "").strip()), "")
        if not words:
            return None
        if not self.searchable:
            raise Refused(Refusal("feature-not-implemented", "error.unavailable"))
        match = match_expression(words)
        if match is None:
            raise Refused(Refusal("bad-request", "error.search_words", kind="modify"))
        return match
