"""What a domain's translator is given: the pipeline's executor and the parts it reads and writes.

The people domain and every MUC service (rooms, shadow rooms) take these through their
constructors (chatd/wiring.py makes them); nothing reaches into a runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatd.config import Config
from chatd.core.model import Directory
from chatd.core.ratelimit import RateLimiter
from chatd.core.resources import ResourceLibrary
from chatd.executor import Executor
from chatd.peers import Peers
from chatd.ports import Clock, Counters, Languages, PresenceListener, ResendCheck, ReviewListener
from chatd.serial import SerialQueues
from chatd.store import Store
from chatd.xmpp.stream import ComponentStream


@dataclass(frozen=True, slots=True)
class DomainPorts:
    executor: Executor
    config: Config
    store: Store
    directory: Directory
    counters: Counters
    queues: SerialQueues
    limiter: RateLimiter
    resent: ResendCheck
    languages: Languages
    resources: ResourceLibrary
    reviewed: ReviewListener
    clock: Clock


@dataclass(frozen=True, slots=True)
class MucPorts(DomainPorts):
    """A MUC service's: the rooms domain's, and the shadow rooms' on the watch domain."""

    streams: Mapping[str, ComponentStream]  # domain -> its stream (filled as streams are made)
    room_presence: PresenceListener
    peers: Peers  # the other instances: rooms changed here, lines for guides present there


class Translator:
    """A domain's stanza translator, with the parts every one uses."""

    def __init__(self, ports: DomainPorts):
        self.executor = ports.executor
        self.config = ports.config
        self.store = ports.store
        self.directory = ports.directory
        self.counters = ports.counters
        self.queues = ports.queues
        self.limiter = ports.limiter
        self.resent = ports.resent
        self.languages = ports.languages
        self.resources = ports.resources
        self.reviewed = ports.reviewed
        self.clock = ports.clock
