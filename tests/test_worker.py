"""Turns on their own worker: the page's drawing can go away, the turn goes on; only Stop cancels it."""

from __future__ import annotations

import threading

import pytest

from playground import turn, worker
from tests.conftest import TEST_KEY


@pytest.fixture(autouse=True)
def _no_turn_left_running():
    yield
    for live in list(worker._live.values()):
        live.turn.cancel()
        live.wait(5)


def launch(store, backend, thread, version, text="Hello there"):
    return worker.launch(turn.start(store, backend, thread.id, version, text, secrets=(TEST_KEY,)))


def test_a_reader_that_goes_away_does_not_stop_the_turn(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["One", " two", " three", " four"], "ttft": 0.2, "gap": 0.1})
    live = launch(store, backend, thread, version)
    assert worker.running(thread.id) is live
    reader = live.chunks(heartbeat=0.05)
    first = next(c for c in reader if c)
    reader.close()  # the page left mid-reply
    assert first == "One"
    assert live.wait(10)
    assert live.done.status == "completed" and live.done.text == "One two three four"
    assert worker.running(thread.id) is None and worker.find(live.run_id) is None
    messages = store.list_messages(thread.id)
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "Hello there", "complete"),
        ("assistant", "One two three four", "complete"),
    ]
    assert store.get_run(live.run_id).status == "completed"


def test_a_late_reader_gets_what_arrived_then_the_rest(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["a", "b", "c", "d", "e"], "gap": 0.15})
    live = launch(store, backend, thread, version)
    early = live.chunks()
    seen_early = [next(early)]
    late = "".join(live.chunks())  # attaches mid-reply, as a second tab or a page coming back does
    seen_early += list(early)
    assert late == "abcde" and "".join(seen_early) == "abcde"
    assert live.text() == "abcde"


def test_heartbeats_while_the_model_thinks(store, backend, upstream, thread, version):
    upstream.script({"text": "Thought about it", "ttft": 0.5})
    live = launch(store, backend, thread, version)
    chunks = list(live.chunks(heartbeat=0.05))
    assert chunks.count("") >= 3  # moments for the page to act on a click before the first token
    assert "".join(chunks) == "Thought about it"


def test_stop_cancels_the_turn_and_keeps_the_partial_text(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["Part", " of", " it", " and", " more"], "gap": 0.3})
    live = launch(store, backend, thread, version)
    assert next(c for c in live.chunks(heartbeat=0.05) if c) == "Part"
    assert worker.stop(live.run_id)
    assert live.done.status == "cancelled"
    run = store.get_run(live.run_id)
    assert run.status == "cancelled"
    reply = [m for m in store.list_messages(thread.id) if m.role == "assistant"]
    assert len(reply) == 1 and reply[0].content.startswith("Part") and reply[0].status == "incomplete"
    assert not worker.stop(live.run_id)  # settled: nothing left to stop


def test_readers_on_other_threads_see_the_same_reply(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["x", "y", "z"], "gap": 0.1})
    live = launch(store, backend, thread, version)
    seen: list[str] = []

    def read():
        seen.append("".join(live.chunks(heartbeat=0.05)))

    readers = [threading.Thread(target=read) for _ in range(3)]
    for r in readers:
        r.start()
    for r in readers:
        r.join(10)
    assert seen == ["xyz"] * 3
    assert len([m for m in store.list_messages(thread.id) if m.role == "assistant"]) == 1


def test_a_log_that_refuses_the_last_write_is_said_not_raised(store, backend, upstream, thread, version, monkeypatch):
    upstream.script({"chunks": ["Hi"]})
    from playground.errors import LogError, Problem

    def refuse(*args, **kwargs):
        raise LogError(Problem("log_full", "The log is full."))

    monkeypatch.setattr(store, "finish_turn", refuse)
    live = launch(store, backend, thread, version)
    assert live.wait(10)
    assert live.done is None and live.problem.message == "The log is full."
    assert list(live.chunks()) == ["Hi"]  # what arrived is still drawn
    assert worker.running(thread.id) is None
