"""Worker processes for the archive pass: tasks handed out one at a time, results streamed back.

Each worker has its own pipe. A send returns once the pipe holds the data, so whatever a worker sent
before it died has reached the parent; and since the parent hands out one task at a time, it knows which
task a dead worker held. The parent waits on the pipes and on the processes' sentinels together: a
death is seen at once, counted against its task, and another worker takes over the remaining tasks.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import traceback
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

logger = logging.getLogger(__name__)

# A task's function gets the task and an ``emit`` to send its results with (in batches, as it goes).
Task = Callable[[Any, Callable[[Any], None]], None]


class StopPass(Exception):
    """Raised by a result handler to end the whole pass at once (its output is gone): not one task's
    failure, and the workers are stopped."""


@dataclass(frozen=True, slots=True)
class _Control:
    """A worker's word to the parent between results: ready for a task, done with one, or failed it."""

    kind: str
    number: int | None = None
    detail: str = ""


def _context() -> Any:
    # fork: workers start at once and share what the parent has loaded (rules, language profiles).
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def _worker(function: Task, setup: Callable[[], None] | None, conn: Connection) -> None:
    # Ctrl-C is the parent's to handle (it stops the pass and its workers); a worker would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if setup is not None:
        setup()
    conn.send(_Control("ready"))
    while (item := conn.recv()) is not None:
        number, task = item
        try:
            function(task, conn.send)
        except Exception:
            conn.send(_Control("failed", number, traceback.format_exc(limit=6)))
        conn.send(_Control("done", number))


def run_tasks(function: Task, tasks: Sequence[Any], processes: int, handle: Callable[[Any], None], *,
              setup: Callable[[], None] | None = None, describe: Callable[[Any], str] = str) -> Counter[str]:
    """Run ``function(task, emit)`` over ``tasks`` in ``processes`` processes (1: in this one), handing
    every result emitted to ``handle`` as it comes; ``setup()`` runs first in each process. Returns how
    many tasks ``failed`` (raised) or ``died`` with their process; the others' results are all handled."""
    lost: Counter[str] = Counter()
    if processes <= 1 or len(tasks) <= 1:
        if setup is not None:
            setup()
        for task in tasks:
            try:
                function(task, handle)
            except StopPass:
                raise
            except Exception:
                lost["failed"] += 1
                logger.error("archive pass: %s failed; its remaining records are lost:\n%s",
                             describe(task), traceback.format_exc(limit=6))
        return lost
    context = _context()
    pending = deque(enumerate(tasks))
    workers: dict[Connection, Any] = {}
    running: dict[Connection, int | None] = {}

    def start_worker() -> None:
        ours, theirs = context.Pipe()
        process = context.Process(target=_worker, args=(function, setup, theirs), daemon=True)
        process.start()
        theirs.close()
        workers[ours], running[ours] = process, None

    def receive(conn: Connection) -> None:
        message = conn.recv()
        if not isinstance(message, _Control):
            handle(message)
        elif message.kind == "failed":
            lost["failed"] += 1
            logger.error("archive pass: %s failed; its remaining records are lost:\n%s",
                         describe(tasks[message.number]), message.detail)
        else:  # ready, or done with a task: the next one, or None to stop
            running[conn] = pending[0][0] if pending else None
            conn.send(pending.popleft() if pending else None)

    for _ in range(min(processes, len(tasks))):
        start_worker()
    try:
        while workers:
            by_sentinel = {process.sentinel: conn for conn, process in workers.items()}
            for ready in wait([*workers, *by_sentinel]):
                conn = by_sentinel.get(ready, ready)  # type: ignore[arg-type]
                if conn not in workers:
                    continue
                try:
                    if ready is conn:
                        receive(conn)
                        continue
                    while conn.poll():  # what it sent before it ended
                        receive(conn)
                except (EOFError, OSError):
                    pass  # it has ended: everything it sent is read
                process = workers.pop(conn)
                process.join()
                held = running.pop(conn)
                conn.close()
                if held is not None:
                    lost["died"] += 1
                    logger.error("archive pass: a worker died (exit code %s) reading %s; its remaining records are "
                                 "lost", process.exitcode, describe(tasks[held]))
                    if pending:
                        start_worker()
    except StopPass:
        for process in workers.values():
            process.terminate()
        raise
    if pending:
        # Every worker ended before taking these (it died starting up): nothing is left to run them.
        lost["died"] += len(pending)
        logger.error("archive pass: no worker left for %d parts: %s", len(pending),
                     ", ".join(describe(task) for _, task in pending))
    return lost
