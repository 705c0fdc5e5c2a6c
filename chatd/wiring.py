"""Composition: each component made with the parts it uses, from what the composition root made once.

The only place (with chatd/app.py) that reads a Runtime; components get their ports through their
constructors (chatd/ports.py). Tests build components here too (tests/support/harness.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chatd.actions import Actions
from chatd.core.model import Realm
from chatd.core.shadow import Reviewed
from chatd.core.window import RecentTexts
from chatd.desk import Desk, DeskParts
from chatd.executor import Executor, Reviewer
from chatd.follows import Follows
from chatd.guide_actions import GuideActions, PostLine
from chatd.peers import LINE, ROOM
from chatd.recovery import Recovery
from chatd.runtime import Runtime
from chatd.store.audit import AuditLog
from chatd.store.follows import FollowStore
from chatd.store.guides import GuideStore
from chatd.uploads.files import UploadFiles
from chatd.uploads.service import Uploads, upload_folder
from chatd.xmpp.muc.base import TopicRoom
from chatd.xmpp.people import PeopleDomain
from chatd.xmpp.ports import DomainPorts, MucPorts
from chatd.xmpp.rooms import RoomsDomain
from chatd.xmpp.selfhelp import SelfHelpBot
from chatd.xmpp.uploads import UploadDomain
from chatd.xmpp.watch import ShadowRooms, WatchDomain


def executor(rt: Runtime, reviewed: Callable[[Reviewed], None] | None = None) -> Executor:
    """The pipeline's executor; shadow rooms pass their own `reviewed` (their words are not mirrored again)."""
    reviewer = Reviewer(rt.moderation, rt.hook, rt.counters, rt.metrics, rt.now)
    mirrored = reviewed or rt.signals.reviewed
    return Executor(
        rt.store, rt.sanctions, rt.limiter, reviewer, mirrored, rt.signals.report, rt.now, rt.fragments,
        rt.signals.private_alert,
    )  # fmt: skip


def domain_ports(rt: Runtime, runs: Executor) -> DomainPorts:
    return DomainPorts(
        runs,
        rt.config,
        rt.store,
        rt.directory,
        rt.counters,
        rt.queues,
        rt.limiter,
        rt.resent,
        rt.languages,
        rt.resources,
        rt.signals.reviewed,
        rt.now,
    )


def follows(rt: Runtime) -> Follows:
    """Follows and digests, one for every realm (digests go out from each realm's wallguide@)."""
    store = FollowStore(rt.store.db)
    return Follows(store, rt.config, rt.realms, rt.directory, rt.languages, rt.queues, rt.send, rt.now)


def people(rt: Runtime, realm: Realm, runs: Executor, followed: Follows | None = None) -> PeopleDomain:
    ports = domain_ports(rt, runs)
    return PeopleDomain(
        realm,
        ports,
        sanctions=rt.sanctions,
        crisis=rt.crisis,
        sealer=rt.sealer,
        report=rt.signals.report,
        new_member=rt.signals.new_member,
        follows=followed or follows(rt),
        selfhelp=SelfHelpBot(realm, ports, rt.instruments, rt.signals.private_alert, rt.send, rt.courses),
    )


def muc_ports(rt: Runtime, runs: Executor) -> MucPorts:
    shared = domain_ports(rt, runs)
    fields = {f.name: getattr(shared, f.name) for f in dataclasses.fields(shared)}
    return MucPorts(**fields, streams=rt.streams, room_presence=rt.signals.room_presence, peers=rt.peers)


def rooms(rt: Runtime, realm: Realm, topics: Iterable[TopicRoom], runs: Executor) -> RoomsDomain:
    return RoomsDomain(realm, topics, muc_ports(rt, runs))


def room_news(rt: Runtime, member_rooms: Mapping[str, RoomsDomain]) -> None:
    """Rooms another instance made or changed are read again from the store (for disco and shadow rooms here)."""

    def heard(news: dict[str, Any]) -> None:
        rooms = member_rooms.get(str(news["realm"]))
        if rooms is not None:
            rooms.heard_changed(str(news["room"]))

    rt.peers.listen(ROOM, heard)


