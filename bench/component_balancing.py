"""Several component connections for one domain on ejabberd: how rooms spread, and what a second connection gives.

One ejabberd (loopback, the stack's config) with two of chatd-like domains: `one.HOST` held by one raw component
connection, `two.HOST` balanced by bare destination over two slots held by two connections
(tests/support/probe_component.py, counting only). Members' connections (bench/loadclient.py) send room messages to
ROOMS rooms of one domain, then of the other, alternating, a bounded number in flight. Prints, per round: messages/s
to each domain, ejabberd's CPU-ms per 1,000 messages, the ratio two/one, and how the rooms spread over the slots.
The connections stand where chatd instances would: this measures ejabberd's routing, not chatd.
Usage: python bench/component_balancing.py [--messages 6000] [--rooms 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadclient import Connection, cpu_seconds
from room_fanout import beam_pid

from chatd.stack import Ejabberd
from tests.support.probe_component import ProbeComponent

HOST = "localhost"
SECRET = "bench-secret"
SENDERS = 4
IN_FLIGHT = 200
BODY = "x" * 200


async def phase(senders: list[Connection], probes: list[ProbeComponent], domain: str, rooms: int, total: int) -> float:
    """Seconds until the probes got `total` messages sent round robin to the domain's rooms."""
    base = sum(p.messages for p in probes)
    started, sent = time.perf_counter(), 0
    while sum(p.messages for p in probes) - base < total:
        while sent < total and sent - (sum(p.messages for p in probes) - base) < IN_FLIGHT:
            sender = senders[sent % len(senders)]
            sender.writer.write(
                f"<message type='groupchat' to='r{sent % rooms}@{domain}'><body>{BODY}</body></message>".encode()
            )
            sent += 1
        await asyncio.sleep(0.001)
    return time.perf_counter() - started


async def run(args: argparse.Namespace, run_dir: Path) -> None:
    domains = {"one": f"one.{HOST}", "two": f"two.{HOST}"}
    server = Ejabberd(
        run_dir,
        components={domain: SECRET for domain in domains.values()},
        domain_balancing={domains["two"]: 2},
        c2s_rate=1_000_000_000,  # the shaper off
    )
    server.write_config()
    server.start()
    try:
        users = [(f"sender{n}", f"pw-{n}") for n in range(SENDERS)]
        for user, password in users:
            server.register(user, password)
        beam = beam_pid(server.process.pid) if server.process else 0
        senders = [await Connection(user, password, server.c2s_port).open() for user, password in users]
        probes = {
            "one": [await ProbeComponent(domains["one"], SECRET, server.component_port, counting=True).connect()],
            "two": [
                await ProbeComponent(domains["two"], SECRET, server.component_port, counting=True).connect()
                for _ in range(2)
            ],
        }
        # how the rooms spread over the two slots: one message per room, counted per connection
        await phase(senders, probes["two"], domains["two"], args.rooms, args.rooms)
        spread = [p.messages for p in probes["two"]]
        await phase(senders, probes["one"], domains["one"], args.rooms, args.rooms)  # the same warm-up
        print(f"{args.rooms} rooms over 2 slots: {spread[0]} / {spread[1]} (one message per room)")
        ratios = []
        for round_number in range(1, args.rounds + 1):
            figures = {}
            for name in ("one", "two") if round_number % 2 else ("two", "one"):
                cpu, client = cpu_seconds(beam), time.process_time()
                elapsed = await phase(senders, probes[name], domains[name], args.rooms, args.messages)
                cpu, client = cpu_seconds(beam) - cpu, time.process_time() - client
                figures[name] = args.messages / elapsed
                print(
                    f"round {round_number} {name} connection(s): {figures[name]:,.0f} msg/s, "
                    f"ejabberd {1000 * 1000 * cpu / args.messages:.0f} CPU-ms per 1,000, "
                    f"this process {100 * client / elapsed:.0f}% of a core"
                )
            ratios.append(figures["two"] / figures["one"])
            print(f"round {round_number} ratio two/one connections: {ratios[-1]:.2f}")
        spread = [p.messages for p in probes["two"]]
        print(f"messages per slot over the run: {spread[0]} / {spread[1]}")
        print(f"ratio two/one, median of {len(ratios)}: {sorted(ratios)[len(ratios) // 2]:.2f}")
        for connection in senders:
            await connection.close()
        for probe in probes["one"] + probes["two"]:
            await probe.close()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=6000, help="messages per phase")
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    with tempfile.TemporaryDirectory(prefix="component-balancing-") as run_dir:
        asyncio.run(run(parser.parse_args(), Path(run_dir)))


if __name__ == "__main__":
    main()
