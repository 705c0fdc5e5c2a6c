"""Event publishing cost per delivered message, against bare nats-py loops, same nats-server, same run.

Starts its own nats-server (JetStream) on a free loopback port, publishes a bounded number of
events, prints microseconds per event and the ratios, and stops by itself.
Usage: python bench/events_bench.py [COUNT]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import nats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bridges.nats import NatsLink
from bridges.nats.events import STREAM, SUBJECTS, JetStreamPublisher
from chatd.bus import LocalBus
from chatd.events import MessageDelivered
from tests.support.nats import NatsServer


def event(n: int) -> MessageDelivered:
    return MessageDelivered(
        realm="en", conversation="dm:1:2", stanza_id=f"s{n}", sender="calm-otter", recipient="brave-heron"
    )


async def bare_core(url: str, count: int) -> float:
    client = await nats.connect(url)
    payload = event(0).model_dump_json().encode()
    started = time.perf_counter()
    for _ in range(count):
        await client.publish("bench.core", payload)
    await client.flush()
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


async def bare_jetstream(url: str, count: int) -> float:
    client = await nats.connect(url)
    jetstream = client.jetstream()
    await jetstream.add_stream(name="BENCH", subjects=["bench.js"])
    started = time.perf_counter()
    for n in range(count):
        item = event(n)
        await jetstream.publish("bench.js", item.model_dump_json().encode(), headers={"Nats-Msg-Id": item.id})
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


async def chatd_bus(url: str, count: int) -> tuple[float, float]:
    """(seconds spent in publish() by the message path, seconds until JetStream acked all)."""
    link = NatsLink(url)
    link.start()
    while not link.connected:
        await asyncio.sleep(0.01)
    publisher = JetStreamPublisher(link, buffer_size=count + 1)
    bus = LocalBus()
    bus.subscribe(publisher)
    publisher.start()
    events = [event(n) for n in range(count)]
    started = time.perf_counter()
    for item in events:
        bus.publish(item)
    in_path = time.perf_counter() - started
    while publisher.published < count:
        await asyncio.sleep(0.001)
    total = time.perf_counter() - started
    await publisher.stop()
    await link.stop()
    return in_path, total


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = NatsServer(Path(folder))
        server.start()
        try:
            core = await bare_core(server.url, count)
            jetstream = await bare_jetstream(server.url, count)
            in_path, total = await chatd_bus(server.url, count)
        finally:
            server.stop()
    per = 1e6 / count
    print(f"events: {count}; streams {STREAM} subjects {len(SUBJECTS)}")
    print(f"bare nats-py core publish loop:       {core * per:8.1f} us/event")
    print(f"bare nats-py JetStream publish loop:  {jetstream * per:8.1f} us/event")
    print(f"chatd bus, cost on the message path:  {in_path * per:8.1f} us/event")
    print(f"chatd bus, until JetStream acked all: {total * per:8.1f} us/event")
    print(f"ratio message-path cost / bare JetStream loop: {in_path / jetstream:.3f}")
    print(f"ratio end-to-end / bare JetStream loop:         {total / jetstream:.3f}")
    print(f"ratio end-to-end / bare core loop:              {total / core:.3f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
