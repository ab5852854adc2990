"""Leases: a turn in progress holds one, renewed on a timer; only runs whose lease ran out are recovered.

Two Stores on one file stand for two app processes here (a Store holds a path, never a connection). A
sweep without `spare` is another process's: it knows nothing of this process's turns but their leases.
The app-level case, two `streamlit run` on one file, is tests/e2e/test_two_processes_e2e.py.
"""

from __future__ import annotations

import threading
import time
import types

import pytest

import playground.store as store_module
from playground import settings, turn
from playground.assistant import AssistantConfig
from playground.store import DB_NOW, Store

LEASE_S = 1.5  # renewed every 0.5 s: a turn silent for several leases must keep its run


@pytest.fixture
def short_lease(monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUN_LEASE_S", str(LEASE_S))


@pytest.fixture
def store(short_lease, tmp_path):
    """The log, opened once the short lease is set (this process's lease keeper reads it)."""
    return Store(tmp_path / "log.db")


@pytest.fixture
def no_keeper(monkeypatch):
    """This process neither renews nor sweeps on its timer: as if it stalled (a test drives the sweeps)."""
    monkeypatch.setattr(store_module._LeaseKeeper, "_loop", lambda self: None)


def other_process(store: Store) -> Store:
    """The same file as a second app process opens it (its writes at open included)."""
    store_module._migrated.discard(str(store.path.resolve()))
    return Store(store.path)


def lease_of(store: Store, run_id: int) -> tuple[float | None, float]:
    """The run's lease and the database's now."""
    with store.db() as db:
        return tuple(db.execute(f"SELECT lease_until, {DB_NOW} FROM runs WHERE id = :id", {"id": run_id}).fetchone())


def wait_until(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not {what} after {timeout} s")
        time.sleep(0.05)


def expired(store: Store, run_id: int) -> bool:
    lease, now = lease_of(store, run_id)
    return lease is None or lease < now


def a_turn_started(store: Store, text: str = "Hello") -> tuple[int, int, int]:
    """A thread with a user message and its run in progress: (thread, message, run)."""
    assistant = store.create_assistant()
    thread = store.create_thread(assistant.id)
    message, run = store.start_turn(thread.id, text, None, "gpt-4.1-mini")
    return thread.id, message, run


def shape(store: Store, thread_id: int) -> list[tuple[str, str, str]]:
    return [(m.role, m.content, m.status) for m in store.list_messages(thread_id)]


# -- the lease itself -----------------------------------------------------------------------------


def test_the_lease_is_30_s_unless_set(monkeypatch):
    monkeypatch.delenv("PLAYGROUND_RUN_LEASE_S", raising=False)
    assert settings.run_lease_s() == 30.0
    for given, lease in (("3", 3.0), ("0.5", 0.5), ("0", 30.0), ("-2", 30.0), ("inf", 30.0), ("soon", 30.0)):
        monkeypatch.setenv("PLAYGROUND_RUN_LEASE_S", given)
        assert settings.run_lease_s() == lease


def test_a_run_is_written_with_a_lease_on_the_database_clock(store, monkeypatch):
    # This process's clock says 2096: were leases written or compared with it, the fresh lease below
    # would read as long expired (or never expire).
    fake = types.SimpleNamespace(**{n: getattr(time, n) for n in dir(time) if not n.startswith("_")})
    fake.time = lambda: 4e9
    monkeypatch.setattr(store_module, "time", fake)
    thread_id, _message, run = a_turn_started(store)
    lease, now = lease_of(store, run)
    assert now < 4e9 and abs(now - time.time()) < 60  # SQLite's now, not the patched one
    assert now < lease <= now + LEASE_S
    assert other_process(store).recover_expired_runs() == 0
    assert store.running_run(thread_id) == run


def test_a_live_run_is_not_recovered_by_a_second_store_on_the_same_file(no_keeper, store):
    thread_id, _message, run = a_turn_started(store)
    store.checkpoint(run, "Half a rep")
    second = other_process(store)  # its sweep at open leaves the live run alone
    assert second.recover_expired_runs() == 0
    assert second.running_run(thread_id) == run
    assert store.get_run(run).status == "in_progress"
    assert shape(store, thread_id) == [("user", "Hello", "incomplete")]


def test_an_expired_run_is_recovered_once_by_two_processes_sweeping_at_once(no_keeper, store):
    thread_id, _message, run = a_turn_started(store)
    store.checkpoint(run, "Half a rep")
    wait_until(lambda: expired(store, run), "expired")
    sweepers = [Store(store.path), Store(store.path, owner="key:someone")]
    start = threading.Barrier(len(sweepers))
    recovered: list[int] = []

    def sweep(s: Store) -> None:
        start.wait()
        recovered.append(s.recover_expired_runs())

    workers = [threading.Thread(target=sweep, args=(s,)) for s in sweepers]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(recovered) == [0, 1]
    assert store.recover_expired_runs() == 0  # and never again
    assert shape(store, thread_id) == [("user", "Hello", "failed"), ("assistant", "Half a rep", "incomplete")]
    got = store.get_run(run)
    assert (got.status, got.problem) == ("incomplete", "interrupted") and got.error.startswith("Interrupted")
    assert lease_of(store, run)[0] is None


def test_a_run_from_before_leases_counts_as_expired(no_keeper, store):
    _thread_id, _message, run = a_turn_started(store)
    with store.write() as db:
        db.execute("UPDATE runs SET lease_until = NULL WHERE id = :id", {"id": run})
    other_process(store)  # the sweep at open
    assert store.get_run(run).status == "incomplete"


def test_every_process_sweeps_on_a_timer(store):
    """No page, no open: the lease keeper of this process finds the run of a process that died."""
    _thread_id, _message, run = a_turn_started(store)  # written here, never run here: nobody renews it
    wait_until(lambda: store.get_run(run).status != "in_progress", "swept")
    assert store.get_run(run).status == "incomplete"


def test_a_page_waiting_for_another_process_sees_its_expired_run_end(no_keeper, store):
    thread_id, _message, run = a_turn_started(store)
    assert turn.settled(store, thread_id, timeout=0) is False
    wait_until(lambda: expired(store, run), "expired")
    assert turn.settled(store, thread_id, timeout=0) is True  # recovered by the poll itself
    assert store.get_run(run).status == "incomplete"


def test_a_read_only_reader_counts_an_expired_run_as_ended_and_writes_nothing(no_keeper, store):
    thread_id, _message, run = a_turn_started(store)
    wait_until(lambda: expired(store, run), "expired")
    reader = Store(store.path, read_only=True)
    assert reader.running_run(thread_id) is None
    assert store.get_run(run).status == "in_progress"


# -- a turn renews its lease ------------------------------------------------------------------------


def test_renewal_keeps_a_turn_that_says_nothing_for_several_leases(store, backend, upstream, thread, version):
    upstream.script({"text": "Thought long and hard.", "ttft": 4 * LEASE_S})
    t = turn.start(store, backend, thread.id, version, "Think first")
    runner = threading.Thread(target=lambda: list(t.events()))
    runner.start()
    other = other_process(store)
    leases: set[float] = set()
    while runner.is_alive():  # another process sweeping all along, knowing only the lease
        assert other.recover_expired_runs() == 0
        lease, _now = lease_of(store, t.run_id)
        if lease is not None:
            leases.add(lease)
        time.sleep(0.1)
    runner.join()
    assert len(leases) >= 3  # renewed on the timer while no text arrived
    assert t.result.status == "completed"
    assert shape(store, thread.id) == [
        ("user", "Think first", "complete"),
        ("assistant", "Thought long and hard.", "complete"),
    ]
    assert lease_of(store, t.run_id)[0] is None  # the lease ends with the turn
    assert store.recover_expired_runs() == 0


def test_a_turn_recovered_while_its_process_stalled_ends_once(no_keeper, store, backend, upstream, thread, version):
    """No renewals (the process stalled): another process recovers the run; when the turn does end,
    its own end replaces the recovered partial reply instead of adding a second one."""
    upstream.script({"chunks": ["Slow", " and", " steady."], "gap": 1.2})
    t = turn.start(store, backend, thread.id, version, "Go slowly")
    events = t.events()
    assert next(events).text == "Slow"
    store.checkpoint(t.run_id, "Slow")
    wait_until(lambda: expired(store, t.run_id), "expired")
    assert other_process(store).recover_expired_runs() == 1
    assert shape(store, thread.id) == [("user", "Go slowly", "failed"), ("assistant", "Slow", "incomplete")]
    list(events)
    assert t.result.status == "completed"
    assert shape(store, thread.id) == [("user", "Go slowly", "complete"), ("assistant", "Slow and steady.", "complete")]
    got = store.get_run(t.run_id)
    assert (got.status, got.problem, got.error) == ("completed", None, None)


def test_a_late_end_after_the_thread_moved_on_leaves_the_recovery_standing(no_keeper, store):
    thread_id, message, run = a_turn_started(store)
    store.checkpoint(run, "Half")
    wait_until(lambda: expired(store, run), "expired")
    assert store.recover_expired_runs() == 1
    store.place_message(thread_id, "user", "Placed after the cut")
    reply = store.finish_turn(
        run, user_message_id=message, user_status="complete", reply="Half and the rest", reply_status="complete",
        thread_id=thread_id, version_id=None, status="completed",
    )  # fmt: skip
    assert reply is None
    assert shape(store, thread_id) == [
        ("user", "Hello", "failed"),
        ("assistant", "Half", "incomplete"),
        ("user", "Placed after the cut", "complete"),
    ]
    assert store.get_run(run).status == "incomplete"


# -- blank assistants of anonymous sessions ---------------------------------------------------------


def test_a_second_process_keeps_the_blank_assistant_a_live_session_just_made(store):
    session = Store(store.path, owner="session:first-process")
    fresh = session.create_assistant()
    old = session.create_assistant()
    with store.write() as db:
        db.execute(
            "UPDATE assistants SET created_at = :at WHERE id = :id",
            {"at": time.time() - store_module.BLANK_SESSION_AGE_S - 1, "id": old.id},
        )
    other_process(store)  # a second app process opens the log while the first one's session is live
    assert session.get_assistant(fresh.id) is not None
    assert session.get_assistant(old.id) is None  # a day old and still blank: no session will reach it


def test_edited_session_assistants_are_never_forgotten(store):
    session = Store(store.path, owner="session:edits")
    edited = session.create_assistant()
    session.save_draft(edited.id, AssistantConfig(name="Mine"))
    assert store.forget_empty_sessions(before=time.time() + 1) == 0
    assert session.get_assistant(edited.id) is not None
