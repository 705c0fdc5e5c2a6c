"""A full or read-only disk under the store: chatd refuses, says so on /healthz and /metrics, and recovers.

The store lives on a small tmpfs of its own (skipped where this machine cannot mount one).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatd.stack import REPO, child_env
from tests.integration.conftest import Stack, running_stack
from tests.support.client import error_from, message_from


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "4m") -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def remount(folder: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True)


@contextlib.contextmanager
def full(disk: Path) -> Iterator[None]:
    """Fills the disk to the last byte; frees it again on leaving."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
    with open(filler, "ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 512)
    try:
        yield
    finally:
        filler.unlink()


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with small_disk(tmp_path_factory.mktemp("store-disk") / "disk") as folder:
        yield folder


@pytest.fixture(scope="module")
def disk_stack(tmp_path_factory: pytest.TempPathFactory, disk: Path) -> Iterator[Stack]:
    limits = {"burst_messages": 500, "burst_seconds": 10.0, "max_stanza_bytes": 8192}
    with running_stack(tmp_path_factory, "store-faults", store_folder=disk, limits=limits) as running:
        yield running


def metric(stack: Stack, name: str) -> float:
    with urllib.request.urlopen(f"{stack.chatd.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


async def first_of(*waits) -> int:
    """The index of the wait that finished first; the others are cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    winner = next(iter(done))
    winner.result()
    return tasks.index(winner)


async def wait_for(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.2)


async def test_disk_full_refuses_reports_unhealthy_and_recovers_when_space_is_freed(
    disk_stack: Stack, disk: Path, connect_to
) -> None:
    stack = disk_stack
    alice, bob = await connect_to(stack, "alice"), await connect_to(stack, "bob")
    to_bob, from_alice = stack.pseudonym_jid("bob"), stack.pseudonym_jid("alice")
    alice.send_chat(to_bob, "before the disk fills")
    await bob.expect(message_from(from_alice, "before the disk fills"))

    with full(disk):
        # what the store had already allocated (its WAL) still takes a few commits; then writes fail
        refused, delivered = [], []
        for n in range(40):
            text = f"while the disk is full {n}"
            sent = alice.send_chat(to_bob, text)
            outcome = await first_of(
                alice.expect(error_from(to_bob, "internal-server-error", stanza_id=sent), timeout=10),
                bob.expect(message_from(from_alice, text), timeout=10),
            )
            (refused if outcome == 0 else delivered).append(text)
            if len(refused) == 5:
                break
        assert len(refused) == 5
        health = await asyncio.to_thread(stack.chatd.health)
        assert health["status"] == "degraded" and health["store"] == "error"
        assert health["store_fault"] == "the disk is full"
        assert await asyncio.to_thread(metric, stack, "chatd_store_up") == 0
        assert await asyncio.to_thread(metric, stack, "chatd_store_write_failures_total") >= 5
        await asyncio.sleep(2.5)  # chatd keeps trying while the disk stays full
        assert (await asyncio.to_thread(stack.chatd.health))["store"] == "error"

    await wait_for(lambda: stack.chatd.health()["status"] == "ok")  # nobody wrote since: chatd found out itself
    assert await asyncio.to_thread(metric, stack, "chatd_store_up") == 1
    for n in range(30):
        alice.send_chat(to_bob, f"after space was freed {n}")
    for n in range(30):
        await bob.expect(message_from(from_alice, f"after space was freed {n}"), timeout=10)
    with contextlib.closing(sqlite3.connect(stack.chatd.store_path)) as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM messages WHERE conversation LIKE 'dm:%'")]
    assert sum(b.startswith("after space was freed") for b in bodies) == 30
    assert not set(refused) & set(bodies) and set(delivered) <= set(bodies)  # archived exactly what was delivered
    log = stack.chatd.log_file.read_text()
    assert "store writes fail (the disk is full)" in log and "store writes work again" in log


def start_plainly(stack: Stack) -> subprocess.CompletedProcess[str]:
    """`chatd run` in the foreground, as an operator would start it."""
    command = stack.chatd.command("run", "--config", str(stack.chatd.config_file))
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, cwd=REPO, env=child_env())


async def test_startup_on_a_full_or_read_only_disk_says_so_and_exits_non_zero(disk_stack: Stack, disk: Path) -> None:
    stack = disk_stack
    await asyncio.to_thread(stack.chatd.stop)
    try:
        with full(disk):
            result = await asyncio.to_thread(start_plainly, stack)
        assert result.returncode != 0
        assert "cannot be written: the disk is full" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr

        remount(disk, "ro")
        try:
            result = await asyncio.to_thread(start_plainly, stack)
        finally:
            remount(disk, "rw")
        assert result.returncode != 0
        assert "cannot be written: the disk or file is read-only" in result.stderr, result.stderr
    finally:
        await asyncio.to_thread(stack.chatd.start)
    assert (await asyncio.to_thread(stack.chatd.health))["store"] == "ok"
