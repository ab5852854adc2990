"""The log's speed: store writes per second, and how long a turn spends inside the store.

Figures to hold the engine-layer rebuild (issue 13, item 1) against: run before and after it.

1. **Writes, one at a time.** Each write a chat makes, alone in a loop, `--writes` calls spread over
   `--rounds` rounds of every write (so a busy spell of the machine falls on all of them alike), a few
   warm-up calls a round, single-threaded, on a fresh log in a temp dir, through the public `Store`
   methods (each borrows a connection from the engine's pool, writes one transaction, gives the
   connection back): a config edit (`save_draft`), text kept unsent (`set_unsent`), a turn's start
   (`start_turn`), a checkpoint of the streamed text (`checkpoint`, ~1.5 KB), a lease renewal
   (`renew_leases`, one run), a turn's end (`finish_turn`, with a reply and a response record),
   `add_message` and `place_message`. For scale: what `Store.db()` costs around one read (borrowing a
   pooled connection, already open and set up, and its read transaction), with one read by key;
   `checkpoint` while another connection keeps the file open (the last connection to close a WAL file
   checkpoints it into the database and deletes it: with a connection per operation every write paid
   that; the pool keeps its connections open, so this now shows what is left of the difference); and
   the checkpoint's UPDATE on one connection held outside the store (no pool, no loan), with the
   store's `synchronous` and with `synchronous = NORMAL`.
2. **Writes, concurrent.** N threads, each with its own `Store` on the same file (as Streamlit
   sessions are: threads of one process), each in a thread of its own writing a turn's writes in a
   loop (`start_turn`, two `checkpoint`s, `finish_turn`) for `--seconds`: writes per second in total,
   and the latency of each write (p50, p99), waiting for the write lock included.
3. **A turn's store time.** Real turns (`playground.turn.start` and its events to the end) with a
   timing proxy in place of the `Store`: every Store method the turn calls (on its own thread and on
   its upstream reader thread) is timed and counted. With a scripted backend (tests/conftest.py's
   `ScriptedBackend`, no HTTP: the turn is almost all store), on both ways (`conversations`: upstream
   keeps the thread; `chat`: the log's thread goes with every request), on a short thread and on a
   thread of 1,000 messages (500 turns seeded with their runs, requests and response records); and,
   for the share of a real turn's wall time, through the openai SDK against the local OpenAI server
   (tests/openai_server). Replies are ~40 word deltas arriving at once, so no checkpoint falls inside
   a turn (one is written per second of streaming: see part 1 for its cost).

Prints markdown tables; keeps the raw samples in bench/results/store_speed.json.

    python bench/store_speed.py [--writes 300] [--rounds 5] [--threads 1,2,4,8] [--seconds 3] [--turns 200]
                                [--server-turns 40] [--note TEXT]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._harness import RESULTS_DIR, machine, pct
from playground import turn
from playground.assistant import AssistantConfig
from playground.backend import Created, Delta, Finished
from playground.errors import LogError
from playground.store import Store

MODEL = "gpt-4.1-mini"
CHAT_MODEL = "llama3.2:3b"  # a model the local server lists in its Chat-Completions-only mode
USER = "Can you summarise the quarterly figures for the north region and flag anything unusual? "
REPLY = (
    "Here is the summary for the north region: revenue rose 4.2 % on the quarter, costs were flat "
    "except logistics (+11 %), and two stores missed target. The logistics jump is unusual: it follows "
    "a carrier change in August, so the next quarter should tell whether it stays. "
)
PARTIAL = (REPLY * 6)[:1500]  # a checkpoint of a reply ~1.5 KB into its stream
WORDS = REPLY.split(" ")
USAGE = {"input_tokens": 812, "output_tokens": 64, "total_tokens": 876}


def response_record(i: int, text: str = REPLY) -> str:
    """A response as the turn keeps it for its trace (~1.5 KB, the shape of a Responses object)."""
    return json.dumps(
        {
            "id": f"resp_{i}",
            "object": "response",
            "created_at": 1764460000 + i,
            "status": "completed",
            "model": MODEL,
            "output": [
                {
                    "id": f"msg_{i}",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            ],
            "usage": {**USAGE, "input_tokens_details": {"cached_tokens": 0}},
            "instructions": "Summarise figures briefly.",
            "conversation": {"id": f"conv_{i}"},
            "temperature": 1.0,
            "tool_choice": "auto",
            "tools": [],
            "text": {"format": {"type": "text"}},
        }
    )


def request_body(text: str, history: list[dict[str, str]] | None = None) -> str:
    """A request as the turn keeps it: the Responses way sends the new text, the chat way the thread."""
    if history is None:
        return json.dumps({"model": MODEL, "instructions": "Summarise figures briefly.", "input": text})
    return json.dumps({"model": CHAT_MODEL, "messages": [*history, {"role": "user", "content": text}]})


def stats(samples: list[float]) -> dict[str, float]:
    return {"median": statistics.median(samples), "p90": pct(samples, 90), "p99": pct(samples, 99)}


def new_log(path: Path) -> tuple[Store, int, Any]:
    """A log with one assistant and its version 1: (store, assistant id, version)."""
    store = Store(path)
    assistant = store.create_assistant()
    config = AssistantConfig(name="Analyst", instructions="Summarise figures briefly.", model=MODEL)
    store.save_draft(assistant.id, config)
    version, _ = store.save_version(assistant.id, config)
    return store, assistant.id, version


# -- 1. writes, one at a time ---------------------------------------------------------------------


def sqlite_settings(store: Store) -> dict[str, Any]:
    """The settings a Store connection writes with."""
    with store.db() as db:
        read = {
            name: db.value(f"PRAGMA {name}")
            for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys", "wal_autocheckpoint")
        }
    read["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(read["synchronous"], read["synchronous"])
    read["sqlite"] = sqlite3.sqlite_version
    return read


def loop(fn: Callable[[int], Any], n: int, start: int = 0, warmup: int = 5) -> list[float]:
    """The ms of each of `n` calls fn(start..start+n-1), after `warmup` calls (with negative numbers)."""
    for i in range(warmup):
        fn(-(start + i + 1))
    samples = []
    for i in range(start, start + n):
        began = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def single_writes(folder: Path, n: int, rounds: int) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Each write `n` times, in `rounds` rounds of all of them (so a busy spell of the machine falls on
    every write alike, not on one)."""
    store, assistant_id, version = new_log(folder / "writes.db")
    config = version.config
    thread = store.create_thread(assistant_id)
    placed_thread = store.create_thread(assistant_id)
    settings = sqlite_settings(store)
    samples: dict[str, list[float]] = {}
    k = max(1, n // rounds)
    for r in range(rounds):
        first = r * k

        def timed(name: str, fn: Callable[[int], Any], count: int = k, first: int = first) -> None:
            samples.setdefault(name, []).extend(loop(fn, count, first))

        opened: list[tuple[int, int]] = []  # (message id, run id) of the turns start_turn began

        timed(
            "save_draft (a config edit)",
            lambda i: store.save_draft(assistant_id, replace(config, instructions=f"Summarise figures briefly. {i}")),
        )
        timed("set_unsent (text typed, not sent)", lambda i: store.set_unsent(assistant_id, f"{USER}{i}"))
        timed(
            "start_turn (the message and its run)",
            lambda i, opened=opened: opened.append(store.start_turn(thread.id, f"{USER}{i}", version.id, MODEL)),
        )
        run_id = opened[-1][1]
        # Each checkpoint holds new text, as in a stream: SQLite skips writing a row rewritten unchanged.
        timed(
            "checkpoint (1.5 KB of streamed text)", lambda i, run_id=run_id: store.checkpoint(run_id, f"{PARTIAL}{i}")
        )
        timed("renew_leases (one run)", lambda i, run_id=run_id: store.renew_leases([run_id]))

        def finish(i: int, opened: list[tuple[int, int]] = opened) -> None:
            message_id, run = opened.pop()
            store.finish_turn(
                run,
                user_message_id=message_id,
                user_status="complete",
                reply=REPLY,
                reply_status="complete",
                thread_id=thread.id,
                version_id=version.id,
                status="completed",
                ttft_ms=412.0,
                latency_ms=2310.0,
                request_id=f"req_{i}",
                response_id=f"resp_{i}",
                last_item_id=f"msg_{i}",
                request=request_body(f"{USER}{i}"),
                response=response_record(i),
                partial=None,
                **USAGE,
            )

        timed("finish_turn (reply, run, response record)", finish, min(k, len(opened) - 5))
        timed("add_message", lambda i: store.add_message(placed_thread.id, "user", f"{USER}{i}"))
        timed(
            "place_message (checks the thread, then writes)",
            lambda i: store.place_message(placed_thread.id, "user", f"{USER}{i}"),
        )

        # For scale, outside the store's methods.
        def connection(_: int) -> None:
            with store.db() as db:  # borrowed from the engine's pool (opened once), in a read transaction
                db.execute("SELECT id FROM threads WHERE id = :id", {"id": thread.id}).fetchall()

        timed("*for scale:* `Store.db()`: borrow a pooled connection, BEGIN, one read by key, give it back", connection)
        _, run_id = store.start_turn(thread.id, USER, version.id, MODEL)
        # The last connection to close checkpoints the WAL into the file and deletes it: with one
        # connection per operation and no other open, every write paid that. Another one open spares it
        # (the pool's kept connections now spare it too, so this is for comparison with before the pool).
        other = sqlite3.connect(store.path)
        other.execute("SELECT id FROM threads LIMIT 1").fetchall()
        timed(
            "*for scale:* `checkpoint` as above, while another connection keeps the file open",
            lambda i, run_id=run_id: store.checkpoint(run_id, f"{PARTIAL}open{i}"),
        )
        other.close()
        for sync in (settings["synchronous"], "NORMAL"):
            conn = sqlite3.connect(store.path, timeout=store.busy_timeout, isolation_level=None)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA synchronous = {sync}")

            def held(i: int, conn: sqlite3.Connection = conn, sync: str = sync, run_id: int = run_id) -> None:
                conn.execute("BEGIN IMMEDIATE")
                partial = f"{PARTIAL}{sync}{i}"
                conn.execute("UPDATE runs SET partial = ? WHERE id = ? AND status = 'in_progress'", (partial, run_id))
                conn.execute("COMMIT")

            timed(f"*for scale:* the checkpoint's UPDATE on one held connection, synchronous = {sync}", held)
            conn.close()
    return samples, settings


# -- 2. writes, concurrent ------------------------------------------------------------------------


def concurrent(folder: Path, sessions: int, seconds: float) -> dict[str, Any]:
    """`sessions` threads, each its own Store on one file, each writing turns in its own thread."""
    db = folder / f"concurrent_{sessions}.db"
    base, assistant_id, version = new_log(db)
    threads = [base.create_thread(assistant_id).id for _ in range(sessions)]
    latencies: list[list[float]] = [[] for _ in range(sessions)]
    errors = [0] * sessions
    start = threading.Barrier(sessions + 1)
    ends = [0.0] * sessions
    deadline = [0.0]

    def session(k: int) -> None:
        store = Store(db)  # its own, as each session builds one
        mine = latencies[k]

        def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except LogError:  # locked past the busy timeout
                errors[k] += 1
                return None
            finally:
                mine.append((time.perf_counter() - started) * 1000)

        start.wait()
        i = 0
        while time.perf_counter() < deadline[0]:
            i += 1
            opened = timed(store.start_turn, threads[k], f"{USER}{i}", version.id, MODEL)
            if opened is None:
                continue
            message_id, run_id = opened
            for c in range(2):
                timed(store.checkpoint, run_id, f"{PARTIAL}{c}")
            timed(
                store.finish_turn,
                run_id,
                user_message_id=message_id,
                user_status="complete",
                reply=REPLY,
                reply_status="complete",
                thread_id=threads[k],
                version_id=version.id,
                status="completed",
                response=response_record(i),
                partial=None,
                **USAGE,
            )
        ends[k] = time.perf_counter()

    workers = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
    for w in workers:
        w.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for w in workers:
        w.join()
    elapsed = max(ends) - began
    every = [ms for mine in latencies for ms in mine]
    return {
        "sessions": sessions,
        "seconds": elapsed,
        "writes": len(every),
        "errors": sum(errors),
        "writes_per_s": len(every) / elapsed,
        "latency_ms": [round(ms, 4) for ms in every],
    }


# -- 3. a turn's store time -----------------------------------------------------------------------


class TimedStore:
    """A Store seen through a stopwatch: each method call is timed and counted, from any thread.

    Calls the store makes to itself (`save_draft` checking ownership with `get_assistant`) are inside
    the outer call's time, not counted twice."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.calls: list[tuple[str, float]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if not callable(attribute):
            return attribute

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                ms = (time.perf_counter() - started) * 1000
                with self._lock:
                    self.calls.append((name, ms))

        return timed

    def take(self) -> list[tuple[str, float]]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls


# The columns `seed_thread` writes in bulk, in the order of its row tuples.
RUN_COLUMNS = (
    "id", "thread_id", "version_id", "user_message_id", "model", "status", "input_tokens", "output_tokens",
    "total_tokens", "ttft_ms", "latency_ms", "request_id", "response_id", "last_item_id", "request", "response",
    "created_at", "finished_at",
)  # fmt: skip
MESSAGE_COLUMNS = ("id", "thread_id", "role", "content", "version_id", "run_id", "status", "created_at")


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """INSERT of one row by named parameters, one per column (`:column`)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def seed_thread(store: Store, assistant_id: int, version_id: int, way: str, messages: int, conversation: str) -> int:
    """A thread on `way` holding `messages` messages (half questions, half replies, each reply with its
    completed run, its request and its response record), as if its turns had run. Bulk-inserted."""
    thread = store.create_thread(assistant_id)
    store.set_thread_api(thread.id, way)
    if way == "conversations":
        store.set_conversation(thread.id, conversation)
    if messages < 2:
        return thread.id
    with store.write() as db:
        message_id = db.value("SELECT COALESCE(MAX(id), 0) FROM messages")
        run_id = db.value("SELECT COALESCE(MAX(id), 0) FROM runs")
        history: list[dict[str, str]] = [{"role": "system", "content": "Summarise figures briefly."}]
        now = time.time() - 86400
        run_rows, message_rows = [], []
        for turn_number in range(messages // 2):
            question, reply = f"{USER}{turn_number}", f"{REPLY}{turn_number}"
            message_id += 1
            run_id += 1
            request = request_body(question, history if way == "chat" else None)
            run_rows.append(
                (run_id, thread.id, version_id, message_id, MODEL if way == "conversations" else CHAT_MODEL,
                 "completed", *USAGE.values(), 400.0, 2300.0, f"req_{run_id}", f"resp_{run_id}", f"msg_{run_id}",
                 request, response_record(run_id, reply), now, now + 2.3)
            )  # fmt: skip
            message_rows.append((message_id, thread.id, "user", question, version_id, run_id, "complete", now))
            message_id += 1
            message_rows.append((message_id, thread.id, "assistant", reply, version_id, run_id, "complete", now + 2.3))
            history += [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
            now += 60
        db.many(insert_sql("runs", RUN_COLUMNS), [dict(zip(RUN_COLUMNS, row, strict=True)) for row in run_rows])
        db.many(
            insert_sql("messages", MESSAGE_COLUMNS),
            [dict(zip(MESSAGE_COLUMNS, row, strict=True)) for row in message_rows],
        )
    return thread.id


def scripted_reply(i: int) -> list[Any]:
    deltas = [Delta(w + " ") for w in WORDS if w]
    record = response_record(i)
    return [Created(f"resp_{i}"), *deltas, Finished("completed", f"resp_{i}", dict(USAGE), f"msg_{i}", record)]


def run_turn(timed: TimedStore, backend: Any, thread_id: int, version: Any, text: str) -> dict[str, Any]:
    """One turn from the user's message to its end in the log: wall ms, store ms, the store calls."""
    timed.take()
    started = time.perf_counter()
    the_turn = turn.start(timed, backend, thread_id, version, text)  # type: ignore[arg-type]
    done = None
    for event in the_turn.events():
        if isinstance(event, turn.TurnDone):
            done = event
    wall = (time.perf_counter() - started) * 1000
    calls = timed.take()
    if done is None or done.status != "completed":
        raise RuntimeError(f"a turn ended {done.status if done else 'without an end'}: {done}")
    return {"wall_ms": wall, "store_ms": sum(ms for _, ms in calls), "calls": [[n, round(ms, 4)] for n, ms in calls]}


def turns(
    folder: Path, label: str, way: str, size: int, n_turns: int, per_thread: int, backend: Any, *, server: Any = None
) -> dict[str, Any]:
    """`n_turns` later turns (not a thread's first) on threads seeded with `size` messages, `per_thread`
    turns on each; the turns before each thread's first counted one are its first turns (size 0)."""
    store, assistant_id, version = new_log(folder / f"turns_{label}.db")
    if way == "chat":
        config = replace(version.config, model=CHAT_MODEL)
        store.save_draft(assistant_id, config)
        version, _ = store.save_version(assistant_id, config)
    timed = TimedStore(store)
    samples: list[dict[str, Any]] = []
    first: list[dict[str, Any]] = []
    i = 0
    while len(samples) < n_turns:
        if size == 0:  # a new thread: its first turn settles the way (and, for conversations, makes one)
            thread_id = store.create_thread(assistant_id).id
        else:
            conversation = backend.create_conversation({"bench": "store_speed"}) if way == "conversations" else ""
            thread_id = seed_thread(store, assistant_id, version.id, way, size, conversation)
        for k in range(per_thread + (size == 0)):
            i += 1
            if server is not None:
                server.script({"text": REPLY})
            else:
                backend.scripts.append(scripted_reply(i))
            result = run_turn(timed, backend, thread_id, version, f"{USER}{i}")
            (first if size == 0 and k == 0 else samples).append(result)
            if len(samples) >= n_turns:
                break
    with store.db() as db:  # what a turn's reads of the whole thread go through
        run_bytes = db.value(
            "SELECT COALESCE(SUM(LENGTH(request) + LENGTH(response)), 0) / MAX(COUNT(DISTINCT thread_id), 1) FROM runs"
        )
    return {
        "label": label,
        "way": way,
        "size": size,
        "run_bytes_per_thread": run_bytes,
        "turns": samples,
        "first_turns": first,
    }


def scripted(way: str) -> Any:
    from tests.conftest import ScriptedBackend

    return ScriptedBackend(way=way)


# -- the tables ------------------------------------------------------------------------------------


def writes_table(samples: dict[str, list[float]]) -> list[str]:
    lines = ["| write (one transaction each) | writes/s | median ms | p99 ms |", "|---|---:|---:|---:|"]
    for name, ms in samples.items():
        s = stats(ms)
        lines.append(f"| {name} | {1000 * len(ms) / sum(ms):,.0f} | {s['median']:.2f} | {s['p99']:.2f} |")
    return lines


def concurrent_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| sessions (threads, a Store each, one file) | writes/s, all sessions | p50 ms per write | p99 ms | "
        "max ms | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        s = stats(row["latency_ms"])
        lines.append(
            f"| {row['sessions']} | {row['writes_per_s']:,.0f} | {s['median']:.2f} | {s['p99']:.2f} | "
            f"{max(row['latency_ms']):.1f} | {row['errors']} |"
        )
    return lines


def turns_table(groups: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| turns | n | store ms per turn, median | p90 | store calls per turn | share of the turn's wall time "
        "(median) | wall ms, median | runs' request + response JSON per thread, at the end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group in groups:
        for name, rows in ((group["label"], group["turns"]), (f"{group['label']}, first turn", group["first_turns"])):
            if not rows:
                continue
            store_ms = [r["store_ms"] for r in rows]
            wall = [r["wall_ms"] for r in rows]
            counts = sorted({len(r["calls"]) for r in rows})
            count = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
            share = statistics.median(r["store_ms"] / r["wall_ms"] for r in rows)
            mib = group["run_bytes_per_thread"] / 2**20
            lines.append(
                f"| {name} | {len(rows)} | {statistics.median(store_ms):.2f} | {pct(store_ms, 90):.2f} | {count} | "
                f"{100 * share:.0f} % | {statistics.median(wall):.1f} | {mib:.2f} MiB |"
            )
    return lines


def calls_table(groups: list[dict[str, Any]]) -> list[str]:
    """Where a later turn's store time goes, by method: median ms per turn, per group."""
    names: list[str] = []
    per_group: list[dict[str, float]] = []
    for group in groups:
        per_turn: dict[str, list[float]] = {}
        for row in group["turns"]:
            spent: Counter[str] = Counter()
            for name, ms in row["calls"]:
                spent[name] += ms
            for name, ms in spent.items():
                per_turn.setdefault(name, []).append(ms)
                if name not in names:
                    names.append(name)
        per_group.append({name: statistics.median(ms) for name, ms in per_turn.items()})
    lines = [
        "| Store method (calls per turn) | " + " | ".join(g["label"] for g in groups) + " |",
        "|---|" + "---:|" * len(groups),
    ]
    for name in names:
        counts = {
            sum(1 for n, _ in row["calls"] if n == name) for g in groups for row in g["turns"] if g["turns"] and row
        }
        counts.discard(0)
        count = "/".join(str(c) for c in sorted(counts))
        cells = [f"{spent[name]:.2f}" if name in spent else "—" for spent in per_group]
        lines.append(f"| `{name}` ({count}) | " + " | ".join(cells) + " |")
    return lines


def compare(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Two runs side by side: medians of each write, of the concurrent runs and of a turn's store time."""

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}×" if b else "—"

    lines = ["| write | before: median ms | after: median ms | faster |", "|---|---:|---:|---:|"]
    for name, samples in after["writes_ms"].items():
        if name in before["writes_ms"] and not name.startswith("*"):
            b, a = statistics.median(before["writes_ms"][name]), statistics.median(samples)
            lines.append(f"| {name} | {b:.2f} | {a:.2f} | {ratio(b, a)} |")
    lines += [
        "",
        "| sessions | before: writes/s | after: writes/s | before: p99 ms | after: p99 ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    for b, a in zip(before["concurrent"], after["concurrent"], strict=False):
        p99 = [sorted(x["latency_ms"])[int(0.99 * (len(x["latency_ms"]) - 1))] for x in (b, a)]
        lines.append(
            f"| {a['sessions']} | {b['writes_per_s']:,.0f} | {a['writes_per_s']:,.0f} | {p99[0]:.1f} | {p99[1]:.1f} |"
        )
    lines += ["", "| turns | before: store ms per turn | after | faster |", "|---|---:|---:|---:|"]
    old = {g["label"]: g for g in before["turns"]}
    for group in after["turns"]:
        if group["label"] in old and group["turns"] and old[group["label"]]["turns"]:
            b = statistics.median(t["store_ms"] for t in old[group["label"]]["turns"])
            a = statistics.median(t["store_ms"] for t in group["turns"])
            lines.append(f"| {group['label']} | {b:.2f} | {a:.2f} | {ratio(b, a)} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=300, help="timed calls of each write")
    parser.add_argument("--rounds", type=int, default=5, help="rounds the writes' calls are spread over")
    parser.add_argument("--threads", default="1,2,4,8", help="concurrent sessions to try, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long each concurrent run writes")
    parser.add_argument("--turns", type=int, default=200, help="later turns per scripted case")
    parser.add_argument("--server-turns", type=int, default=40, help="later turns per case against the local server")
    parser.add_argument("--note", default="", help="kept with the results, e.g. what code was measured")
    parser.add_argument(
        "--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="print before/after medians of two results files"
    )
    args = parser.parse_args()
    if args.compare:
        print("\n".join(compare(*(json.loads(Path(p).read_text()) for p in args.compare))))
        return

    from playground.backend import ResponsesBackend
    from playground.chat import ChatBackend
    from playground.client import ApiKey, make_client
    from tests.openai_server import OpenAIServer

    begun = time.perf_counter()
    results: dict[str, Any] = {"note": args.note}
    with tempfile.TemporaryDirectory(prefix="store_speed_") as tmp:
        folder = Path(tmp)
        writes, settings = single_writes(folder, args.writes, args.rounds)
        results["sqlite"] = settings
        results["writes_ms"] = {name: [round(ms, 4) for ms in ms_] for name, ms_ in writes.items()}
        print(f"Writes done ({time.perf_counter() - begun:.0f} s)", file=sys.stderr)
        results["concurrent"] = [concurrent(folder, int(n), args.seconds) for n in args.threads.split(",")]
        print(f"Concurrent writes done ({time.perf_counter() - begun:.0f} s)", file=sys.stderr)

        groups = []
        for way in ("conversations", "chat"):
            backend = scripted(way)
            groups.append(turns(folder, f"scripted, {way}, new thread", way, 0, args.turns, 10, backend))
            groups.append(turns(folder, f"scripted, {way}, 1,000 messages", way, 1000, args.turns, 40, backend))
            print(f"Scripted {way} turns done ({time.perf_counter() - begun:.0f} s)", file=sys.stderr)
        server_groups = []
        if args.server_turns:
            key = ApiKey("sk-bench-0123456789", "environment")
            for way, api in (("conversations", "all"), ("chat", "chat")):
                with OpenAIServer(api=api) as server:
                    client = make_client(key, server.base_url)
                    backend = ResponsesBackend(client) if way == "conversations" else ChatBackend(client)
                    n = args.server_turns
                    server_groups.append(
                        turns(folder, f"local server, {way}, new thread", way, 0, n, 10, backend, server=server)
                    )
                    server_groups.append(
                        turns(folder, f"local server, {way}, 1,000 messages", way, 1000, n, 20, backend, server=server)
                    )
                print(f"Server {way} turns done ({time.perf_counter() - begun:.0f} s)", file=sys.stderr)
        results["turns"] = groups + server_groups

    machine_line = machine()
    results["machine"] = machine_line
    results["took_s"] = time.perf_counter() - begun
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "store_speed.json").write_text(json.dumps(results))

    print(
        f"SQLite {settings['sqlite']}: journal_mode={settings['journal_mode']}, synchronous={settings['synchronous']}, "
        f"busy_timeout={settings['busy_timeout']} ms, foreign_keys={settings['foreign_keys']}, "
        f"wal_autocheckpoint={settings['wal_autocheckpoint']} pages; a pooled connection per operation.\n"
    )
    print(
        f"Writes, one at a time ({args.writes} calls each in {args.rounds} rounds, 5 warm-up calls a round, "
        "single-threaded, fresh log):\n"
    )
    print("\n".join(writes_table(writes)))
    print(
        f"\nConcurrent sessions, each writing turns (start_turn, 2 × checkpoint, finish_turn) for {args.seconds:g} s:\n"
    )
    print("\n".join(concurrent_table(results["concurrent"])))
    print("\nA turn's store time (Store methods timed through a proxy; wall = turn.start to its end in the log):\n")
    print("\n".join(turns_table(results["turns"])))
    print("\nWhere a later turn's store time goes, median ms per turn by Store method (calls per turn):\n")
    print("\n".join(calls_table(results["turns"])))
    print(f"\nMachine: {machine_line}. Took {results['took_s']:.0f} s.")
    if args.note:
        print(f"Note: {args.note}")


if __name__ == "__main__":
    main()
