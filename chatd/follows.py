"""Following topic rooms without joining them: "!follow", "!unfollow", "!following" to wallguide@, and the
digests (chatd/core/follows.py decides; this reads and writes the store and sends).

A digest is a chat message from wallguide@ with a receipt request: a member who is offline gets it from
the server's offline storage at their next login. While it waits (the member has not been seen since it
was sent: no receipt, no stanza to the realm's domain), no other digest is sent; the next one counts from
the end of the waiting one's window. Windows are claimed in the store before a digest is sent, so a
restart never sends one twice.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping

from chatd import i18n
from chatd.config import Config
from chatd.core import follows as core
from chatd.core.commands import Command
from chatd.core.follows import DigestLine, Pace
from chatd.core.message import ChatMessage
from chatd.core.model import Directory, Member, Realm
from chatd.core.tags import ListedRoom
from chatd.ids import new_stanza_id
from chatd.ports import Clock, Languages, Send
from chatd.serial import SerialQueues
from chatd.store.follows import FollowStore
from chatd.xmpp import stanza as st

log = logging.getLogger("chatd.follows")

Answer = tuple[str, dict[str, str]]  # an i18n key and its parameters


def topic_rooms(config: Config, realm: str) -> list[ListedRoom]:
    """A realm's topic rooms as the directory shows them (never private groups), in config order."""
    found = next((r for r in config.realms if r.id == realm), None)
    return [ListedRoom(r.id, r.name, r.description, tuple(r.tags)) for r in (found.rooms if found else [])]


def tag_labels(rooms: list[ListedRoom]) -> dict[str, list[str]]:
    """tag -> its names in every language, for the tags these rooms carry."""
    return {t: i18n.tag_names(t) for room in rooms for t in room.tags}


def tags_text(language: str, rooms: list[ListedRoom]) -> str:
    return ", ".join(sorted({i18n.tag_name(language, t) for room in rooms for t in room.tags}))


def render(lines: list[DigestLine], language: str, rooms_domain: str) -> str:
    """A digest in the member's language: one line per room (a count, never a text or an author), a join link."""
    said = []
    for line in lines:
        since = i18n.text(language, f"digest.since.{line.since.key}", **dict(line.since.params))
        link = f"xmpp:{line.room}@{rooms_domain}?join"
        said.append(i18n.plural(language, "digest.line", line.count, count=str(line.count), room=line.name,
                                since=since, link=link))  # fmt: skip
    return "\n".join([*said, i18n.text(language, "digest.footer")])


