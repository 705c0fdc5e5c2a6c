"""Per-conversation ordering: work for one key runs in arrival order, keys run concurrently."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger("chatd.serial")

Job = Callable[[], Awaitable[None]]
T = TypeVar("T")
Reply = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class SerialQueues:
    """One queue per key; a queue's task ends when it is empty, so idle keys cost nothing.

    When more than `high` jobs wait in all, `on_full` is called (the caller stops reading
    from the network) and `on_drained` once they fall below `high // 2`.
    """

    def __init__(
        self,
        high: int = 10_000,
        on_full: Callable[[], None] | None = None,
        on_drained: Callable[[], None] | None = None,
    ):
        self.high = high
        self.pending = 0
        self._queues: dict[str, deque[Job]] = {}
        self._on_full = on_full
        self._on_drained = on_drained
        self._paused = False
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, key: str, job: Job) -> None:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            task = asyncio.create_task(self._drain(key, queue))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        queue.append(job)
        self.pending += 1
        if self.pending > self.high and not self._paused:
            self._paused = True
            if self._on_full:
                self._on_full()

    async def _drain(self, key: str, queue: deque[Job]) -> None:
        try:
            while queue:
                job = queue.popleft()
                try:
                    await job()
                except Exception:
                    log.exception("a job for one conversation failed")
                finally:
                    self.pending -= 1
                    if self._paused and self.pending < self.high // 2:
                        self._paused = False
                        if self._on_drained:
                            self._on_drained()
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]

    def waiting(self, key: str) -> int:
        """How many jobs of one queue wait to start."""
        queue = self._queues.get(key)
        return len(queue) if queue is not None else 0

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class OrderedThread:
    """One daemon thread that runs calls in the order given (the desk's readings: CPU-bound, off the event loop).

    Lighter than an executor of one worker: a call is a queue put and, when its result is awaited, one wake of
    the event loop back (the executor adds a lock, a semaphore and a chain of two futures per call)."""

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Reply | None]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def submit(self, call: Callable[[], Any]) -> None:
        """Runs call in its turn; nobody waits for it (a failure is logged)."""
        self._calls.put((call, None))

    async def run(self, call: Callable[[], T]) -> T:
        """call's result (or exception), run in its turn."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((call, (loop, future)))
        return await future

    def _run(self) -> None:
        while True:
            call, reply = self._calls.get()
            try:
                result, error = call(), None
            except Exception as exc:  # the caller gets it, or the log when nobody waits (its kind: never a text)
                result, error = None, exc
                if reply is None:
                    log.error("a call on the %s thread failed: %s", threading.current_thread().name, type(exc).__name__)
            if reply is not None:
                loop, future = reply
                with contextlib.suppress(RuntimeError):  # a loop closed while the call ran: nobody waits
                    loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
