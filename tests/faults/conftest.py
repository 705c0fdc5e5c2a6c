"""Fault tests: their own Prosody and chatd (faults leave marks), bounded load on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.conftest import Stack, running_stack

# high enough that the load is never refused for speed
FAULT_LIMITS = {"burst_messages": 100_000, "burst_seconds": 1.0, "max_stanza_bytes": 65536}


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory, "faults", limits=FAULT_LIMITS, log_level="info") as running:
        yield running


def tracebacks(stack: Stack) -> int:
    return stack.chatd.log_file.read_text(errors="replace").count("Traceback")
