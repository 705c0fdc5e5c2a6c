"""What a kill -9 of chatd loses or doubles under one-on-one load, loopback only, bounded.

Four sender/receiver pairs send numbered messages at a fixed rate; mid-run chatd is killed
(SIGKILL) and started again. Per round: messages sent, refused with an error while chatd was
down (explicit), received, silently lost (neither received nor refused) and how many of those
chatd had archived, duplicates, and how many messages chatd handled (received, not archived) or
sent (archived, not sent) again after the restart. Pass
--repo to measure another checkout (e.g. the main branch exported to a folder) in the same run.

    python bench/crash_window.py [--rate 100] [--seconds 20] [--rounds 3] [--repo PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import sys
import tempfile
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--rate", type=float, default=100.0)
parser.add_argument("--seconds", type=float, default=20.0)
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
args = parser.parse_args()
sys.path.insert(0, args.repo)  # chatd (and the process it starts) from that checkout

import tests

tests.__path__.append(str(Path(__file__).resolve().parent.parent / "tests"))  # the load generator from this one

from tests.faults.load import Load
from tests.integration.conftest import launch, shut

PAIRS = [("alice", "bob"), ("carol", "dan"), ("eve", "frank"), ("gina", "hank")]
LIMITS = {"burst_messages": 100_000, "burst_seconds": 1.0, "max_stanza_bytes": 65536}


def archived(store: Path, label: str) -> set[int]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT body FROM messages WHERE body LIKE ?", (f"{label} %",)).fetchall()
    return {int(m.group(1)) for (body,) in rows if (m := re.match(rf"{label} (\d+)$", body or ""))}


async def round_(stack, label: str) -> dict[str, int]:
    load = Load(stack, PAIRS, label)
    await load.connect()

    async def kill_and_restart() -> None:
        stack.chatd.process.kill()
        await asyncio.to_thread(stack.chatd.process.wait)
        await asyncio.to_thread(stack.chatd.start)

    try:
        await load.run(args.rate, args.seconds, random.uniform(0.3, 0.6) * args.seconds, kill_and_restart)
        tally = await load.settle(timeout=10.0)
    finally:
        await load.close()
    lost = tally.silently_lost
    log = stack.chatd.log_file.read_text(errors="replace")
    again = sum(int(n) for n in re.findall(r"sending (\d+) unconfirmed messages again", log))
    handled = sum(int(n) for n in re.findall(r"(\d+) received messages were not archived", log))
    return {
        "sent": len(tally.sent),
        "refused": len(tally.refused),
        "received": len(tally.copies),
        "silently_lost": len(lost),
        "lost_after_archiving": len(lost & archived(stack.chatd.store_path, label)),
        "duplicates": tally.duplicates,
        "handled_again_after_restart": handled,
        "sent_again_after_restart": again,
    }


def main() -> None:
    print(f"chatd from {args.repo}; {args.rate:.0f} msg/s for {args.seconds:.0f} s, kill -9 mid-run")
    for n in range(args.rounds):
        stack = launch(Path(tempfile.mkdtemp(prefix="crash-window-")), limits=LIMITS, log_level="info")
        try:
            result = asyncio.run(round_(stack, f"round{n}"))
        finally:
            shut(stack)
        print(f"round {n + 1}: " + ", ".join(f"{k} {v}" for k, v in result.items()), flush=True)


main()
