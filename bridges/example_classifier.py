"""An example external moderation hook: answers chatd's NATS requests.

It holds texts that contain any of the given words (as a second opinion a real classifier would
give) and raises a low-severity alert for them; everything else keeps chatd's own verdict.

    python -m bridges.example_classifier --nats nats://127.0.0.1:4222 \
        --subject chatd.moderation.review --hold-word ammo --hold-word address
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal

import nats

log = logging.getLogger("example-classifier")


def classify(request: dict[str, object], hold_words: frozenset[str]) -> dict[str, object]:
    """The answer for one request; {} keeps chatd's verdict."""
    words = set(str(request.get("text", "")).casefold().split())
    if words & hold_words:
        return {"action": "hold", "alerts": [{"kind": "house.external", "severity": 1}]}
    return {}


async def serve(url: str, subject: str, hold_words: frozenset[str]) -> None:
    client = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)

    async def answer(message: nats.aio.msg.Msg) -> None:
        try:
            reply = classify(json.loads(message.data), hold_words)
        except (ValueError, TypeError):
            reply = {}  # chatd holds on a malformed exchange anyway; answer something valid
        await message.respond(json.dumps(reply).encode())

    await client.subscribe(subject, queue="classifiers", cb=answer)
    log.info("answering on %s", subject)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await client.drain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    parser.add_argument("--subject", default="chatd.moderation.review")
    parser.add_argument("--hold-word", action="append", default=[], help="hold texts with this word (repeatable)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    asyncio.run(serve(args.nats, args.subject, frozenset(w.casefold() for w in args.hold_word)))


if __name__ == "__main__":
    main()
