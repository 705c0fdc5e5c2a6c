"""Stanza ids chatd gives the messages it archives and sends: time-ordered, with a random tail."""

from __future__ import annotations

import secrets
import time


def new_stanza_id() -> str:
    return f"{time.time_ns():x}-{secrets.token_hex(4)}"
