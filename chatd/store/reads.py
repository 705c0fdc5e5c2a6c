"""Reading the archive back (a part of chatd.store.Store): conversations, and the messages guides and
reports name."""

from __future__ import annotations

import json

from chatd.core.pipeline import ArchivedMessage
from chatd.store.db import Database


class ArchiveReads:
    db: Database

    async def conversation(self, conversation: str, limit: int = 100) -> list[ArchivedMessage]:
        rows = await self._messages("conversation = ?", (conversation,), limit)
        return list(reversed(rows))

    async def conversations_like(self, prefix: str) -> list[str]:
        async with self.db.execute(
            "SELECT DISTINCT conversation FROM messages WHERE conversation LIKE ?", (f"{prefix}%",)
        ) as cursor:
            return [row[0] for row in await cursor.fetchall()]

    async def recent_by_member(self, member_id: int, limit: int = 10) -> list[ArchivedMessage]:
        """A member's latest texts across conversations, newest first (shadow rooms excluded)."""
        return await self._messages("sender_id = ? AND conversation NOT LIKE 'watch:%'", (member_id,), limit)

    async def find_message(self, short_id: str, verdicts: tuple[str, ...]) -> ArchivedMessage | None:
        """A member's message by the random tail of its stanza id (what guides type), if unique."""
        if not short_id.isalnum() or not verdicts:
            return None
        marks = ", ".join("?" * len(verdicts))
        rows = await self._messages(
            f"verdict IN ({marks}) AND stanza_id LIKE ? AND conversation NOT LIKE 'watch:%'",
            (*verdicts, f"%-{short_id}"),
            2,
        )
        return rows[0] if len(rows) == 1 else None

    async def reported_message(self, conversation: str, reply_id: str) -> ArchivedMessage | None:
        """The message a report answers: by stanza id (rooms) or by the author's own id (chats)."""
        rows = await self._messages(
            "conversation = ? AND (stanza_id = ? OR client_id = ?)", (conversation, reply_id, reply_id), 1
        )
        return rows[0] if rows else None

    async def latest_between(self, sender_id: int, recipient_id: int) -> ArchivedMessage | None:
        """The last one-on-one message one member sent another."""
        rows = await self._messages("sender_id = ? AND recipient_id = ? AND conversation LIKE 'dm:%'",
                                    (sender_id, recipient_id), 1)  # fmt: skip
        return rows[0] if rows else None

    async def quoted_message(self, recipient_id: int, quote: str) -> ArchivedMessage | None:
        """The latest message a member received that contains the quoted text (a report to wallguide@)."""
        rows = await self._messages(
            "recipient_id = ? AND conversation LIKE 'dm:%' AND instr(body, ?) > 0", (recipient_id, quote), 1
        )
        return rows[0] if rows else None

    async def _messages(self, where: str, args: tuple[object, ...], limit: int) -> list[ArchivedMessage]:
        async with self.db.execute(
            f"SELECT * FROM messages WHERE {where} ORDER BY seq DESC LIMIT ?", (*args, limit)
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            ArchivedMessage(
                stanza_id=r["stanza_id"],
                conversation=r["conversation"],
                sender_id=r["sender_id"],
                recipient_id=r["recipient_id"],
                client_id=r["client_id"],
                body=r["body"],
                original=r["original"],
                verdict=r["verdict"],
                findings=json.loads(r["findings"]),
                created_at=r["created_at"],
                unsent=bool(r["unsent"]),
                refs=r["refs"],
                quote_end=r["quote_end"],
            )
            for r in rows
        ]
