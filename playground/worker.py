"""Turns that outlive the page: each turn runs on a thread of its own, not inside a script run.

A page hands a turn to `launch` and draws it with `Live.chunks`; leaving the page, a rerun or a
second tab only stops the drawing. The turn goes on and settles in the log by itself (a `Turn`
writes its run, checkpoints and reply as it goes); only `stop` cancels it.

The registry lives in this process: a script run finds a running turn by the thread it shows (read
through the log, so owner-checked) and attaches to it, drawing what has arrived and then the rest as
it comes. An entry holds its turn, and so the session's client, only while the turn runs; it is
dropped once the turn settles. A turn of another process is seen through the log (its run stays
`in_progress`, its partial text is checkpointed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

from playground.errors import Problem, describe
from playground.turn import TextDelta, Turn, TurnDone

logger = logging.getLogger(__name__)

# How long `stop` waits for the cancelled turn to be written to the log, so the page that asked
# draws it as it ended.
STOP_WAIT_S = 3.0


class Live:
    """One running turn: the text so far, and the outcome once settled. Safe to share across threads."""

    def __init__(self, the_turn: Turn) -> None:
        self.turn = the_turn
        self.run_id = the_turn.run_id
        self.thread_id = the_turn.thread.id
        self.user_message_id = the_turn.user_message_id
        self.started_at = time.time()
        self._parts: list[str] = []
        self._done: TurnDone | None = None
        # Set when the turn itself broke (the log refused its last write): the run is left as the log
        # holds it, and the page says why.
        self.problem: Problem | None = None
        self._changed = threading.Condition()

    @property
    def done(self) -> TurnDone | None:
        return self._done

    def text(self) -> str:
        with self._changed:
            return "".join(self._parts)

    def chunks(self, heartbeat: float | None = None) -> Iterator[str]:
        """The reply's text from its beginning, then each part as it arrives, until the turn ends.

        With `heartbeat`, "" after each that many quiet seconds: a page needs those moments to act
        on a click. Stopping the iteration stops only this reader.
        """
        sent = 0
        while True:
            with self._changed:
                if sent == len(self._parts) and not self.finished_locked():
                    self._changed.wait(timeout=heartbeat)
                fresh = self._parts[sent:]
                sent = len(self._parts)
                over = self.finished_locked()
            if fresh:
                yield "".join(fresh)
            elif over:
                return
            elif heartbeat:
                yield ""

    def finished_locked(self) -> bool:
        return self._done is not None or self.problem is not None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the turn has settled; False if it still runs after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not self.finished_locked():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(timeout=left)
        return True

    # -- on the worker thread -----------------------------------------------------------------

    def _work(self) -> None:
        try:
            for event in self.turn.events():
                if isinstance(event, TextDelta):
                    with self._changed:
                        self._parts.append(event.text)
                        self._changed.notify_all()
                elif isinstance(event, TurnDone):
                    with self._changed:
                        self._done = event
                        self._changed.notify_all()
        except Exception as exc:  # the log refused the turn's last write: say so, keep the process
            problem = describe(exc)
            logger.error("turn of run %s could not be settled: %s", self.run_id, problem.message)
            with self._changed:
                self.problem = problem
                self._changed.notify_all()
        finally:
            with _lock:
                if _live.get(self.run_id) is self:
                    del _live[self.run_id]


_live: dict[int, Live] = {}
_lock = threading.Lock()


def launch(the_turn: Turn) -> Live:
    """Start the turn on a worker thread of its own and register it; returns at once."""
    live = Live(the_turn)
    with _lock:
        _live[live.run_id] = live
    threading.Thread(target=live._work, daemon=True, name=f"turn-{live.run_id}").start()
    return live


def find(run_id: int) -> Live | None:
    with _lock:
        return _live.get(run_id)


def running(thread_id: int) -> Live | None:
    """The turn of this thread running in this process, if any."""
    with _lock:
        return next((live for live in _live.values() if live.thread_id == thread_id), None)


def stop(run_id: int, wait: float = STOP_WAIT_S) -> bool:
    """Cancel a running turn (its partial text is kept) and wait a moment for it to be logged.

    False when no such turn runs here (it ended already, or runs in another process).
    """
    live = find(run_id)
    if live is None:
        return False
    live.turn.cancel()
    live.wait(wait)
    return True
