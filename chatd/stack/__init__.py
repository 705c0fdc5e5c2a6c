"""Starts and stops a real stack on loopback: Prosody or ejabberd (rendered config) and chatd.

Used by `chatd stack up|down`, by the integration tests and by the benchmarks, so there
is one way to render Prosody's config and to run both processes.
"""

from __future__ import annotations

from chatd.stack.common import (
    FIREWALL_TEMPLATE,
    PROSODY_TEMPLATE,
    REPO,
    StackError,
    free_port,
    group_alive,
    make_certificate,
    port_is_free,
    render,
    wait_for_port,
)
from chatd.stack.ejabberd import Ejabberd
from chatd.stack.process import (
    SERVERS,
    Chatd,
    Realm,
    build,
    chatd_command,
    child_env,
    default_realms,
    run_cli,
    spawn,
)
from chatd.stack.prosody import Prosody

__all__ = [
    "FIREWALL_TEMPLATE",
    "PROSODY_TEMPLATE",
    "REPO",
    "SERVERS",
    "Chatd",
    "Ejabberd",
    "Prosody",
    "Realm",
    "StackError",
    "build",
    "chatd_command",
    "child_env",
    "default_realms",
    "free_port",
    "group_alive",
    "make_certificate",
    "port_is_free",
    "render",
    "run_cli",
    "spawn",
    "wait_for_port",
]
