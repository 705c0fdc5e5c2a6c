"""Actions from authorized services (over NATS): post as a bot, remove a message, raise an alert.

Each request names its service and carries that service's token from `[bus] action_tokens`;
each action is checked, executed, answered and written to the audit log.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatd.core.direct import conversation_key
from chatd.core.guides import CommandProblem
from chatd.core.message import ChatMessage
from chatd.core.model import Member, Role
from chatd.core.shadow import Reviewed
from chatd.desk import CRISIS_SEVERITY, Desk
from chatd.events import AlertRaised
from chatd.runtime import Runtime
from chatd.store import ArchivedMessage
from chatd.store.audit import AuditLog
from chatd.store.rooms import RoomRecord
from chatd.xmpp import stanza as st
from chatd.xmpp.people import new_stanza_id
from chatd.xmpp.rooms import RoomsDomain
from chatd.xmpp.watch import ShadowRooms
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
        runtime: Runtime,
        tokens: dict[str, str],
        rooms: dict[str, RoomsDomain],
        shadows: dict[str, ShadowRooms],
        desk: Desk,
        audit: AuditLog,
    ):
        self.rt = runtime
        self.tokens = tokens
        self.rooms = rooms
        self.shadows = shadows
        self.desk = desk
        self.audit = audit

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
        if realm not in self.rt.realms or verb not in VERBS:
            return {"ok": False, "error": f"unknown realm or action (actions: {', '.join(VERBS)})"}
        try:
            result = await getattr(self, verb)(realm, request)
        except (ActionError, CommandProblem) as exc:
            return {"ok": False, "error": str(exc)}
        await self.audit.append(f"service:{request.service}", f"action.{verb}", realm, result["target"], {})
        return {"ok": True, **result}

    def _member(self, realm: str, pseudonym: str) -> Member:
        member = self.rt.directory.by_pseudonym(realm, pseudonym)
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
        kind = Conversation.DIRECT if recipient else Conversation.ROOM
        verdict = await self.rt.moderate(request.text, bot, self.rt.realms[realm], TextField.BODY, kind)
        conversation = conversation_key(bot, recipient) if recipient else room.key  # type: ignore[union-attr]
        stanza_id = new_stanza_id()
        delivered = verdict.text if verdict.delivers else None
        await self.rt.store.archive(
            ArchivedMessage(
                stanza_id,
                conversation,
                bot.id,
                recipient.id if recipient else None,
                None,
                delivered,
                request.text if delivered != request.text else None,
                verdict.action.value,
                [],
                self.rt.now(),
            )
        )
        self.rt.reviewed(
            Reviewed(realm, conversation, "message", bot, recipient, request.text, verdict, stanza_id, self.rt.now())
        )
        if not verdict.delivers:
            raise ActionError(f"not delivered: moderation says {verdict.action.value}")
        if recipient is not None:
            people = self.rt.realms[realm].people_domain
            message = ChatMessage(stanza_id, "chat", body=verdict.text)
            await self.rt.send(people, st.build_message(f"{bot.pseudonym}@{people}", recipient.account, message))
        else:
            record = RoomRecord(0, stanza_id, bot.id, bot.pseudonym, None, verdict.text, self.rt.now())
            await rooms.post_record(request.room, record)
        return {"target": request.room or request.to, "id": stanza_id.rpartition("-")[2]}

    async def remove(self, realm: str, request: ActionRequest) -> dict[str, Any]:
        if not request.message or not request.reason:
            raise ActionError("remove needs message and reason")
        shadows = self.shadows[realm]
        await shadows.moderate_message(f"service:{request.service}", request.message, True, "", request.reason)
        return {"target": request.message}

    async def alert(self, realm: str, request: ActionRequest) -> dict[str, Any]:
        member = self._member(realm, request.member)
        if not request.kind:
            raise ActionError("alert needs kind (dotted, e.g. risk.external)")
        conversation = f"guide:{member.id}"
        summary = f"{request.kind} · {member.pseudonym} (service {request.service}): {request.reason[:200] or '-'}"
        entry = await self.desk.add_entry(realm, "alert", request.severity, conversation, summary, (request.kind,))
        self.rt.bus.publish(
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
