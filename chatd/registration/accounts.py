"""Creating the member's XMPP account on the server: one interface, one adapter per server.

ProsodyctlAccounts runs `prosodyctl adduser` beside Prosody; the password goes to
prosodyctl on its standard input (never on a command line) and chatd keeps no copy.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Protocol

ACCOUNT_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class AccountError(Exception):
    """The server did not create (or delete) the account."""


class AccountCreator(Protocol):
    async def create(self, localpart: str, password: str) -> str:
        """Creates localpart@host with the password; returns the bare JID."""
        ...

    async def delete(self, jid: str) -> None: ...


def new_localpart() -> str:
    """A random account name: it says nothing about the person or their pseudonym."""
    return "m-" + "".join(secrets.choice(ACCOUNT_ALPHABET) for _ in range(10))


class ProsodyctlAccounts:
    def __init__(self, prosody_config: str, host: str, timeout: float = 30.0):
        self.prosody_config = prosody_config
        self.host = host
        self.timeout = timeout

    async def _prosodyctl(self, *args: str, stdin: str = "") -> None:
        try:
            process = await asyncio.create_subprocess_exec(
                "prosodyctl", "--config", self.prosody_config, *args,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        except OSError as exc:
            raise AccountError(f"prosodyctl could not be started: {exc.strerror}") from exc
        try:
            output, _ = await asyncio.wait_for(process.communicate(stdin.encode()), self.timeout)
        except TimeoutError as exc:
            process.kill()
            raise AccountError("prosodyctl did not finish in time") from exc
        if process.returncode != 0:
            last_line = output.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise AccountError(f"prosodyctl {args[0]} failed ({process.returncode}): {last_line[0]}")

    async def create(self, localpart: str, password: str) -> str:
        jid = f"{localpart}@{self.host}"
        await self._prosodyctl("adduser", jid, stdin=f"{password}\n{password}\n")
        return jid

    async def delete(self, jid: str) -> None:
        await self._prosodyctl("deluser", jid)
