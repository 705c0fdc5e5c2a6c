"""One-on-one relay benchmark (W2): chatd's pseudonymous relay against direct messages, same Prosody, same run.

Relay: member A sends to B's pseudonym (pseudonym@en.HOST); Prosody routes it to chatd over the
component link; chatd moderates, archives and sends one stanza to B's account. Direct: the
same traffic between accounts of a second VirtualHost of the same Prosody, without the members'
isolation (the path members would use on an ordinary server). Rate limits off on both sides,
chatd's moderation hook on, Prosody at log level warn.

Phases, for each round: saturation with a bounded number of messages in flight per pair (the
sender sends the next when its receiver got an earlier one), then a fixed moderate rate. For
each: messages/s, p50/p99 latency, CPU-ms per message of Prosody, of chatd (from /proc) and of
the load client, and stanzas chatd wrote per relayed message (CPU and stanzas are counted until
the phase's last message arrived and chatd's work on them, its risk readings included, is done).
Rounds alternate the two paths so that the ratios compare figures measured minutes apart at most.
Loopback only; every phase is bounded in time and everything stops by itself.

    python bench/relay_bench.py [--pairs 20] [--window 8] [--seconds 5] [--rate 300] [--rounds 3]
                                [--profile chatd.prof] [--texts same|new]
                                [--moderation real|keyword] [--bare]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loadclient import Connection, cpu_seconds, percentile
from room_fanout import FILLER, bench_stack, metric, start_with_members

from chatd.stack import Chatd, Prosody, make_certificate

HOST = "localhost"
DIRECT_HOST = f"direct.{HOST}"  # a second VirtualHost of the same Prosody, without the members' isolation
# phase, pair and send time ride in the message id: bodies are ordinary text, without digits
STAMP_RE = re.compile(rb""" id=["']r(\d+)-(\d+)-(\d+)["']""")  # slixmpp's own writer quotes with "
BODY = FILLER[:200]
SETTLE_SECONDS = 60.0  # the longest wait for chatd's readings of a phase to finish
# --texts new: every relayed message a text chatd has not read before (no reading kept for it), made of
# three different everyday sentences; 40 x 39 x 38 = 59,280 texts before one comes back
EVERYDAY = (
    "I went for a long walk by the river this morning.",
    "The group meeting last week helped more than I expected.",
    "Slept better last night than I have in a while.",
    "Does anyone else find the evenings harder than the mornings?",
    "My dog dragged me out the door again, which is probably a good thing.",
    "Finally finished the book everyone was talking about here.",
    "Made soup from scratch today and it actually turned out well.",
    "The waiting room at the clinic was so loud this afternoon.",
    "Thanks for listening yesterday, it meant a lot to me.",
    "I tried the breathing exercise before bed and it took the edge off.",
    "Work was busy but I kept my lunch break for myself for once.",
    "It rained all day so I stayed in and sorted old photos.",
    "Anyone have tips for staying off the phone late at night?",
    "My sister called and we talked for an hour about nothing much.",
    "I signed up for the pottery class I kept putting off.",
    "The garden is finally starting to look like something.",
    "Coffee with an old friend today, first time in months.",
    "Some days are just grey and that is okay too.",
    "I keep a small notebook now and write three good things each night.",
    "The bus was late again but I had my music so it was fine.",
    "Cooking for one still feels strange but I am getting used to it.",
    "We watched a silly movie tonight and I laughed more than I thought I would.",
    "Going to try the morning stretching routine someone posted here.",
    "Glad this room exists, I read more than I post.",
    "The snow came early this year and the kids next door are thrilled.",
    "I told my counsellor about this group and she thought it was a good idea.",
    "Took the long way home just to see the lake.",
    "Trying to drink more water and less coffee this week.",
    "Cleaned out the closet and gave a bag of clothes away.",
    "My knee is sore but the walk was worth it.",
    "Reading everyone's posts tonight made me feel less alone.",
    "I baked bread for the first time, it came out a little flat.",
    "The library had a quiet corner free so I stayed all afternoon.",
    "Looking forward to the weekend, nothing planned and that is the plan.",
    "Had a good chat with my neighbour over the fence.",
    "Started a puzzle with a thousand pieces, might take me all winter.",
    "The new routine is hard but I am sticking with it.",
    "Listened to the rain on the roof and just rested.",
    "Fixed the leaky tap myself, small win but a win.",
    "Hope everyone here has a gentle evening.",
)


@dataclass
class Pair:
    sender: Connection
    receiver: Connection
    target: str  # the address the sender writes to


@dataclass
class Tally:
    """Messages seen by the receivers of one phase, and their latencies (ns)."""

    phase: int
    slots: list[asyncio.Semaphore]
    delivered: int = 0
    latencies: list[int] = field(default_factory=list)

    def reader(self) -> Callable[[bytes], None]:
        tail = b""

        def feed(chunk: bytes) -> None:
            nonlocal tail
            data = tail + chunk
            end = 0
            now = time.monotonic_ns()
            for match in STAMP_RE.finditer(data):
                end = match.end()
                if int(match.group(1)) != self.phase:
                    continue
                self.latencies.append(now - int(match.group(3)))
                self.delivered += 1
                self.slots[int(match.group(2))].release()
            tail = data[max(end, len(data) - 64) :]

        return feed


@dataclass
class Result:
    path: str
    mode: str
    seconds: float
    delivered: int  # within the phase's time
    handled: int  # by the last delivery (CPU and stanzas are counted up to it)
    latencies: list[int]
    cpu: dict[str, float]  # seconds used in the phase: prosody, chatd, chatd's event loop, client
    chatd_wrote: dict[str, float]  # people domain's stream: stanzas, transport writes, probes; reading CPU-s

    @property
    def group(self) -> str:
        return "fixed rate" if self.mode.endswith("/s") else self.mode

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds

    def ms_per_message(self, who: str) -> float:
        return self.cpu[who] * 1000 / max(self.handled, 1)

    def reading_ms(self) -> float:
        """chatd's risk reading after delivery (its thread's CPU), per message."""
        return self.chatd_wrote["reading"] * 1000 / max(self.handled, 1)

    def line(self) -> str:
        per = {key: count / max(self.handled, 1) for key, count in self.chatd_wrote.items()}
        stanzas = (
            f"  chatd per msg: stanzas {per['stanzas_out']:.2f} writes {per['writes']:.2f} probes {per['probes']:.2f}"
            if self.path == "relay"
            else ""
        )
        p50, p99 = percentile(self.latencies, 0.5) / 1e6, percentile(self.latencies, 0.99) / 1e6
        return (
            f"{self.path:<7} {self.mode:<10} {self.rate:>8,.0f} msg/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms"
            f"  CPU-ms/msg: prosody {self.ms_per_message('prosody'):.3f} chatd {self.ms_per_message('chatd'):.3f}"
            f" (reading {self.reading_ms():.3f}, event loop {self.ms_per_message('chatd_loop'):.3f},"
            f" gc {self.chatd_wrote['gc'] * 1000 / max(self.handled, 1):.3f})"
            f"  client {self.cpu['client'] * 1000 / max(self.handled, 1):.3f}" + stanzas
        )


async def run_phase(
    path: str,
    phase: int,
    pairs: list[Pair],
    pids: dict[str, int],
    chatd: Chatd | None,
    args: argparse.Namespace,
    rate: float,
) -> Result:
    window = args.window if not rate else 1_000_000
    tally = Tally(phase, [asyncio.Semaphore(window) for _ in pairs])
    for pair in pairs:
        pair.receiver.listen(tally.reader())
        pair.sender.listen(lambda chunk: None)
    await asyncio.sleep(0.2)
    written = chatd_writes(chatd, args.domain)
    cpu = {name: process_cpu(name, pid) for name, pid in pids.items()}
    client = time.process_time()
    start = time.monotonic()
    sent = [0] * len(pairs)

    def write(index: int) -> None:
        sent[index] += 1
        body = BODY if args.texts == "same" else next(args.bodies)
        pairs[index].sender.writer.write(
            f"<message to='{pairs[index].target}' type='chat' id='r{phase}-{index}-{time.monotonic_ns()}'>"
            f"<body>{body}</body></message>".encode()
        )

    async def saturate(index: int) -> None:
        while time.monotonic() - start < args.seconds:
            try:
                await asyncio.wait_for(tally.slots[index].acquire(), 10)
            except TimeoutError:
                return  # nothing came back for 10 s: reported as undelivered below
            write(index)
            if sent[index] % 16 == 0:
                await pairs[index].sender.writer.drain()

    async def steady() -> None:
        count = 0
        while (now := time.monotonic()) - start < args.seconds:
            await asyncio.sleep(max(0.0, start + count / rate - now))
            write(count % len(pairs))
            count += 1

    if rate:
        await steady()
    else:
        await asyncio.gather(*(saturate(i) for i in range(len(pairs))))
    elapsed = time.monotonic() - start
    delivered = tally.delivered  # within the phase: the rate
    deadline = time.monotonic() + 10
    while tally.delivered < sum(sent) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    if tally.delivered < sum(sent):
        print(f"  ({path}: {sum(sent) - tally.delivered} of {sum(sent)} messages not delivered within 10 s)")
    if not await chatd_settled(chatd):
        print(f"  ({path}: chatd's work on the phase's messages still waiting after {SETTLE_SECONDS:.0f} s)")
    # CPU and stanzas up to the last delivery and chatd's last reading, per message delivered by then
    used = {name: process_cpu(name, pid) - cpu[name] for name, pid in pids.items()}
    used["client"] = time.process_time() - client
    stanzas = {key: count - written[key] for key, count in chatd_writes(chatd, args.domain).items()}
    for pair in pairs:
        pair.receiver.stop_listening()
        pair.sender.stop_listening()
    mode = f"{rate:,.0f}/s" if rate else f"window {args.window}"
    return Result(path, mode, elapsed, delivered, tally.delivered, tally.latencies, used, stanzas)


def start_bare(
    prosody: Prosody, members: list[tuple[str, str]], domain: str, secret: str
) -> tuple[dict[str, int], subprocess.Popen[bytes]]:
    """Prosody with the members, and the bare component in chatd's place (--bare); the two pids."""
    prosody.start()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda m: prosody.register(*m), members))
    script = Path(__file__).resolve().parent / "bare_component.py"
    command = [sys.executable, str(script), domain, secret, str(prosody.component_port), HOST]
    bare = subprocess.Popen(command)
    time.sleep(2)  # connected and handshaken: a few ms; the relay phases fail visibly otherwise
    assert prosody.process is not None and bare.poll() is None
    return {"prosody": prosody.process.pid, "chatd": bare.pid}, bare


