"""News between chatd instances (chatd/peers.py) through a real nats-server, against the events' acknowledged
JetStream publishing, same server, same run.

Two PeerLinks on one nats-server (JetStream, loopback): one tells `COUNT` window news (a 200-character text
each), the other hears them. Prints, per news: the cost on the telling instance's path (Peers.tell), the time
until the other instance heard all of it, and the same count published the events' way (one acknowledgement
per message, JetStreamOutbox) as the baseline. Bounded in count; stops by itself.
Usage: python bench/peer_news.py [COUNT] [ROUNDS]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nats.js.api import StreamConfig

from bridges.nats import NatsLink
from bridges.nats.events import JetStreamOutbox, Outgoing
from bridges.nats.peers import PeerLink
from chatd.peers import WINDOW, Peers
from tests.support.nats import NatsServer

TEXT = "I keep thinking about what happened at the base and I cannot sleep, " * 3  # about 200 characters


async def connected(url: str) -> NatsLink:
    link = NatsLink(url)
    link.start()
    await link.ready.wait()
    return link


async def news_round(url: str, count: int) -> tuple[float, float]:
    """(seconds in Peers.tell for all, seconds until the other instance heard all)."""
    telling, hearing = Peers(), Peers()
    heard = asyncio.Event()

    def on_window(news: dict[str, object]) -> None:
        if hearing.heard + 1 >= count:
            heard.set()

    hearing.listen(WINDOW, on_window)
    links = [await connected(url), await connected(url)]
    here = PeerLink(links[0], telling, replay_seconds=1.0, buffer_size=count + 1)
    there = PeerLink(links[1], hearing, replay_seconds=1.0)
    here.start()
    there.start()
    await asyncio.gather(here.listening.wait(), there.listening.wait())
    await asyncio.sleep(1.2)  # nothing older is replayed into the count
    started = time.perf_counter()
    for n in range(count):
        telling.tell(WINDOW, {"member": n % 500, "text": TEXT, "at": time.time(), "alerted": 0})
    in_path = time.perf_counter() - started
    await asyncio.wait_for(heard.wait(), 120)
    total = time.perf_counter() - started
    for closing in (here, there):
        await closing.stop()
    for link in links:
        await link.stop()
    return in_path, total


async def acknowledged_round(url: str, count: int, round_number: int) -> float:
    """Seconds until the stream acknowledged `count` messages of the same size, one at a time (the events' way)."""
    link = await connected(url)
    stream = StreamConfig(name=f"BENCH_ACK_{round_number}", subjects=[f"bench.ack{round_number}"])
    outbox = JetStreamOutbox(link, stream, buffer_size=count + 1)
    outbox.start()
    payload = ('{"member":1,"text":"' + TEXT + '","at":1.0,"alerted":0}').encode()
    started = time.perf_counter()
    for n in range(count):
        outbox.put(Outgoing(f"bench.ack{round_number}", payload, {"Nats-Msg-Id": f"{round_number}-{n}"}))
    while outbox.published < count:
        await asyncio.sleep(0.001)
    total = time.perf_counter() - started
    await outbox.stop()
    await link.stop()
    return total


async def main(count: int, rounds: int) -> None:
    results: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        server = NatsServer(Path(folder))
        server.start()
        try:
            for n in range(rounds):  # alternating, so both see the same machine
                in_path, total = await news_round(server.url, count)
                acked = await acknowledged_round(server.url, count, n)
                results.append((in_path, total, acked))
                print(
                    f"round {n + 1}: tell {in_path / count * 1e6:.1f} us/news; heard by the other instance "
                    f"{count / total:,.0f} news/s; acknowledged one at a time {count / acked:,.0f} msg/s"
                )
        finally:
            server.stop()
    ratios = [acked / total for _, total, acked in results]
    print(f"news: {count} a round, {rounds} rounds, {len(TEXT)}-character texts")
    print(f"cost on the telling path: {statistics.median(r[0] for r in results) / count * 1e6:.1f} us/news (median)")
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
    print(f"heard rate / acknowledged rate: median {statistics.median(ratios):.2f} ({spread})")


if __name__ == "__main__":
    arguments = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(arguments + [20000, 3][len(arguments) :])))
