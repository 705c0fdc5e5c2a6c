"""Actions from authorized services (over NATS): post as a bot, remove a message, raise an alert.

Each request names its service and carries that service's token from `[bus] action_tokens`;
each action is checked, executed, answered and written to the audit log.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatd.bus import Bus
from chatd.core import keys
from chatd.core.direct import conversation_key
from chatd.core.guides import CommandProblem
from chatd.core.message import ChatMessage
from chatd.core.model import Directory, Member, Realm, Role
from chatd.core.pipeline import Deliver, TextEvent
from chatd.desk import CRISIS_SEVERITY, Desk
from chatd.events import AlertRaised
from chatd.executor import Executor, Reply
from chatd.guide_actions import GuideActions
from chatd.ports import Clock, Send
from chatd.store.audit import AuditLog
from chatd.store.rooms import RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.rooms import RoomsDomain
from policies import Conversation
from policies import Field as TextField

log = logging.getLogger("chatd.actions")

VERBS = ("post", "remove", "alert")


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1)
    bot: str = ""  # post: the bot member's pseudonym
    room: str = ""  # post: a room of the realm ...
    to: str = ""  # ... or a member's pseudonym
    text: str = Field("", max_length=10000)
    message: str = ""  # remove: the message id guides see
    reason: str = Field("", max_length=500)
    member: str = ""  # alert: whom it is about
    kind: str = Field("", pattern=r"^$|^[a-z]+\.[a-z_.]+$")
    severity: int = Field(1, ge=0, le=3)


class ActionError(Exception):
    pass


class Actions:
    def __init__(
        self,
        tokens: dict[str, str],
        rooms: dict[str, RoomsDomain],
        guide_actions: dict[str, GuideActions],
        desk: Desk,
        audit: AuditLog,
        *,
        executor: Executor,
        realms: Mapping[str, Realm],
        directory: Directory,
        send: Send,
        bus: Bus,
        clock: Clock,
    ):
        self.realms = realms
        self.directory = directory
        self.send = send
        self.bus = bus
        self.clock = clock
        self.tokens = tokens
        self.rooms = rooms
        self.guide_actions = guide_actions
        self.desk = desk
        self.audit = audit
        self.executor = executor

    async def execute(self, realm: str, verb: str, payload: bytes) -> dict[str, Any]:
        """The answer to one request; never raises."""
        try:
            request = ActionRequest.model_validate_json(payload)
        except ValidationError as exc:
            return {"ok": False, "error": f"invalid request: {exc.error_count()} problem(s)"}
        expected = self.tokens.get(request.service)
        if expected is None or not hmac.compare_digest(expected.encode(), request.token.encode()):
            log.warning("an action was refused: unknown service or wrong token")
            return {"ok": False, "error": "not authorized"}
        if realm not in self.realms or verb not in VERBS:
            return {"ok": False, "error": f"unknown realm or action (actions: {', '.join(VERBS)})"}
        try:
            result = await getattr(self, verb)(realm, request)
        except (ActionError, CommandProblem) as exc:
            return {"ok": False, "error": str(exc)}
        await self.audit.append(f"service:{request.service}", f"action.{verb}", realm, result["target"], {})
        return {"ok": True, **result}

    def _member(self, realm: str, pseudonym: str) -> Member:
        member = self.directory.by_pseudonym(realm, pseudonym)
        if member is None or not member.active:
            raise ActionError(f"no active member {pseudonym!r} in realm {realm}")
        return member

    async def post(self, realm: str, request: ActionRequest) -> dict[str, Any]:
        bot = self._member(realm, request.bot)
        if bot.role is not Role.BOT:
            raise ActionError(f"{bot.pseudonym} is not a bot")
        if not request.text.strip() or bool(request.room) == bool(request.to):
            raise ActionError("post needs text and exactly one of room or to")
        rooms = self.rooms[realm]
        room = rooms.rooms.get(request.room) if request.room else None
        recipient = self._member(realm, request.to) if request.to else None
        if request.room and room is None:
            raise ActionError(f"no room {request.room!r}")
        conversation = conversation_key(bot, recipient) if recipient else room.key  # type: ignore[union-attr]
        place = Conversation.DIRECT if recipient else Conversation.ROOM
        event = TextEvent(
            bot, self.realms[realm], request.text, TextField.BODY, place, conversation, "message", recipient
        )
        refused: list[str] = []

        async def deliver(text: str, stanza_id: str) -> None:
            if recipient is not None:
                people = self.realms[realm].people_domain
                message = ChatMessage(stanza_id, "chat", body=text)
                await self.send(people, st.build_message(f"{bot.pseudonym}@{people}", recipient.account, message))
            else:
                record = RoomRecord(0, stanza_id, bot.id, bot.pseudonym, None, text, self.clock())
                await rooms.post_record(request.room, record)

        async def notice(text: str) -> None:
            return None  # a bot hears about its post in the answer

        reply = Reply(lambda refusal: refused.append(refusal.text), notice, deliver)
        outcome = await self.executor.submit(event, reply)
        if outcome.delivered is None:
            verdict = outcome.verdict
            if verdict is not None and not verdict.delivers:
                raise ActionError(f"not delivered: moderation says {verdict.action.value}")
            raise ActionError(f"not delivered: {', '.join(refused) or 'a report'}")
        stanza_id = next(e.stanza_id for e in outcome.effects if isinstance(e, Deliver))
        return {"target": request.room or request.to, "id": stanza_id.rpartition("-")[2]}

    async def remove(self, realm: str, request: ActionRequest) -> dict[str, Any]:
        if not request.message or not request.reason:
            raise ActionError("remove needs message and reason")
        await self.guide_actions[realm].moderate_message(
            f"service:{request.service}", request.message, True, "", request.reason
        )
        return {"target": request.message}

    async def alert(self, realm: str, request: ActionRequest) -> dict[str, Any]:
        member = self._member(realm, request.member)
        if not request.kind:
            raise ActionError("alert needs kind (dotted, e.g. risk.external)")
        conversation = str(keys.guide(member.id))
        summary = f"{request.kind} · {member.pseudonym} (service {request.service}): {request.reason[:200] or '-'}"
        entry = await self.desk.add_entry(realm, "alert", request.severity, conversation, summary, (request.kind,))
        self.bus.publish(
            AlertRaised(
                realm=realm,
                conversation=conversation,
                member=member.pseudonym,
                kind=request.kind,
                severity=request.severity,
            )
        )
        if request.severity >= CRISIS_SEVERITY and request.kind.startswith("risk."):
            await self.desk.send_crisis_resources(member, request.severity)
        return {"target": member.pseudonym, "entry": entry.id}
