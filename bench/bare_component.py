"""The floor of the decided stack for W2 (relay_bench.py --bare): a slixmpp component that only relays.

Each message to pen-nameN@DOMAIN goes to memberN@HOST, with its id and body, the way a slixmpp component
is written by the book (stanza objects, a message handler, make_message().send()): no moderation, no
archive, no state. What it costs per relayed message is what the stack costs before chatd does anything.

    python bench/bare_component.py DOMAIN SECRET COMPONENT_PORT HOST
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from slixmpp import ComponentXMPP


class BareRelay(ComponentXMPP):  # type: ignore[misc]
    def __init__(self, domain: str, secret: str, port: int, host: str) -> None:
        super().__init__(domain, secret, "127.0.0.1", port)
        self.members_host = host
        self.add_event_handler("message", self.relay)

    def relay(self, message: Any) -> None:
        target = message["to"].user.replace("pen-name", "member", 1)
        reply = self.make_message(
            mto=f"{target}@{self.members_host}", mbody=message["body"], mtype="chat", mfrom=message["to"]
        )
        reply["id"] = message["id"]
        reply.send()


def main() -> None:
    domain, secret, port, host = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    relay = BareRelay(domain, secret, port, host)
    relay.connect()
    asyncio.get_event_loop().run_forever()


if __name__ == "__main__":
    main()
