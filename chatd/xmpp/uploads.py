"""The upload component (XEP-0363): members ask it for a slot, then PUT and share the GET URL.

Only active members get slots; the size and content type are checked against the config, and a
refusal says why in the member's language (XEP-0363's file-too-large carries the limit). The
files themselves are served by chatd's HTTP side (chatd.uploads.service).
"""

from __future__ import annotations

import logging
import mimetypes
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from chatd import i18n
from chatd.core.model import Directory, Member, Realm, Role
from chatd.core.refusal import Refusal
from chatd.ports import Languages
from chatd.uploads.service import Uploads
from chatd.xmpp import stanza as st
from chatd.xmpp.muc.payloads import attrs
from chatd.xmpp.ns import NS_DATA, NS_DISCO_INFO, NS_UPLOAD
from chatd.xmpp.stream import ComponentStream

log = logging.getLogger("chatd.uploads")


class UploadDomain:
    def __init__(
        self, domain: str, members_host: str, uploads: Uploads, directory: Directory, realms: dict[str, Realm]
    ):
        self.domain = domain
        self.members_host = members_host
        self.uploads = uploads
        self.directory = directory
        self.languages = Languages(realms)

    def handle(self, stream: ComponentStream, element: ET.Element) -> None:
        kind, sender, _target = st.addresses(element)
        if kind != "iq" or sender is None or element.get("type") not in ("get", "set"):
            return
        member = self.directory.by_account(f"{sender[0]}@{sender[1]}") if sender[1] == self.members_host else None
        query = st.payload(element)
        if query is not None and query.tag == f"{{{NS_DISCO_INFO}}}query" and element.get("type") == "get":
            stream.send_nowait(st.build_iq_result(element, self._disco_info(member)))
        elif query is None or query.tag != f"{{{NS_UPLOAD}}}request" or element.get("type") != "get":
            self._refuse(stream, element, Refusal("service-unavailable", "upload.unsupported"), member)
        elif member is None or not member.active:
            self._refuse(stream, element, Refusal("forbidden", "error.not_member", kind="auth", bilingual=True), None)
        else:
            self._slot(stream, element, query, member)

    def _disco_info(self, member: Member | None) -> str:
        language = self.languages.of(member) if member is not None else "en"
        limit = (
            f"<x xmlns='{NS_DATA}' type='result'>"
            f"<field var='FORM_TYPE' type='hidden'><value>{NS_UPLOAD}</value></field>"
            f"<field var='max-file-size'><value>{self.uploads.settings.max_bytes}</value></field></x>"
        )
        info = st.disco_info([("store", "file", i18n.text(language, "upload.service_name"))], [NS_UPLOAD])
        return info.replace("</query>", limit + "</query>")

    def _slot(self, stream: ComponentStream, element: ET.Element, query: ET.Element, member: Member) -> None:
        settings = self.uploads.settings
        filename = query.get("filename", "")
        size = query.get("size", "")
        content_type = (query.get("content-type") or mimetypes.guess_type(filename)[0] or "").lower()
        if not filename or not size.isdigit() or int(size) <= 0:
            self._refuse(stream, element, Refusal("bad-request", "upload.bad_request", kind="modify"), member)
            return
        if int(size) > settings.max_bytes:
            limit = str(settings.max_bytes)
            refusal = Refusal("not-acceptable", "upload.too_large", kind="modify", params={"max": _megabytes(limit)})
            too_large = f"<file-too-large xmlns='{NS_UPLOAD}'><max-file-size>{limit}</max-file-size></file-too-large>"
            self._refuse(stream, element, refusal, member, too_large)
            return
        if content_type not in settings.content_types:
            allowed = ", ".join(settings.content_types)
            refusal = Refusal("not-acceptable", "upload.type_refused", kind="modify", params={"types": allowed})
            self._refuse(stream, element, refusal, member)
            return
        trusted = member.role is not Role.MEMBER  # their texts are not held (the policy's trusted roles)
        slot = self.uploads.new_slot(filename, int(size), content_type, trusted)
        url = self.uploads.url(slot)
        answer = (
            f"<slot xmlns='{NS_UPLOAD}'><put{attrs(url=url)}>"
            f"<header name='Content-Type'>{escape(content_type)}</header></put><get{attrs(url=url)}/></slot>"
        )
        stream.send_nowait(st.build_iq_result(element, answer))

    def _refuse(
        self,
        stream: ComponentStream,
        element: ET.Element,
        refusal: Refusal,
        member: Member | None,
        application: str = "",
    ) -> None:
        st.refuse(stream, element, refusal, self.languages.texts(refusal, member), application)


def _megabytes(size: str) -> str:
    return f"{int(size) / (1024 * 1024):.1f}"
