"""Room fan-out benchmark: a chatd topic room against the server's own MUC, same server, same run.

One sender, 50 occupants (W1), 250-byte bodies, rate limits off on both sides, chatd's moderation
hook on. A plain asyncio client (TCP, SASL PLAIN, bind, join; then it counts bodies and
reads send times from them) drives every connection, so the load generator costs little.
Phases: saturation with a bounded number of messages in flight, then a fixed moderate
rate; for each: deliveries/s, p50/p99 latency, CPU seconds per 1,000 deliveries of the server
and chatd (from /proc), the load client's CPU share. On Prosody, last, chatd's resident memory
with 1,000 rooms of 20 idle occupants (--rooms 0 leaves it out). Loopback only; everything
stops by itself. Last, for each chatd room at saturation: the ratio measured, the ratio that every
process's CPU per delivery predicts when all cores are busy, and the most it could be were chatd free.

--server ejabberd runs ejabberd's mod_muc (loaded for the benchmark only), chatd's room with
each message sent once to mod_multicast (XEP-0033), and chatd's room with a copy per occupant
(chatd restarted with `multicast = false`); --server both runs Prosody's set, then ejabberd's.

    python bench/room_fanout.py [--server prosody|ejabberd|both] [--occupants 50] [--seconds 5]
                                [--window 10] [--rate 2500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadclient import Connection, cpu_seconds, percentile

from chatd.core.model import Role
from chatd.core.rooms import Room, RoomKind
from chatd.policy_loader import load_policy
from chatd.stack import REPO, Chatd, Ejabberd, Prosody, build
from chatd.store import Store

HOST = "localhost"
MUC_DOMAIN = f"conference.{HOST}"
BODY_RE = re.compile(rb"<body>B(\d+) (\d+) ")
FILLER = (
    "I went for a long walk by the river this morning and it helped me think about the group "
    "meeting last week. Thanks to everyone who shared, it made the day at the base feel lighter "
    "and I slept better than I have in a while. "
)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def body(seq: int) -> str:
    head = f"B{seq} {time.monotonic_ns()} "
    return (head + FILLER * 2)[:250]


@dataclass
class Tally:
    """Deliveries seen by receivers, and their latencies (ns)."""

    receivers: int
    counts: dict[int, int] = field(default_factory=dict)
    latencies: list[int] = field(default_factory=list)
    delivered: int = 0
    done: Callable[[int], None] = lambda seq: None

    def reader(self) -> Callable[[bytes], None]:
        tail = b""

        def feed(chunk: bytes) -> None:
            nonlocal tail
            data = tail + chunk
            end = 0
            now = time.monotonic_ns()
            for match in BODY_RE.finditer(data):
                seq = int(match.group(1))
                self.latencies.append(now - int(match.group(2)))
                self.delivered += 1
                count = self.counts.get(seq, 0) + 1
                self.counts[seq] = count
                if count == self.receivers:
                    self.done(seq)
                end = match.end()
            tail = data[max(end, len(data) - 64) :]

        return feed


@dataclass
class Result:
    name: str
    mode: str
    seconds: float
    deliveries: int
    latencies: list[int]
    server_cpu: float
    chatd_cpu: float
    client_cpu: float
    server: str = "prosody"

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 0.5) / 1e6

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99) / 1e6

    def per_thousand(self, cpu: float) -> float:
        return cpu * 1000 / max(self.deliveries, 1)

    @property
    def all_cpu(self) -> float:
        """Every process's CPU: the server, chatd and the load client."""
        return self.server_cpu + self.chatd_cpu + self.client_cpu

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<24} {self.mode:<12} {self.rate:>10,.0f}/s  p50 {self.p50:7.2f} ms  p99 {self.p99:7.2f} ms  "
            f"CPU-s/1000: {self.server} {self.per_thousand(self.server_cpu):.4f} "
            f"chatd {self.per_thousand(self.chatd_cpu):.4f}  load client {self.client_cpu / self.seconds:.0%} of a core"
        )