class Follows:
    def __init__(
        self,
        store: FollowStore,
        config: Config,
        realms: Mapping[str, Realm],
        directory: Directory,
        languages: Languages,
        queues: SerialQueues,
        send: Send,
        clock: Clock,
    ):
        self.store = store
        self.config = config
        self.realms = realms
        self.directory = directory
        self.languages = languages
        self.queues = queues
        self.send = send
        self.clock = clock
        self.waiting: set[int] = set()  # followers whose last digest waits to be seen

    async def load(self) -> None:
        self.waiting = await self.store.waiting()

    # commands to wallguide@

    async def command(self, member: Member, command: Command) -> Answer:
        """ "!follow <room or tag> [hourly|daily]", "!follow hourly|daily|off", "!unfollow <room or tag>",
        "!following"."""
        language = self.languages.of(member)
        rooms = topic_rooms(self.config, member.realm)
        if command.name == "following":
            return await self._listing(member, language, rooms)
        request = core.parse_follow(command.argument)
        if command.name == "unfollow":
            request = core.FollowRequest(command.argument, None)
        if not request.target:
            if request.pace is None or command.name == "unfollow":
                return self._how(language, rooms)
            return await self._set_pace(member, language, rooms, request.pace)
        target = core.target_of(request.target, rooms, tag_labels(rooms))
        if target is None:
            rooms_named = ", ".join(f"{r.name} ({r.local})" for r in rooms)
            return "command.follow_unknown", {"name": request.target, "rooms": rooms_named,
                                              "tags": tags_text(language, rooms)}  # fmt: skip
        name = self._name(target, language, rooms)
        if command.name == "unfollow":
            done = await self.store.unfollow(member.id, target)
            tag = core.target_of(f"#{request.target}", rooms, tag_labels(rooms))
            if not done and tag is not None and tag != target and await self.store.unfollow(member.id, tag):
                done, name = True, self._name(tag, language, rooms)  # followed as a tag that is also a room's name
            if not await self.store.follows(member.id):
                self.waiting.discard(member.id)
            return ("command.unfollowed" if done else "command.not_following"), {"name": name}
        return await self._follow(member, language, target, name, request.pace)

    async def _follow(self, member: Member, language: str, target: str, name: str, pace: Pace | None) -> Answer:
        now = self.clock()
        follower = await self.store.follower(member.id)
        chosen = pace or (follower.pace if follower is not None else core.DEFAULT_PACE)
        added = await self.store.follow(member.id, target, now, chosen, core.next_due(now, chosen))
        if follower is not None and pace is not None and pace is not follower.pace:
            await self._change_pace(member.id, follower.pace, follower.since, pace)
        pace_text = i18n.text(language, f"follow.pace.{chosen.value}")
        if not added:
            return "command.follow_already", {"name": name, "pace": pace_text}
        log.info("a member follows %s", target)
        return "command.followed", {"name": name, "pace": pace_text, "target": target.split(":", 1)[1]}

    async def _set_pace(self, member: Member, language: str, rooms: list[ListedRoom], pace: Pace) -> Answer:
        follower = await self.store.follower(member.id)
        if follower is None:
            return "command.following_none", {"example": self._example(rooms)}
        await self._change_pace(member.id, follower.pace, follower.since, pace)
        names = await self._names(member, language, rooms)
        return "command.follow_pace", {"pace": i18n.text(language, f"follow.pace.{pace.value}"), "names": names}

    async def _change_pace(self, member_id: int, old: Pace, since: float, pace: Pace) -> None:
        """Between hourly and daily the window goes on; turned on again after off, it starts now."""
        if old is Pace.OFF and pace is not Pace.OFF:
            since = self.clock()
        await self.store.set_pace(member_id, pace, since, core.next_due(since, pace))

    async def _listing(self, member: Member, language: str, rooms: list[ListedRoom]) -> Answer:
        follower = await self.store.follower(member.id)
        if follower is None:
            return "command.following_none", {"example": self._example(rooms)}
        names = await self._names(member, language, rooms)
        return "command.following_list", {"names": names, "pace": i18n.text(language, f"follow.pace.{follower.pace}")}

    async def _names(self, member: Member, language: str, rooms: list[ListedRoom]) -> str:
        return ", ".join(self._name(t, language, rooms) for t in await self.store.follows(member.id))

    def _how(self, language: str, rooms: list[ListedRoom]) -> Answer:
        rooms_named = ", ".join(f"{r.name} ({r.local})" for r in rooms)
        return "command.follow_how", {"example": self._example(rooms), "rooms": rooms_named,
                                      "tags": tags_text(language, rooms)}  # fmt: skip

    @staticmethod
    def _example(rooms: list[ListedRoom]) -> str:
        return rooms[0].local if rooms else "general"

    @staticmethod
    def _name(target: str, language: str, rooms: list[ListedRoom]) -> str:
        covered = core.rooms_of(target, rooms)
        if target.startswith(core.TAG_PREFIX):
            tag = i18n.tag_name(language, target[len(core.TAG_PREFIX) :])
            return i18n.text(language, "follow.tag", tag=tag, rooms=", ".join(r.name for r in covered))
        return covered[0].name if covered else target.split(":", 1)[1]

    # being seen: the waiting digest has reached the member (or will at once)

    def seen(self, member: Member) -> None:
        """The member sent something to the realm's domain (a receipt, a command, a chat, a login)."""
        if member.id in self.waiting:
            self.waiting.discard(member.id)
            self.queues.submit(member.account, lambda: self._seen(member.id))

    async def _seen(self, member_id: int) -> None:
        follower = await self.store.follower(member_id)
        if follower is not None:
            now = self.clock()
            await self.store.seen(member_id, core.next_due(now, follower.pace) or now)

    # digests

    async def run(self, every: float) -> None:
        """Sends due digests, checking every `every` seconds (a task that runs until cancelled)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.send_due()
            except Exception:
                log.exception("sending digests failed")

    async def send_due(self) -> None:
        """Each due follower's digest, in that member's queue (after their commands)."""
        for follower in await self.store.due(self.clock()):
            member = self.directory.by_id(follower.member_id)
            key = member.account if member is not None else f"follower:{follower.member_id}"
            self.queues.submit(key, functools.partial(self.digest, follower.member_id))

    async def digest(self, member_id: int) -> None:
        """The digest of a due follower's window, if anything is new; the window is claimed first."""
        now = self.clock()
        follower = await self.store.follower(member_id)
        if follower is None or follower.due_at is None or follower.due_at > now or follower.waiting_id is not None:
            return  # changed or sent meanwhile
        member = self.directory.by_id(member_id)
        lines: list[DigestLine] = []
        if member is not None and member.active and member.realm in self.realms:
            rooms = topic_rooms(self.config, member.realm)
            starts = core.followed_since(await self.store.follows(member_id), rooms, follower.since)
            counts = await self.store.new_messages(member.realm, starts, now)
            lines = core.compose(rooms, starts, counts, now)
        digest_id = new_stanza_id() if lines else None
        if not await self.store.claim_window(member_id, follower.since, now, core.next_due(now, follower.pace),
                                             digest_id):  # fmt: skip
            return
        if member is None or digest_id is None:
            return
        realm = self.realms[member.realm]
        body = render(lines, self.languages.of(member), realm.rooms_domain)
        message = ChatMessage(digest_id, "chat", body, receipt_request=True, markable=True)
        self.waiting.add(member_id)
        await self.send(realm.people_domain, st.build_message(realm.guide_jid, member.account, message))
        log.info("digest sent: %d rooms, %d messages", len(lines), sum(line.count for line in lines))
