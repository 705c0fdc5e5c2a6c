"""A real nats-server (Debian package) on a free loopback port, with JetStream."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from chatd.stack import free_port, wait_for_port


@dataclass
class NatsServer:
    store_dir: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        if shutil.which("nats-server") is None:
            raise RuntimeError("nats-server is not installed")
        self.port = self.port or free_port()
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["nats-server", "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        wait_for_port(self.port, 15, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None