def guide_actions(
    rt: Runtime, realm: Realm, desk: Desk, member_rooms: RoomsDomain, audit: AuditLog, post_line: PostLine
) -> GuideActions:
    return GuideActions(
        realm,
        desk,
        member_rooms,
        audit,
        post_line,
        store=rt.store,
        directory=rt.directory,
        realms=rt.realms,
        sanctions=rt.sanctions,
        send=rt.send,
        bus=rt.bus,
        clock=rt.now,
        refresh_directory=rt.refresh_directory,
        metrics=rt.metrics,
        settled=rt.signals.held_settled,
    )


def shadow_rooms(
    rt: Runtime,
    realm: Realm,
    domain: str,
    desk: Desk,
    member_rooms: RoomsDomain,
    audit: AuditLog,
    uploads: Uploads | None = None,
) -> ShadowRooms:
    """One realm's shadow rooms; members entering and leaving its rooms show there (and held files, to review)."""
    quiet = executor(rt, reviewed=lambda record: None)  # guides' words are not mirrored again
    ports = muc_ports(rt, quiet)

    def actions(post_line: PostLine) -> GuideActions:
        return guide_actions(rt, realm, desk, member_rooms, audit, post_line)

    previews = uploads.review_links if uploads is not None else None
    shadows = ShadowRooms(realm, domain, desk, member_rooms, ports, actions, previews)
    rt.signals.presence_listeners.append(shadows.presence)
    return shadows


def watch(rt: Runtime, domain: str, shadows: dict[str, ShadowRooms]) -> WatchDomain:
    """The watch domain; every reviewed text is mirrored into its shadow room."""
    domain_handler = WatchDomain(domain, shadows, rt.directory, rt.languages)
    rt.signals.review_listeners.append(domain_handler.mirror)
    rt.peers.listen(LINE, domain_handler.show)  # lines posted by other instances, for the guides present here
    return domain_handler


def desk(rt: Runtime) -> Desk:
    """The desk hears every reviewed text and files members' reports."""
    window = rt.config.moderation
    parts = DeskParts(rt.bus, rt.send, rt.now, rt.directory, rt.resources, rt.counters, rt.peers)
    filed = Desk(
        GuideStore(rt.store.db),
        rt.moderation,
        rt.realms,
        rt.queues,
        rt.sanctions,
        rt.crisis,
        RecentTexts(window.risk_window_messages, window.risk_window_seconds),
        parts,
    )
    rt.signals.review_listeners.append(filed.reviewed)
    rt.signals.file_report = filed.file_report
    rt.signals.file_welcome = filed.file_welcome
    rt.signals.file_private = filed.file_private
    return filed


def actions(
    rt: Runtime,
    tokens: dict[str, str],
    member_rooms: dict[str, RoomsDomain],
    guides: Mapping[str, GuideActions],
    desk: Desk,
    audit: AuditLog,
    runs: Executor,
) -> Actions:
    return Actions(
        tokens,
        member_rooms,
        dict(guides),
        desk,
        audit,
        executor=runs,
        realms=rt.realms,
        directory=rt.directory,
        send=rt.send,
        bus=rt.bus,
        clock=rt.now,
    )


def recovery(rt: Runtime) -> Recovery:
    return Recovery(rt.store, rt.directory, rt.realms)


def uploads(rt: Runtime) -> Uploads:
    """The upload service's files; a guide's decision on a held text decides the files it links to."""
    settings = rt.config.uploads
    assert settings is not None
    service = Uploads(settings, UploadFiles(upload_folder(rt.config)), rt.now)
    rt.signals.held_listeners.append(service.settled)
    return service


def upload_domain(rt: Runtime, service: Uploads) -> UploadDomain:
    settings = rt.config.uploads
    assert settings is not None
    return UploadDomain(settings.domain, rt.config.server.members_host, service, rt.directory, rt.realms)
