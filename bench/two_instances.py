"""Rooms' throughput with one chatd instance against two (docs/scale-out.md), same run, alternating.

Two ejabberd servers on loopback, one PostgreSQL with a database for each: on the first, one chatd holds each
of its domains; on the second, each domain is balanced over two slots (bare destination) held by two chatd
instances sharing their store. The same rooms (--rooms topic rooms of the English realm), one sender each and
the same --occupants receivers in every room, W1-style (250-byte bodies, the policy engine when it loads, rate
limits off); each sender keeps --window messages in flight (a message is done when every receiver has it).
Phases alternate (one, two, one, two, ...) so that the machine's other work weighs on both; printed: deliveries/s,
CPU-seconds per 1,000 deliveries of ejabberd and of all chatd processes, how the rooms' deliveries split between
the two instances, and the ratio two/one per round. With --news, a third setup alternates with them: two
instances telling each other over a nats-server (`[bus] several_instances`: the lines guides see and the risk
windows' texts, chatd/peers.py), and the news each told. Loopback only; everything stops by itself.

    python bench/two_instances.py [--rooms 8] [--occupants 20] [--seconds 5] [--window 10] [--rounds 3] [--news]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadclient import Connection, cpu_seconds
from room_fanout import HOST, Tally, beam_pid, body, pick_policy

from chatd.core.model import Role
from chatd.stack import Chatd, Ejabberd, build
from chatd.store import Store
from tests.support.nats import NatsServer
from tests.support.postgres import PostgresServer


@dataclass
class Setup:
    name: str
    server: Ejabberd
    instances: list[Chatd]

    def pids(self) -> list[int]:
        assert self.server.process is not None
        return [beam_pid(self.server.process.pid), *(c.process.pid for c in self.instances if c.process)]

    def delivered(self) -> list[int]:
        return [int(c.health()["counters"]["delivered"]) for c in self.instances]  # type: ignore[index]


async def start(
    name: str, folder: Path, url: str, args: argparse.Namespace, users: list[tuple[str, str]], nats_url: str = ""
) -> Setup:
    policy, policies_file, _ = pick_policy()
    server, chatd = build(
        folder, host=HOST, server="ejabberd", store_url=url, policy=policy, policies_file=policies_file,
        limits={"burst_messages": 10_000_000, "burst_seconds": 1.0, "outbox_size": 1_000_000}, log_level="warning",
        nats_url=nats_url, several_instances=bool(nats_url),
    )  # fmt: skip
    assert isinstance(server, Ejabberd)
    realm = chatd.realms[0]
    realm.rooms = [*realm.rooms, *({"id": f"bench{n}", "name": f"Bench {n}"} for n in range(args.rooms))]
    server.c2s_rate = 1_000_000_000  # the shaper off
    count = 1 if name == "one" else 2
    if count > 1:
        server.domain_balancing = dict.fromkeys(chatd.components(), count)
    server.write_config()
    chatd.write_config()
    server.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda u: server.register(u[0], u[1]), users))
    store = await Store.open(url)
    for i, (user, _) in enumerate(users):
        await store.add_member(f"{user}@{HOST}", realm.id, f"load-user{i}", Role.MEMBER)
    await store.close()
    instances = [chatd]
    chatd.start(timeout=180)
    for n in range(2, count + 1):
        instances.append(chatd.another(folder / f"chatd-{n}"))
        instances[-1].start(timeout=180)
    return Setup(name, server, instances)


async def phase(setup: Setup, args: argparse.Namespace, users: list[tuple[str, str]]) -> tuple[float, str]:
    """Deliveries/s with every room saturated; and a line to print."""
    rooms = [f"bench{n}@rooms.en.{HOST}" for n in range(args.rooms)]
    port = setup.server.c2s_port
    senders = [await Connection(u, p, port).open() for u, p in users[: args.rooms]]
    receivers = [await Connection(u, p, port).open() for u, p in users[args.rooms :]]
    for n, (room, sender) in enumerate(zip(rooms, senders, strict=True)):
        await sender.join(room, f"load-user{n}")
    for i, receiver in enumerate(receivers):
        for room in rooms:
            await receiver.join(room, f"load-user{args.rooms + i}")
    tally = Tally(len(receivers))
    windows = [asyncio.Semaphore(args.window) for _ in rooms]
    room_of: dict[int, int] = {}
    tally.done = lambda seq: windows[room_of.pop(seq)].release()
    for receiver in receivers:
        receiver.listen(tally.reader())
    for sender in senders:
        sender.listen(lambda chunk: None)
    await asyncio.sleep(0.5)
    before_cpu = [cpu_seconds(p) for p in setup.pids()]
    before = setup.delivered()
    counter = iter(range(1, 1 << 62))
    start = time.monotonic()

    async def send(n: int) -> None:
        while time.monotonic() - start < args.seconds:
            await windows[n].acquire()
            seq = next(counter)
            room_of[seq] = n
            stanza = f"<message to='{rooms[n]}' type='groupchat'><body>{body(seq)}</body></message>"
            senders[n].writer.write(stanza.encode())
            await senders[n].writer.drain()

    await asyncio.gather(*(send(n) for n in range(len(rooms))))
    elapsed = time.monotonic() - start
    delivered = tally.delivered
    cpu = [cpu_seconds(p) - b for p, b in zip(setup.pids(), before_cpu, strict=True)]
    split = [a - b for a, b in zip(setup.delivered(), before, strict=True)]
    told = sum(int(c.health()["peers"]["told"]) for c in setup.instances)  # type: ignore[index]
    for connection in [*senders, *receivers]:
        await connection.close()
    rate = delivered / elapsed
    per_k = 1000 / max(delivered, 1)
    line = (
        f"{setup.name:<4} {rate:>9,.0f} deliveries/s  CPU-s/1000: ejabberd {cpu[0] * per_k:.4f}"
        f" chatd {sum(cpu[1:]) * per_k:.4f} ({' + '.join(f'{c:.1f}' for c in cpu[1:])} CPU-s)"
        f"  chatd's deliveries by instance: {' / '.join(f'{d:,}' for d in split)}"
        + (f"  news told so far: {told:,}" if told else "")
    )
    await asyncio.sleep(1.0)
    return rate, line


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="two-instances-"))
    postgres = PostgresServer(Path(tempfile.mkdtemp(prefix="chatd-postgres-")), durable=True)
    users = [(f"load{i}", f"pw-load-{i}") for i in range(args.rooms + args.occupants)]
    setups: list[Setup] = []
    nats = NatsServer(folder / "nats") if args.news else None
    try:
        postgres.start()
        for name in ("one", "two"):
            setups.append(await start(name, folder / name, await postgres.new_database(), args, users))
        if nats is not None:
            nats.start()
            database = await postgres.new_database()
            setups.append(await start("news", folder / "news", database, args, users, nats.url))
        print(f"{args.rooms} rooms, one sender each, {args.occupants} receivers in every room, window {args.window}")
        print(f"moderation: {pick_policy()[2]}; PostgreSQL with fsync on\n")
        for n in range(args.rounds):
            one, line = await phase(setups[0], args, users)
            print(line, flush=True)
            two, line = await phase(setups[1], args, users)
            print(line, flush=True)
            ratios = f"two / one = {two / one:.2f}"
            if nats is not None:
                news, line = await phase(setups[2], args, users)
                print(line, flush=True)
                ratios += f", two with news / one = {news / one:.2f}, with news / without = {news / two:.2f}"
            print(f"round {n + 1}: {ratios}", flush=True)
    finally:
        for setup in setups:
            for chatd in setup.instances:
                chatd.stop()
            setup.server.stop()
        if nats is not None:
            nats.stop()
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--occupants", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--news", action="store_true", help="a third setup: two instances telling each other (NATS)")
    asyncio.run(main(parser.parse_args()))