async def run_phase(
    name: str,
    room: str,
    sender: Connection,
    receivers: list[Connection],
    pids: dict[str, int],
    seconds: float,
    window: int | None,
    rate: float | None,
) -> Result:
    tally = Tally(len(receivers))
    slots = asyncio.Semaphore(window or 1_000_000)
    tally.done = lambda seq: slots.release()
    for connection in receivers:
        connection.listen(tally.reader())
    sender.listen(lambda chunk: None)
    await asyncio.sleep(0.2)
    cpu = {k: cpu_seconds(p) if p else 0.0 for k, p in pids.items()}
    client = time.process_time()
    start = time.monotonic()
    seq = 0
    interval = len(receivers) / rate if rate else 0.0
    while (now := time.monotonic()) - start < seconds:
        if rate:
            await asyncio.sleep(max(0.0, start + seq * interval - now))
        else:
            await slots.acquire()
        seq += 1
        sender.writer.write(f"<message to='{room}' type='groupchat'><body>{body(seq)}</body></message>".encode())
        if seq % 32 == 0 or rate:
            await sender.writer.drain()
    elapsed = time.monotonic() - start
    delivered = tally.delivered
    used = {k: (cpu_seconds(p) if p else 0.0) - cpu[k] for k, p in pids.items()}
    client_cpu = time.process_time() - client
    deadline = time.monotonic() + 10
    while tally.delivered < seq * len(receivers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for connection in [sender, *receivers]:
        if connection.task is not None:
            connection.task.cancel()
    mode = f"window {window}" if window else f"{rate:,.0f}/s"
    return Result(name, mode, elapsed, delivered, tally.latencies, used["server"], used["chatd"], client_cpu)


KEYWORD = "tests.support.seam_policy:make", "", "test keyword policy (--moderation keyword)"


def pick_policy(moderation: str = "real") -> tuple[str, str, str]:
    """The real policy engine with conf/policies.toml when it loads and works, else the test keyword policy
    (asked for: the pipeline, the archive and the desk as always, with almost nothing to read)."""
    if moderation == "keyword":
        return KEYWORD
    spec, settings = "policies.engine:PolicyEngine.from_settings", str(REPO / "conf" / "policies.toml")
    try:
        from policies import Context

        load_policy(spec, settings).review(FILLER, Context(realm="en", language="en"))
        return spec, settings, "real policy engine (conf/policies.toml)"
    except Exception as exc:
        return "tests.support.seam_policy:make", "", f"test keyword policy (real engine failed: {exc})"


def room_static_bytes(count: int = 1000) -> float:
    """Memory of idle room objects (no occupants), measured in this process."""
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rooms = [Room(f"idle-{i}", "en", RoomKind.TOPIC, f"Idle {i}", "", os.urandom(16)) for i in range(count)]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del rooms
    return used / count


def bench_stack(prefix: str, moderation: str = "real") -> tuple[Path, Prosody, Chatd, str]:
    """A Prosody and a chatd in a fresh directory, rate limits off on both sides, logs at warning;
    with the label of the policy in use (pick_policy)."""
    run_dir = Path(tempfile.mkdtemp(prefix=prefix))
    policy, policies_file, policy_label = pick_policy(moderation)
    prosody, chatd = build(
        run_dir,
        host=HOST,
        policy=policy,
        policies_file=policies_file,
        limits={"burst_messages": 10_000_000, "burst_seconds": 1.0, "outbox_size": 1_000_000},
        log_level="warning",
    )
    prosody.log_level = "warn"
    prosody.disabled_modules = ("limits",)
    return run_dir, prosody, chatd, policy_label


async def start_with_members(
    prosody: Prosody, chatd: Chatd, realm: str, members: list[tuple[str, str, str]]
) -> dict[str, int]:
    """Starts Prosody, registers the members (user, password, pseudonym) and adds them to chatd's store,
    then starts chatd; the two processes' pids."""
    prosody.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda m: prosody.register(m[0], m[1]), members))
    store = await Store.open(chatd.store_path)
    for user, _, pseudonym in members:
        await store.add_member(f"{user}@{HOST}", realm, pseudonym, Role.MEMBER)
    await store.close()
    chatd.start(timeout=180)  # the policy engine loads slowly on a busy machine
    assert prosody.process is not None and chatd.process is not None
    return {"prosody": prosody.process.pid, "chatd": chatd.process.pid}


