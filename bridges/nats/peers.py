"""News between chatd instances over NATS JetStream (subjects chatd-instances.<kind>): each instance
publishes what the others must know and hears the rest, its own news left out.

The stream is kept in memory for the risk window's span: an instance that starts (or restarts after a
crash) first replays the windows' texts and crisis resources of that span, so members' risk windows are
whole again; lines for guides are shown live only (older ones are in the shadow rooms' archives).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy, DiscardPolicy, StorageType, StreamConfig

from bridges.nats import NatsLink
from bridges.nats.events import JetStreamOutbox, Outgoing
from chatd.peers import KINDS, LIVE_ONLY, Peers

log = logging.getLogger("chatd.nats.peers")

STREAM = "CHATD_PEERS"
PREFIX = "chatd-instances."  # apart from the events (chatd.<realm>.<event>): news holds texts
INSTANCE = "Chatd-Instance"


class NewsOutbox(JetStreamOutbox):
    """News is published without waiting for the stream's acknowledgement (the stream still keeps it): one
    round trip per message would cap the news at a few thousand a second, below what a busy instance tells."""

    async def publish(self, jetstream, outgoing: Outgoing) -> None:  # type: ignore[no-untyped-def]
        assert self.link.client is not None
        await self.link.client.publish(outgoing.subject, outgoing.data, headers=outgoing.headers)


class PeerLink:
    """Connects `peers` to the other instances: news out through a JetStream outbox, news in through an
    ordered consumer that starts `replay_seconds` back."""

    def __init__(self, link: NatsLink, peers: Peers, replay_seconds: float, buffer_size: int = 10_000):
        self.link = link
        self.peers = peers
        self.replay_seconds = replay_seconds
        self.instance = uuid.uuid4().hex  # a new one each start: a restarted instance replays its own windows too
        stream = StreamConfig(
            name=STREAM,
            subjects=[PREFIX + "*"],
            storage=StorageType.MEMORY,
            max_age=replay_seconds,
            max_msgs=500_000,
            discard=DiscardPolicy.OLD,
        )
        self.outbox = NewsOutbox(link, stream, buffer_size)
        self.subscribed_at = 0.0  # lines published before this are not shown
        self.listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.peers.transmit = self._transmit
        self.outbox.start()
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        self.peers.transmit = None
        await self.outbox.stop()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _transmit(self, kind: str, data: bytes) -> None:
        headers = {INSTANCE: self.instance, "Nats-Msg-Id": uuid.uuid4().hex}
        self.outbox.put(Outgoing(PREFIX + kind, data, headers))

    async def _listen(self) -> None:
        """Subscribes once NATS is there (the client's ordered consumer resumes by itself after reconnects)."""
        delay = 0.25
        while True:
            await self.link.ready.wait()
            assert self.link.client is not None
            jetstream = self.link.client.jetstream()
            try:
                await self.outbox.ensure_stream(jetstream)
                now = time.time()
                since = datetime.fromtimestamp(now - self.replay_seconds, UTC)
                config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since)
                self.subscribed_at = now
                await jetstream.subscribe(
                    PREFIX + "*", ordered_consumer=True, idle_heartbeat=5.0, config=config, cb=self._heard
                )
            except Exception as exc:
                log.warning("cannot listen to the other instances yet (%s); retrying", type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)
                continue
            log.info("listening to the other instances (replaying %.0f s)", self.replay_seconds)
            self.listening.set()
            return

    async def _heard(self, message: Msg) -> None:
        if (message.headers or {}).get(INSTANCE) == self.instance:
            return
        kind = message.subject.removeprefix(PREFIX)
        if kind not in KINDS:
            return
        if kind in LIVE_ONLY and message.metadata.timestamp.timestamp() < self.subscribed_at:
            return  # from before this instance listened: a line is in its room's archive, the rest is past
        self.peers.hear(kind, message.data)
