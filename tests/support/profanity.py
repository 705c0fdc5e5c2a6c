"""Profanity (the terminal XMPP client) driven through a detached tmux session, for tests.

It runs with its own HOME and XDG folders under a test's tmp path, so no user configuration is read or
written, and on its own tmux server (a socket in that path), so stopping it touches nothing else.
What it shows is read with `tmux capture-pane`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.client import Client, Match

MISSING = [name for name in ("profanity", "tmux") if shutil.which(name) is None]


class Deadline:
    """One time budget shared by every wait of a test."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())


class Profanity:
    def __init__(self, folder: Path, jid: str, password: str, port: int, deadline: Deadline):
        self.folder = folder
        self.jid = jid
        self.deadline = deadline
        self.socket = folder / "tmux.sock"
        accounts = folder / "data" / "profanity" / "accounts"
        for sub in ("home", "config/profanity", "data/profanity"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        # loopback to the test Prosody, which takes SCRAM without TLS in the test profile; no muc.service: Profanity
        # takes the rooms service from what the server lists (disco#items, then each item's features)
        accounts.write_text(
            f"[{jid}]\nenabled=true\njid={jid}\nserver=127.0.0.1\nport={port}\nresource=profanity\n"
            f"password={password}\ntls.policy=disable\n",
            encoding="utf-8",
        )
        accounts.chmod(0o600)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    def start(self) -> None:
        env = " ".join(
            f"{name}={self.folder / sub}"
            for name, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"))
        )
        command = f"env {env} TERM=xterm-256color profanity -a {self.jid}"
        self._tmux("new-session", "-d", "-s", "profanity", "-x", "220", "-y", "60", command)

    def stop(self) -> None:
        """Quits Profanity (it closes its stream), waiting a little for it; then stops this tmux server."""
        if not self.socket.exists():
            return
        with contextlib.suppress(subprocess.SubprocessError):
            self.type("/quit")
            ends = time.monotonic() + 3.0
            while time.monotonic() < ends and self._tmux("list-panes", "-F", "#{pane_dead}").strip() == "0":
                time.sleep(0.1)
        subprocess.run(["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, timeout=10)

    def type(self, line: str) -> None:
        """A line typed into the input bar, then Enter (literal keys: nothing is expanded)."""
        self._tmux("send-keys", "-t", "profanity", "-l", line)
        self._tmux("send-keys", "-t", "profanity", "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "profanity")

    async def shows(self, text: str, within: float | None = None) -> str:
        """Waits (within the test's budget, or fewer seconds) until the visible window shows text; returns the
        screen. AssertionError if it never does."""
        ends = time.monotonic() + min(self.deadline.left(), within if within is not None else self.deadline.left())
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() >= ends:
                raise AssertionError(f"profanity never showed {text!r}; its screen:\n{screen}")
            await asyncio.sleep(0.1)

    async def until_shows(self, command: str, text: str, every: float = 3.0) -> str:
        """Types a command that may come too early (e.g. before Profanity has found the rooms service after
        logging in) again every few seconds until the screen shows text; the test's budget bounds it."""
        while True:
            self.type(command)
            try:
                return await self.shows(text, within=every)
            except AssertionError:
                if not self.deadline.left():
                    raise


async def expect_within(client: Client, deadline: Deadline, match: Match, start: int = 0) -> ET.Element:
    """The client's first matching stanza, waited for within the test's budget."""
    return await client.expect(match, timeout=max(deadline.left(), 0.1), start=start)
