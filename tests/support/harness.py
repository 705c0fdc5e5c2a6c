"""A runtime for unit tests: a real store in a temporary file, a policy that records, streams that keep stanzas.

No network: what chatd would write to Prosody is kept in `Stream.sent`.
"""

from __future__ import annotations

from pathlib import Path

from chatd.config import load_config
from chatd.core.model import Directory, Realm, Role
from chatd.core.moderation import Moderation
from chatd.core.ratelimit import RateLimiter
from chatd.runtime import Runtime
from chatd.serial import SerialQueues
from chatd.store import Store
from policies import Action, Context, Verdict

EXAMPLE = Path(__file__).resolve().parents[2] / "conf" / "chatd.example.toml"
EN = Realm("en", "en", "en.example", "rooms.en.example")
PEOPLE = [("alex@localhost", "calm-otter", Role.MEMBER), ("sam@localhost", "brave-heron", Role.MEMBER),
          ("bot@localhost", "helper-bot", Role.BOT), ("guide@localhost", "amber-guide", Role.WALL_GUIDE)]  # fmt: skip


class Recorder:
    """A policy that remembers each context and answers with the action set on it."""

    def __init__(self, action: Action = Action.DELIVER):
        self.contexts: list[Context] = []
        self.action = action

    def review(self, text: str, context: Context) -> Verdict:
        self.contexts.append(context)
        return Verdict(self.action, text)


class Stream:
    """Stands in for a component stream: keeps what would have been written."""

    multicast = None  # no XEP-0033 service: every copy written (as on Prosody)

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, stanza: str | bytes, token: str | None = None) -> None:
        self.sent.append(stanza.decode() if isinstance(stanza, bytes) else stanza)

    def send_nowait(self, stanza: str | bytes) -> None:
        self.sent.append(stanza.decode() if isinstance(stanza, bytes) else stanza)


async def make_runtime(tmp_path: Path, policy: Recorder) -> Runtime:
    store = await Store.open(tmp_path / "s.sqlite3")
    members = [await store.add_member(account, "en", name, role, joined_at=0.0) for account, name, role in PEOPLE]
    runtime = Runtime(
        config=load_config(EXAMPLE, environ={}),
        store=store,
        directory=Directory(members),
        moderation=Moderation(policy),
        limiter=RateLimiter(20, 10.0),
        queues=SerialQueues(),
        realms={"en": EN},
    )
    for domain in (EN.people_domain, EN.rooms_domain):
        runtime.streams[domain] = Stream()  # type: ignore[assignment]
    return runtime
