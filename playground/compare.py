"""Compare: one input sent to two versions (or two assistants) at once, the replies streaming side by side.

Each side is an ordinary turn on a new thread of its assistant, so either can be continued in the
Playground afterwards, and both are logged like any other turn. The Playground runs an assistant's
draft, so continuing a side first makes the version it ran the draft again (`continue_on`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator

from playground import turn
from playground import version as versions
from playground.backend import Backend
from playground.store import Store, Version
from playground.turn import Turn, TurnEvent


def start(
    store: Store,
    backend: Callable[[], Backend],
    versions: list[Version],
    text: str,
    secrets: tuple[str, ...] = (),
) -> list[Turn]:
    """Log the input once per side (each on a new thread) and return the turns, not yet streaming."""
    if not text.strip():
        raise ValueError("Type a message first.")
    turns = []
    for v in versions:
        thread = store.create_thread(v.assistant_id, kind="compare")
        turns.append(turn.start(store, backend(), thread.id, v, text, secrets=secrets))
    return turns


def interleave(turns: list[Turn], timeout: float = 600) -> Iterator[tuple[int, TurnEvent]]:
    """Stream every turn at once; yield (side, event) in the order events arrive.

    Each stream is read on its own thread, so a slow side never holds up a fast one. If the
    consumer stops early (a rerun, a closed page), the turns still streaming are stopped and settle
    in the log as cancelled.
    """
    events: queue.Queue[tuple[int, TurnEvent | None]] = queue.Queue()

    def pump(side: int, t: Turn) -> None:
        try:
            for event in t.events():
                events.put((side, event))
        finally:
            events.put((side, None))

    workers = [threading.Thread(target=pump, args=(i, t), daemon=True) for i, t in enumerate(turns)]
    for w in workers:
        w.start()
    running = len(workers)
    try:
        while running:
            side, event = events.get(timeout=timeout)
            if event is None:
                running -= 1
            else:
                yield side, event
    finally:
        for t in turns:
            if t.result is None:
                t.cancel()
        for w in workers:
            w.join(timeout=10)


def continue_label(store: Store, version: Version) -> str:
    """What the Continue button says: which version the thread goes on with, and what that does."""
    number = versions.restored_number(store, version)
    if number == version.number:
        return f"Continue on v{version.number}"
    return f"Continue on v{version.number} (restores it as v{number})"


def continue_on(store: Store, version: Version) -> Version:
    """Make `version` the configuration the Playground runs next: its draft, and the latest version
    (restored as a new one when it is older). Returns the version the thread continues on.
    Raises ValueError when the draft holds unsaved edits with problems (see `version.restore`)."""
    restored, _ = versions.restore(store, version)
    return restored
