"""A member's last login, time and address, as Prosody's mod_lastlog2 keeps it.

Read with `prosodyctl mod_lastlog2 ACCOUNT` (the module's own command): it goes through Prosody's
storage layer, so it works whatever storage the server uses (files, SQL) without chatd parsing
Prosody's data files, and it is the tool chatd already runs beside Prosody to create accounts.
Only `chatd vault emergency` calls it; the address goes to the clinician's terminal and nowhere else.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from chatd.vault.seal import VaultError

EVENT = re.compile(r"Last (\w+): (.+)")


@dataclass(frozen=True, slots=True)
class LastLogin:
    at: str  # "YYYY-MM-DD HH:MM:SS", UTC
    address: str  # "" when the server did not record it


def parse(output: str) -> LastLogin | None:
    """The login event of prosodyctl's output (it also lists logouts, each followed by its address)."""
    events: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if found := EVENT.fullmatch(line.strip()):
            current = events[found[1]] = [found[2], ""]
        elif line.startswith("IP address: ") and current is not None:
            current[1] = line.removeprefix("IP address: ").strip()
    login = events.get("login")
    return LastLogin(login[0], login[1]) if login else None


def last_login(prosody_config: str, account: str, timeout: float = 30.0) -> LastLogin | None:
    """None when the server has no login of this account on record."""
    try:
        result = subprocess.run(
            ["prosodyctl", "--config", prosody_config, "mod_lastlog2", account],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "TZ": "UTC"},  # the module prints local time
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VaultError(f"prosodyctl could not read the last login ({type(exc).__name__})") from exc
    if "No record found" in result.stdout:
        return None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise VaultError(f"prosodyctl mod_lastlog2 failed ({result.returncode}): {lines[0]}")
    return parse(result.stdout)