def metric(chatd: Chatd, name: str) -> float:
    """One of chatd's /metrics summed over its labels (lines starting with name)."""
    with urllib.request.urlopen(f"{chatd.http_url}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    return sum(float(line.rpartition(" ")[2]) for line in lines if line.startswith(name))


def multicast_stanzas(chatd: Chatd) -> float:
    """chatd's count of stanzas sent through the server's multicast service."""
    return metric(chatd, "chatd_multicast_stanzas_total{")


def readings(chatd: Chatd) -> str:
    """chatd's risk readings after delivery so far (its /healthz): CPU, windows read by wording alone, texts
    whose meaning was read ahead with others' (zero where not reported)."""
    with urllib.request.urlopen(f"{chatd.http_url}/healthz", timeout=5) as response:
        counters = json.loads(response.read()).get("counters", {})
    return (
        f"chatd's readings after delivery: {counters.get('reading_cpu_seconds', 0.0):.2f} CPU-s,"
        f" {counters.get('quick_readings', 0):,} by wording alone,"
        f" {counters.get('texts_read_ahead', 0):,} texts read ahead"
    )


def beam_pid(shell: int) -> int:
    """The Erlang VM under `ejabberdctl foreground` (a descendant of the shell the stack started)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    todo, found = [shell], shell
    while todo:
        pid = todo.pop()
        try:
            if "beam" in Path(f"/proc/{pid}/comm").read_text():
                found = pid
        except OSError:
            continue
        todo += children.get(pid, [])
    return found


async def measure(
    args: argparse.Namespace,
    users: list[tuple[str, str]],
    port: int,
    rooms: dict[str, str],
    pids: dict[str, int],
    server: str,
) -> list[Result]:
    """Saturation, then the fixed rate, in each room given (name -> address); fresh connections for each."""
    results: list[Result] = []
    for window, rate in ((args.window, None), (None, args.rate)):
        for name, room in rooms.items():
            connections = [await Connection(u, p, port).open() for u, p in users]
            for i, connection in enumerate(connections):
                await connection.join(room, f"load-user{i}")
            result = await run_phase(name, room, connections[0], connections[1:], pids, args.seconds, window, rate)
            result.server = server
            results.append(result)
            print(result.line(), flush=True)
            for connection in connections:
                await connection.close()
            await asyncio.sleep(0.5)
    return results


def ratios(results: list[Result], own: str) -> None:
    saturated = {r.name: r for r in results if r.mode.startswith("window")}
    for name, result in saturated.items():
        if name != own:
            print(f"ratio {name} / {own} at saturation: {result.rate / saturated[own].rate:.2f}")


async def main(args: argparse.Namespace) -> None:
    results: list[Result] = []
    if args.server in ("prosody", "both"):
        results += await on_prosody(args)
    if args.server in ("ejabberd", "both"):
        results += await on_ejabberd(args)
    print(
        "\n| server | room | mode | deliveries/s | p50 ms | p99 ms | server CPU-s/1000 | chatd CPU-s/1000 "
        "| all CPU-s/1000 | / own MUC |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    own = {(r.server, r.mode): r for r in results if "mod_muc" in r.name}
    for r in results:
        base = own.get((r.server, r.mode))
        ratio = f"{r.rate / base.rate:.2f}" if base is not None else ""
        print(
            f"| {r.server} | {r.name} | {r.mode} | {r.rate:,.0f} | {r.p50:.2f} | {r.p99:.2f} | "
            f"{r.per_thousand(r.server_cpu):.4f} | {r.per_thousand(r.chatd_cpu):.4f} | "
            f"{r.per_thousand(r.all_cpu):.4f} | {ratio} |"
        )
    cpu_bounds(results, own)


def cpu_bounds(results: list[Result], own: dict[tuple[str, str], Result]) -> None:
    """When every core is busy at saturation, the rates stand as the CPU all processes spend per delivery:
    the ratio the CPU predicts, and the most it could be with chatd spending nothing."""
    for r in results:
        base = own.get((r.server, r.mode))
        if base is None or r is base or not r.mode.startswith("window") or not r.deliveries:
            continue
        per_base, per_path = base.all_cpu / base.deliveries, r.all_cpu / r.deliveries
        without_chatd = (r.server_cpu + r.client_cpu) / r.deliveries
        print(
            f"{r.server} {r.name}: measured {r.rate / base.rate:.2f} of the own MUC; predicted by all CPU per "
            f"delivery {per_base / per_path:.2f}; with chatd spending nothing at most {per_base / without_chatd:.2f}"
        )


def bench_users(args: argparse.Namespace) -> list[tuple[str, str]]:
    return [(f"load{i}", f"pw-load-{i}") for i in range(args.occupants + 1)]


async def on_prosody(args: argparse.Namespace) -> list[Result]:
    run_dir, prosody, chatd, policy_label = bench_stack("room-fanout-")
    realm = chatd.realms[0]
    realm.rooms = [
        {"id": "bench", "name": "Bench"},
        *({"id": f"idle-{i}", "name": f"Idle {i}"} for i in range(args.rooms)),
        *realm.rooms,  # the configured ones: self-help courses name some
    ]
    prosody.extra_config = (
        f'Component "{MUC_DOMAIN}" "muc"\n  restrict_room_creation = false\n  muc_room_locking = false\n'
    )
    prosody.write_config()
    chatd.write_config()
    users = bench_users(args)
    try:
        named = [(user, password, f"load-user{i}") for i, (user, password) in enumerate(users)]
        started = await start_with_members(prosody, chatd, realm.id, named)
        pids = {"server": started["prosody"], "chatd": started["chatd"]}
        print(f"prosody; moderation: {policy_label}")
        print(f"one sender, {args.occupants} occupants, 250-byte bodies, rate limits off on both sides\n")
        rooms = {"chatd room": f"bench@{realm.rooms_domain}", "prosody mod_muc": f"bench@{MUC_DOMAIN}"}
        results = await measure(args, users, prosody.c2s_port, rooms, pids, "prosody")
        ratios(results, "prosody mod_muc")
        if args.rooms:
            await memory_phase(args, users, prosody.c2s_port, realm.rooms_domain, pids["chatd"])
        return results
    finally:
        chatd.stop()
        prosody.stop()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


EJABBERD_MUC = f"""  mod_muc:  # the room benchmark's own: ejabberd's MUC beside chatd's rooms
    host: "{MUC_DOMAIN}"
    access_create: all
    history_size: 0
    max_users: 1000
    max_user_conferences: 1000
    default_room_options:
      mam: false
"""


async def on_ejabberd(args: argparse.Namespace) -> list[Result]:
    """ejabberd's mod_muc, chatd's room through mod_multicast, then chatd restarted with a copy per occupant."""
    run_dir = Path(tempfile.mkdtemp(prefix="room-fanout-ejabberd-"))
    policy, policies_file, policy_label = pick_policy(args.moderation)
    server, chatd = build(
        run_dir,
        host=HOST,
        server="ejabberd",
        policy=policy,
        policies_file=policies_file,
        limits={"burst_messages": 10_000_000, "burst_seconds": 1.0, "outbox_size": 1_000_000},
        log_level="warning",
    )
    assert isinstance(server, Ejabberd)
    server.extra_modules = EJABBERD_MUC
    server.c2s_rate = 1_000_000_000  # the shaper off, as Prosody's mod_limits is
    realm = chatd.realms[0]
    realm.rooms = [{"id": "bench", "name": "Bench"}, *realm.rooms]  # the configured ones: courses name some
    server.write_config()
    chatd.write_config()
    users = bench_users(args)
    try:
        server.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda u: server.register(u[0], u[1]), users))
        store = await Store.open(chatd.store_path)
        for i, (user, _) in enumerate(users):
            await store.add_member(f"{user}@{HOST}", realm.id, f"load-user{i}", Role.MEMBER)
        await store.close()
        chatd.start(timeout=180)
        assert server.process is not None and chatd.process is not None
        pids = {"server": beam_pid(server.process.pid), "chatd": chatd.process.pid}
        print(f"ejabberd; moderation: {policy_label}")
        print(f"one sender, {args.occupants} occupants, 250-byte bodies, rate limits off on both sides\n")
        await asyncio.sleep(1.0)  # chatd's streams look for the multicast service as they come up
        room = f"bench@{realm.rooms_domain}"
        rooms = {"chatd room, multicast": room, "ejabberd mod_muc": f"bench@{MUC_DOMAIN}"}
        results = await measure(args, users, server.c2s_port, rooms, pids, "ejabberd")
        print(f"stanzas chatd sent to mod_multicast: {multicast_stanzas(chatd):,.0f}; {readings(chatd)}")
        chatd.stop()
        chatd.multicast = False
        chatd.write_config()
        chatd.start(timeout=180)
        assert chatd.process is not None
        pids["chatd"] = chatd.process.pid
        results += await measure(args, users, server.c2s_port, {"chatd room, per occupant": room}, pids, "ejabberd")
        print(f"stanzas chatd sent to mod_multicast: {multicast_stanzas(chatd):,.0f}; {readings(chatd)}")
        ratios(results, "ejabberd mod_muc")
        return results
    finally:
        chatd.stop()
        server.stop()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


async def memory_phase(
    args: argparse.Namespace, users: list[tuple[str, str]], port: int, domain: str, pid: int
) -> None:
    idle = users[: args.idle]
    connections = [await Connection(u, p, port).open() for u, p in idle]
    await asyncio.sleep(1.0)
    before = rss_kb(pid)
    joined = [0] * len(connections)

    def counter(index: int) -> Callable[[bytes], None]:
        def feed(chunk: bytes) -> None:
            joined[index] += chunk.count(b"<status code='110'/>")  # one self-presence per join

        return feed

    for index, connection in enumerate(connections):
        connection.listen(counter(index))
    users_index = {u: i for i, (u, _) in enumerate(users)}
    for start in range(0, args.rooms, 50):  # 50 rooms at a time, every client
        for connection in connections:
            nick = f"load-user{users_index[connection.user]}"
            connection.writer.write(
                "".join(
                    f"<presence to='idle-{r}@{domain}/{nick}'><x xmlns='http://jabber.org/protocol/muc'>"
                    "<history maxstanzas='0'/></x></presence>"
                    for r in range(start, min(start + 50, args.rooms))
                ).encode()
            )
        target = min(start + 50, args.rooms)
        deadline = time.monotonic() + 60
        while min(joined) < target and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
    await asyncio.sleep(1.0)
    after = rss_kb(pid)
    static = room_static_bytes(args.rooms)
    per_room = (after - before) * 1024 / args.rooms
    print(
        f"\nmemory: {args.rooms} rooms x {args.idle} idle occupants ({min(joined)} joins per client done): "
        f"chatd RSS {before / 1024:.1f} MB -> {after / 1024:.1f} MB; "
        f"{per_room / 1024:.1f} KB per room for occupants + {static / 1024:.1f} KB per idle room object "
        f"= {(per_room + static) / 1024:.1f} KB per room"
    )
    for connection in connections:
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", choices=("prosody", "ejabberd", "both"), default="prosody")
    parser.add_argument("--occupants", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--window", type=int, default=10, help="messages in flight at saturation")
    parser.add_argument("--rate", type=float, default=2500.0, help="deliveries per second in the fixed-rate phase")
    parser.add_argument("--rooms", type=int, default=1000, help="idle rooms in the memory phase (0: no memory phase)")
    parser.add_argument("--idle", type=int, default=20, help="idle occupants per room in the memory phase")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs)")
    parser.add_argument(
        "--moderation", choices=("real", "keyword"), default="real", help="keyword: the test policy (on ejabberd)"
    )
    asyncio.run(main(parser.parse_args()))