def everyday_texts() -> Iterator[str]:
    """Texts of three different everyday sentences, each once in 59,280 (--texts new)."""
    count = len(EVERYDAY)
    for number in itertools.count():
        first = number % count
        others = [i for i in range(count) if i != first]
        second = others[(number // count) % (count - 1)]
        third = [i for i in others if i != second][(number // (count * (count - 1))) % (count - 2)]
        yield " ".join(EVERYDAY[i] for i in (first, second, third))


async def chatd_settled(chatd: Chatd | None) -> bool:
    """Waits (at most SETTLE_SECONDS) until chatd has no work waiting (its /metrics chatd_queue_depth): the risk
    readings after delivery fall behind at saturation, and their CPU belongs to the phase that sent the texts,
    not to the next (where it would also slow the direct path). False if work still waits."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while chatd is not None:
        if metric(chatd, "chatd_queue_depth") == 0:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def process_cpu(name: str, pid: int) -> float:
    """CPU seconds of a process, or of its main thread (the event loop) for names ending in _loop."""
    return cpu_seconds(pid) if not name.endswith("_loop") else cpu_seconds(pid, f"task/{pid}/")


def chatd_writes(chatd: Chatd | None, domain: str) -> dict[str, float]:
    """What chatd wrote on one stream: stanzas, transport writes, routing probes, and the CPU seconds
    of its risk readings after delivery and of its garbage collections (zero where not reported, and
    for the bare component, chatd None)."""
    if chatd is None:
        return dict.fromkeys(("stanzas_out", "writes", "probes", "reading", "gc"), 0.0)
    with urllib.request.urlopen(f"{chatd.http_url}/healthz", timeout=5) as response:
        health = json.loads(response.read())
    stream = health["streams"][domain]
    counts: dict[str, float] = {key: int(stream.get(key, 0)) for key in ("stanzas_out", "writes", "probes")}
    counters = health.get("counters", {})
    counts["reading"] = float(counters.get("reading_cpu_seconds", 0.0))
    counts["gc"] = float(counters.get("gc_cpu_seconds", 0.0))  # the garbage collector, on any thread
    return counts


async def connect_pairs(
    accounts: list[tuple[str, str]], port: int, host: str, target: Callable[[int], str]
) -> list[Pair]:
    connections = [await Connection(u, p, port, host).open() for u, p in accounts]
    for connection in connections:
        connection.available()
    half = len(connections) // 2
    return [Pair(connections[i], connections[half + i], target(half + i)) for i in range(half)]


def summary(results: list[Result]) -> None:
    print("\nratios relay / direct, one per round (same Prosody, same run):")
    for mode in dict.fromkeys(r.group for r in results):
        relay = [r for r in results if r.group == mode and r.path == "relay"]
        direct = [r for r in results if r.group == mode and r.path == "direct"]
        rates = [a.rate / b.rate for a, b in zip(relay, direct, strict=True)]
        prosody = [
            a.ms_per_message("prosody") / b.ms_per_message("prosody") for a, b in zip(relay, direct, strict=True)
        ]
        chatd = [r.ms_per_message("chatd") for r in relay]
        # chatd's CPU against Prosody's own per direct message, same round: the figure another machine can compare
        against_direct = [
            a.ms_per_message("chatd") / b.ms_per_message("prosody") for a, b in zip(relay, direct, strict=True)
        ]
        reading = [r.reading_ms() for r in relay]
        rest = [r.ms_per_message("chatd") - r.reading_ms() for r in relay]
        p99 = [
            percentile(a.latencies, 0.99) / max(percentile(b.latencies, 0.99), 1)
            for a, b in zip(relay, direct, strict=True)
        ]
        print(
            f"  {mode:<10} throughput {_spread(rates)}   Prosody CPU per message {_spread(prosody)}"
            f"   p99 {_spread(p99)}   chatd CPU-ms/msg {_spread(chatd, 3)}:"
            f" reading {_spread(reading, 3)}, the rest {_spread(rest, 3)}"
            f"   chatd CPU / Prosody's per direct message {_spread(against_direct)}"
        )
    relayed = sum(r.handled for r in results if r.path == "relay")
    reading = sum(r.chatd_wrote["reading"] for r in results) * 1000 / max(relayed, 1)
    chatd = sum(r.cpu["chatd"] for r in results) * 1000 / max(relayed, 1)
    collector = sum(r.chatd_wrote["gc"] for r in results) * 1000 / max(relayed, 1)
    print(
        f"  whole run, per relayed message: chatd {chatd:.3f} CPU-ms, of which the risk reading {reading:.3f}"
        f" and the rest {chatd - reading:.3f};"
        f" garbage collection {collector:.3f} (in either)"
    )


def _spread(values: list[float], digits: int = 2) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


async def main(args: argparse.Namespace) -> None:
    run_dir, prosody, chatd, policy_label = bench_stack("relay-bench-", args.moderation)
    realm = chatd.realms[0]
    args.domain = realm.people_domain
    prosody.extra_config = f'VirtualHost "{DIRECT_HOST}"\n'
    prosody.write_config()
    make_certificate(DIRECT_HOST, prosody.run_dir / "certs")
    if args.profile:
        chatd.command = lambda *a: [sys.executable, "-m", "cProfile", "-o", args.profile, "-m", "chatd", *a]  # type: ignore[method-assign]
    members = [(f"member{i}", f"pw-member-{i}") for i in range(2 * args.pairs)]
    bare: subprocess.Popen[bytes] | None = None
    direct = [(f"direct{i}", f"pw-direct-{i}") for i in range(2 * args.pairs)]
    try:
        named = [(user, password, f"pen-name{i}") for i, (user, password) in enumerate(members)]
        if args.bare:
            pids, bare = start_bare(prosody, members, realm.people_domain, realm.people_secret)
            policy_label = "none: the bare slixmpp component (bench/bare_component.py) relays"
        else:
            pids = await start_with_members(prosody, chatd, realm.id, named)
        pids["chatd_loop"] = pids["chatd"]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda u: prosody.register(*u, host=DIRECT_HOST), direct))
        print(f"moderation: {policy_label}")
        same = args.texts == "same"
        bodies = "200-byte bodies, the same text" if same else "a new everyday text each (128-219 bytes)"
        print(f"{args.pairs} pairs, {bodies}, rate limits off on both sides, {args.rounds} rounds\n")
        paths = {
            "direct": await connect_pairs(direct, prosody.c2s_port, DIRECT_HOST, lambda i: f"direct{i}@{DIRECT_HOST}"),
            "relay": await connect_pairs(
                members, prosody.c2s_port, HOST, lambda i: f"pen-name{i}@{realm.people_domain}"
            ),
        }
        results: list[Result] = []
        phase = 0
        for round_number in range(args.rounds):
            order = ("direct", "relay") if round_number % 2 == 0 else ("relay", "direct")
            rate = 0.0
            for fixed in (False, True):
                if fixed:  # a moderate rate both paths sustain
                    rate = args.rate or max(10.0, round(min(r.rate for r in results[-2:]) / 2, -1))
                for path in order:
                    phase += 1
                    result = await run_phase(path, phase, paths[path], pids, None if args.bare else chatd, args, rate)
                    results.append(result)
                    print(result.line(), flush=True)
                    await asyncio.sleep(0.5)
        summary(results)
        for pairs in paths.values():
            for pair in pairs:
                await pair.sender.close()
                await pair.receiver.close()
    finally:
        if bare is not None:
            bare.terminate()
            bare.wait(10)
        chatd.stop()
        prosody.stop()
        if not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--window", type=int, default=8, help="messages in flight per pair at saturation")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="messages/s in the fixed-rate phase (default: half the slower saturation)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="", help="run chatd under cProfile, writing this file")
    parser.add_argument("--keep", action="store_true", help="keep the run directory (logs)")
    parser.add_argument(
        "--bare",
        action="store_true",
        help="a slixmpp component that only relays in chatd's place: the stack's floor",
    )
    parser.add_argument(
        "--moderation",
        choices=("real", "keyword"),
        default="real",
        help="keyword: the test policy (chatd's own work with almost nothing to read)",
    )
    parser.add_argument(
        "--texts",
        choices=("same", "new"),
        default="same",
        help="every message the same text (chatd's readings kept) or a new everyday text each",
    )
    arguments = parser.parse_args()
    arguments.profile = str(Path(arguments.profile).resolve()) if arguments.profile else ""
    arguments.bodies = everyday_texts()
    asyncio.run(main(arguments))
