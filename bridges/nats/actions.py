"""Actions in over NATS: request/reply on chatd.<realm>.action.<verb>."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg

from bridges.nats import NatsLink

log = logging.getLogger("chatd.nats.actions")

SUBJECT = "chatd.*.action.*"
Execute = Callable[[str, str, bytes], Awaitable[dict[str, Any]]]


class ActionSubscriber:
    def __init__(self, link: NatsLink, execute: Execute):
        self.link = link
        self.execute = execute
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._subscribe())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _subscribe(self) -> None:
        await self.link.ready.wait()  # the client re-subscribes by itself after reconnects
        assert self.link.client is not None
        await self.link.client.subscribe(SUBJECT, queue="chatd-actions", cb=self._on_request)
        log.info("listening for actions on %s", SUBJECT)

    async def _on_request(self, message: Msg) -> None:
        parts = message.subject.split(".")
        realm, verb = parts[1], parts[3]
        try:
            answer = await self.execute(realm, verb, message.data)
        except Exception:
            log.exception("an action failed")
            answer = {"ok": False, "error": "internal error"}
        if message.reply:
            await message.respond(json.dumps(answer).encode())
