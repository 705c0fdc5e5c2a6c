"""Composition root: config -> store -> policies -> core -> XMPP streams and HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bridges.nats import NatsLink, NatsRequester
from bridges.nats.actions import ActionSubscriber
from bridges.nats.events import JetStreamPublisher
from bridges.nats.peers import PeerLink
from chatd import heap, wiring
from chatd.config import Config
from chatd.core.model import Directory, Realm
from chatd.core.moderation import Moderation
from chatd.core.ratelimit import RateLimiter
from chatd.core.resends import Resends
from chatd.hook import ExternalHook
from chatd.http import Routes, make_app
from chatd.metrics import Metrics
from chatd.policy_loader import PolicyLoadError, configured_policy, load_courses, load_instruments, load_resources
from chatd.recovery import Recovery
from chatd.registration import Registration
from chatd.runtime import Runtime
from chatd.serial import SerialQueues
from chatd.store import Store
from chatd.store.audit import AuditLog
from chatd.takeover import Takeover
from chatd.vault.seal import Sealer
from chatd.xmpp import stanza as st
from chatd.xmpp.rooms import RoomsDomain, TopicRoom
from chatd.xmpp.selfhelp import SelfHelpBot
from chatd.xmpp.stream import ComponentStream
from chatd.xmpp.watch import ShadowRooms
from policies import Action

log = logging.getLogger("chatd")


class Service:
    def __init__(self, config: Config):
        self.config = config
        self.streams: list[ComponentStream] = []
        self.runtime: Runtime | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._http: web.AppRunner | None = None
        self.nats: NatsLink | None = None
        self.events: JetStreamPublisher | None = None
        self.peer_link: PeerLink | None = None  # news to and from the other instances
        self.takeover: Takeover | None = None  # the slots of an instance that fell silent (ejabberd)
        self._stream_specs: dict[str, tuple[str, Any]] = {}  # domain -> (secret, handler)
        self.metrics = Metrics()
        self.audit: AuditLog | None = None
        self.actions: ActionSubscriber | None = None
        self.member_rooms: dict[str, RoomsDomain] = {}  # realm -> its rooms domain
        self._exit = contextlib.AsyncExitStack()  # teardown, in the reverse order of startup
        self.recovery: Recovery | None = None
        self.collections = heap.Collections()

    async def start(self) -> None:
        config = self.config
        policy = configured_policy(config)
        resources = load_resources(config.resources.file)
        instruments = load_instruments(config.selfhelp.instruments, resources)  # a malformed one stops the start
        courses = load_courses(
            config.selfhelp.courses, {r.language: {room.id for room in r.rooms} for r in config.realms}
        )
        if not instruments.all:
            log.warning("selfhelp@ offers no check-ins: no instrument files in %s", config.selfhelp.instruments)
        for realm_config in config.realms:
            for room in realm_config.rooms:
                if room.resources and room.resources not in resources.topics:
                    raise PolicyLoadError(
                        f"realms.{realm_config.id}.rooms.{room.id}.resources: no topic {room.resources!r}"
                    )
        store = await Store.open(config.store.path)
        self._exit.push_async_callback(store.close)
        store.path = config.store.local_path  # the received journal and the sent log are named after it
        store.path.parent.mkdir(parents=True, exist_ok=True)
        store.rooms.guide_name = config.watch.guide_name
        realms = {r.id: Realm(r.id, r.language, r.people_domain, r.rooms_domain) for r in config.realms}
        queues = SerialQueues(on_full=self._pause_reading, on_drained=self._resume_reading)
        runtime = Runtime(
            config=config,
            store=store,
            directory=Directory(),
            moderation=Moderation(policy, config.moderation.probation_days * 86400),
            limiter=RateLimiter(config.limits.burst_messages, config.limits.burst_seconds),
            queues=queues,
            realms=realms,
            resources=resources,
            resends=Resends(config.limits.resend_window_seconds),
            instruments=instruments,
            courses=courses,
        )
        if config.bus.nats_url:
            self.nats = NatsLink(config.bus.nats_url)
            self.nats.start()
            self._exit.push_async_callback(self.nats.stop)
            self.events = JetStreamPublisher(self.nats, config.bus.buffer_size)
            runtime.bus.subscribe(self.events)
            self.events.start()
            self._exit.push_async_callback(self.events.stop)
            if config.bus.several_instances:
                self.peer_link = PeerLink(self.nats, runtime.peers, config.moderation.risk_window_seconds)
                self.peer_link.start()
                self._exit.push_async_callback(self.peer_link.stop)
            if config.moderation.external_subject:
                runtime.hook = ExternalHook(
                    NatsRequester(self.nats, config.moderation.external_subject),
                    config.moderation.external_deadline_ms / 1000,
                    Action(config.moderation.external_fail_action),
                )
        if config.registration is not None:
            runtime.sealer = Sealer.from_file(config.registration.vault_public_key)
        runtime.metrics = self.metrics
        self.metrics.watch(self)
        await runtime.refresh_directory()
        self.runtime = runtime
        desk = wiring.desk(runtime)
        runs = wiring.executor(runtime)
        await runtime.sanctions.load()
        await desk.load_crisis_follow_ups()
        self.audit = await AuditLog.open(config.store.path)
        self._exit.push_async_callback(self.audit.close)
        shadows: dict[str, ShadowRooms] = {}
        uploads = wiring.uploads(runtime) if config.uploads is not None else None
        features: list[Routes] = [self.metrics.add_routes]
        member_rooms = self.member_rooms
        follows = wiring.follows(runtime)
        await follows.load()
        self._tasks.append(asyncio.create_task(follows.run(config.follows.check_seconds)))
        selfhelp_bots = []
        for realm_config in config.realms:
            realm = realms[realm_config.id]
            people_domain = wiring.people(runtime, realm, runs, follows)
            self._add_stream(realm.people_domain, realm_config.people_secret, people_domain.handle)
            if people_domain.selfhelp is not None:
                selfhelp_bots.append(people_domain.selfhelp)
            topics = [
                TopicRoom(r.id, r.name, r.description, tuple(r.tags), r.resources, r.resource_post_hours)
                for r in realm_config.rooms
            ]
            rooms = wiring.rooms(runtime, realm, topics, runs)
            await rooms.load()
            self._add_stream(realm.rooms_domain, realm_config.rooms_secret, rooms.handle)
            member_rooms[realm.id] = rooms
            self._tasks.append(asyncio.create_task(rooms.post_scheduled_resources()))
            shadows[realm.id] = wiring.shadow_rooms(
                runtime, realm, config.watch.domain, desk, rooms, self.audit, uploads
            )
            await shadows[realm.id].load()
            desk.entry_listeners.append(shadows[realm.id].announce)
        wiring.room_news(runtime, member_rooms)
        if self.nats is not None and config.bus.action_tokens:
            guide_actions = {realm: shadow.actions for realm, shadow in shadows.items()}
            tokens = dict(config.bus.action_tokens)
            actions = wiring.actions(runtime, tokens, member_rooms, guide_actions, desk, self.audit, runs)
            self.actions = ActionSubscriber(self.nats, actions.execute)
            self.actions.start()
            self._exit.push_async_callback(self.actions.stop)
        watch = wiring.watch(runtime, config.watch.domain, shadows)
        self._add_stream(config.watch.domain, config.watch.secret, watch.handle)
        if config.uploads is not None and uploads is not None:
            upload_domain = wiring.upload_domain(runtime, uploads)
            self._add_stream(config.uploads.domain, config.uploads.secret, upload_domain.handle)
            self._tasks.append(asyncio.create_task(uploads.sweep_expired()))
            features.append(uploads.add_routes)
        self.recovery = wiring.recovery(runtime)
        await self.recovery.load()
        self._exit.callback(self.recovery.journal.close)
        self._tasks.append(asyncio.create_task(self._goal_check_ins(selfhelp_bots)))
        people = {realm.people_domain for realm in realms.values()}
        if self.peer_link is not None:  # several instances: the others free what they took over, then we connect
            self.takeover = Takeover(runtime.peers, self.peer_link.instance, self._take_slots)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.peer_link.listening.wait(), 10)
            await self.takeover.greet()
            self.takeover.start()
            self._exit.push_async_callback(self.takeover.stop)
        for stream in self.streams:
            self.recovery.attach(stream, journaled=stream.domain in people)
            stream.start()
            self._exit.push_async_callback(_quietly, stream.stop)
        self._exit.push_async_callback(_quietly, lambda: asyncio.wait_for(runtime.queues.idle(), 5))  # work first
        self._tasks.append(asyncio.create_task(runtime.watch_store()))
        self._tasks.append(asyncio.create_task(self.recovery.send_unclaimed(runtime.streams)))
        self._tasks.append(asyncio.create_task(self._reannounce(list(shadows.values()))))
        if config.registration is not None:
            registration = Registration.from_config(config, store, runtime.moderation, runtime.refresh_directory)
            features.append(registration.add_routes)
        self._http = web.AppRunner(make_app(self.health, features), access_log=None)
        await self._http.setup()
        self._exit.push_async_callback(self._http.cleanup)
        await web.TCPSite(self._http, config.http.host, config.http.port).start()
        frozen = heap.settle()  # the policies, catalogs and directory are never walked by the collector again
        self.collections.watch()
        self._exit.callback(self.collections.unwatch)
        log.info(
            "chatd started: %d streams, %d members, %d objects frozen",
            len(self.streams),
            len(runtime.directory),
            frozen,
        )

    def _own_domains(self) -> frozenset[str]:
        """Every domain chatd serves (none of them is the server's multicast service)."""
        config = self.config
        found = {
            config.watch.domain,
            *(r.people_domain for r in config.realms),
            *(r.rooms_domain for r in config.realms),
        }
        if config.uploads is not None:
            found.add(config.uploads.domain)
        return frozenset(found)

    def _add_stream(self, domain: str, secret: str, handler: Any) -> None:
        stream = self._new_stream(domain, secret, handler)
        self._stream_specs[domain] = (secret, handler)
        self.streams.append(stream)
        if self.runtime is not None:
            self.runtime.streams[domain] = stream

    def _take_slots(self) -> list[ComponentStream]:
        """One more connection per domain, journaled like the first (chatd/takeover.py)."""
        assert self.recovery is not None and self.runtime is not None
        people = {realm.people_domain for realm in self.runtime.realms.values()}
        opened = []
        for domain, (secret, handler) in self._stream_specs.items():
            stream = self._new_stream(domain, secret, handler)
            self.recovery.attach(stream, journaled=domain in people)
            stream.start()
            opened.append(stream)
        self._tasks.append(asyncio.create_task(self.recovery.after_takeover(self.runtime.streams)))
        return opened

    def _new_stream(self, domain: str, secret: str, handler: Any) -> ComponentStream:
        server = self.config.server
        return ComponentStream(
            domain,
            secret,
            server.host,
            server.component_port,
            self.config.limits.outbox_size,
            handler,
            server_host=server.members_host,
            multicast=server.multicast,
            own_domains=self._own_domains(),
        )

    async def _reannounce(self, shadows: list[ShadowRooms]) -> None:
        """Unclaimed high-severity queue entries are posted again, now and then."""
        every = self.config.watch.reannounce_seconds
        while True:
            await asyncio.sleep(min(30.0, every / 2))
            for realm_shadows in shadows:
                try:
                    await realm_shadows.reannounce(every)
                except Exception:
                    log.exception("re-announcing queue entries failed")

    async def _goal_check_ins(self, bots: list[SelfHelpBot]) -> None:
        """Goals' check-ins that are due, now and then (at most one per goal and period)."""
        every = min(60.0, self.config.selfhelp.day_seconds / 8)
        while True:
            await asyncio.sleep(every)
            for bot in bots:
                try:
                    await bot.check_ins()
                except Exception:
                    log.exception("goal check-ins failed")

    def _pause_reading(self) -> None:
        log.warning("too much waiting work: pausing reads")
        for stream in self._reading():
            stream.pause_reading()

    def _resume_reading(self) -> None:
        for stream in self._reading():
            stream.resume_reading()

    def _reading(self) -> list[ComponentStream]:
        return [*self.streams, *(self.takeover.taken if self.takeover else [])]

    def verdict_counts(self) -> dict[tuple[str, str], int]:
        return dict(self.runtime.counters.verdicts) if self.runtime else {}

    def waiting_jobs(self) -> int:
        return self.runtime.queues.pending if self.runtime else 0

    def members_online(self) -> int:
        return len({m for rooms in self.member_rooms.values() for r in rooms.rooms.values() for m in r.occupants})

    def store_fault(self) -> str | None:
        """Why the store refuses writes now (e.g. "the disk is full"); None while it takes them."""
        return self.runtime.store.fault if self.runtime else "not open"

    def store_write_failures(self) -> int:
        return self.runtime.store.write_failures if self.runtime else 0

    def hook_outcomes(self) -> dict[str, int]:
        hook = self.runtime.hook if self.runtime else None
        return dict(hook.outcomes) if hook else {}

    async def health(self) -> dict[str, Any]:
        streams = {
            s.domain: {
                "state": s.state,
                "reconnects": s.reconnects,
                "outbox": len(s.outbox.queue),
                "stanzas_out": s.stanzas_out,
                "writes": s.writes,
                "probes": s.probes,
                "multicast": s.multicast.jid if s.multicast is not None else "",  # XEP-0033 service in use
            }
            for s in self.streams
        }
        fault = self.store_fault()
        store_ok = self.runtime is not None and fault is None and await self.runtime.store.ping()
        ok = store_ok and all(s.state == "up" for s in self.streams)
        counters = self.runtime.counters if self.runtime else None
        return {
            "status": "ok" if ok else "degraded",
            "streams": streams,
            "store": "ok" if store_ok else "error",
            "store_fault": fault or "",
            "members": len(self.runtime.directory) if self.runtime else 0,
            "counters": {
                "stanzas_in": counters.stanzas_in,
                "stanzas_out": counters.stanzas_out,
                "delivered": counters.delivered,
                "refused": counters.refused,
                "quick_readings": counters.quick_readings,
                "texts_read_ahead": counters.read_ahead,
                "reading_cpu_seconds": round(counters.reading_seconds, 6),
                "gc_cpu_seconds": round(self.collections.seconds, 6),
                "gc_collections": list(self.collections.count),
                "verdicts": {f"{a}/{c}": n for (a, c), n in sorted(counters.verdicts.items())},
            }
            if counters
            else {},
            "peers": self._peers(),
        }

    def _peers(self) -> dict[str, Any]:
        """News to and from the other instances (all zero with one instance: no NATS)."""
        peers = self.runtime.peers if self.runtime else None
        link = self.peer_link
        return {
            "listening": link is not None and link.listening.is_set(),
            "told": peers.told if peers else 0,
            "heard": peers.heard if peers else 0,
            "unreadable": peers.unreadable if peers else 0,
            "waiting": len(link.outbox.buffer) if link else 0,
            "takeovers": self.takeover.takeovers if self.takeover else 0,
            # connections up holding slots another instance held
            "taken_over": len([s for s in self.takeover.taken if s.state == "up"]) if self.takeover else 0,
        }

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self._exit.aclose()


async def _quietly(step: Callable[[], Awaitable[object]]) -> None:
    """A teardown step that may fail (a stream already down, work that does not finish in time)."""
    with contextlib.suppress(Exception):
        await step()


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # slixmpp logs raw stanzas (message text) at debug and on parse errors: keep it quiet.
    logging.getLogger("slixmpp").setLevel(logging.CRITICAL)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)


async def run(config: Config) -> None:
    service = Service(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    await stop.wait()
    log.info("chatd stopping")
    await service.stop()


__all__ = ["Service", "configure_logging", "run", "st"]
