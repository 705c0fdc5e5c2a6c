"""/metrics in Prometheus format: read from the running service at scrape time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chatd.xmpp.stream import ComponentStream

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Observed(Protocol):
    """What the collector reads: the service's streams and counters."""

    streams: Sequence[ComponentStream]

    def verdict_counts(self) -> dict[tuple[str, str], int]: ...  # (action, category) -> count

    def waiting_jobs(self) -> int: ...

    def hook_outcomes(self) -> dict[str, int]: ...

    def members_online(self) -> int: ...  # members with a client in at least one room

    def store_fault(self) -> str | None: ...  # why store writes fail now; None while they work

    def store_write_failures(self) -> int: ...


class ServiceCollector(Collector):
    def __init__(self, observed: Observed):
        self.observed = observed

    def collect(self) -> Iterator[Metric]:
        streams = self.observed.streams
        families = {
            "in": CounterMetricFamily("chatd_stanzas_in", "Stanzas received, per domain", labels=["domain"]),
            "out": CounterMetricFamily("chatd_stanzas_out", "Stanzas sent, per domain", labels=["domain"]),
            "reconnects": CounterMetricFamily("chatd_reconnects", "Stream reconnects, per domain", labels=["domain"]),
            "multicast": CounterMetricFamily(
                "chatd_multicast_stanzas", "Stanzas sent through the server's XEP-0033 service", labels=["domain"]
            ),
        }
        outbox = GaugeMetricFamily("chatd_outbox_depth", "Stanzas waiting in a stream's outbox", labels=["domain"])
        up = GaugeMetricFamily("chatd_stream_up", "1 when the component stream is up", labels=["domain"])
        for stream in streams:
            families["in"].add_metric([stream.domain], stream.stanzas_in)
            families["out"].add_metric([stream.domain], stream.stanzas_out)
            families["reconnects"].add_metric([stream.domain], stream.reconnects)
            families["multicast"].add_metric([stream.domain], stream.multicast_out)
            outbox.add_metric([stream.domain], len(stream.outbox.queue))
            up.add_metric([stream.domain], 1 if stream.state == "up" else 0)
        yield from families.values()
        yield outbox
        yield up
        verdicts = CounterMetricFamily(
            "chatd_verdicts", "Moderation verdicts, per action and finding category", labels=["action", "category"]
        )
        for (action, category), count in sorted(self.observed.verdict_counts().items()):
            verdicts.add_metric([action, category], count)
        yield verdicts
        hook = CounterMetricFamily("chatd_external_hook", "External hook outcomes", labels=["outcome"])
        for outcome, count in sorted(self.observed.hook_outcomes().items()):
            hook.add_metric([outcome], count)
        yield hook
        yield GaugeMetricFamily(
            "chatd_queue_depth", "Jobs waiting in conversation queues", value=self.observed.waiting_jobs()
        )
        yield GaugeMetricFamily(
            "chatd_store_up",
            "1 while the store takes writes, 0 while they fail",
            value=0 if self.observed.store_fault() else 1,
        )
        yield CounterMetricFamily(
            "chatd_store_write_failures",
            "Archive writes that failed (disk full, read-only, I/O error)",
            value=self.observed.store_write_failures(),
        )
        yield GaugeMetricFamily(
            "chatd_members_online", "Members with a client in at least one room", value=self.observed.members_online()
        )


class Metrics:
    """One registry per service (tests may run several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.moderation_seconds = Histogram(
            "chatd_moderation_seconds",
            "Time spent in the moderation hook (policies and external hook) per text",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.15, 0.5, 1.0),
            registry=self.registry,
        )
        self.alert_feedback = Counter(
            "chatd_alert_feedback",
            "Wall Guides' answers to alerts, per realm, construct that fired and answer (helpful, not_helpful)",
            ["realm", "construct", "answer"],
            registry=self.registry,
        )

    def watch(self, observed: Observed) -> None:
        self.registry.register(ServiceCollector(observed))

    def add_routes(self, app: web.Application) -> None:
        async def metrics(_request: web.Request) -> web.Response:
            return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE})

        app.router.add_get("/metrics", metrics)
