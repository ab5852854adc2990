"""A hung upstream (no response headers) surfaces within the first-byte timeout, not the 300 s chunk gap.

Everything runs against the local server over loopback with the real SDK: `delay` holds back the
response headers, `ttft` and `gap` hold back the streamed chunks after the headers were sent.
"""

from __future__ import annotations

import threading
import time

import pytest

from playground import settings, turn
from playground.backend import ResponsesBackend
from playground.client import make_client
from tests.test_faults import assert_one_clear_sentence

# Far above 3 attempts of 1 s plus the SDK's backoff (≤ 1.5 s), far below one 10 s hang.
BOUND_S = 8.0


def _run_bounded(store, backend, thread, version, text, limit=20.0):
    """The turn on a thread of its own, so a hang fails the test instead of stalling the suite."""
    t = turn.start(store, backend, thread.id, version, text)
    worker = threading.Thread(target=lambda: list(t.events()), daemon=True)
    began = time.monotonic()
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"the turn still waits after {limit:g} s"
    return t.result, time.monotonic() - began


def _responses_requests(upstream, path="/v1/responses"):
    return [r for r in upstream.requests if r["path"] == path and r["method"] == "POST"]


@pytest.mark.parametrize("how", ["parameter", "environment"])
def test_a_hung_upstream_fails_within_the_first_byte_timeout(how, store, upstream, key, thread, version, monkeypatch):
    if how == "environment":
        monkeypatch.setenv("PLAYGROUND_FIRST_BYTE_TIMEOUT", "1")
        client = make_client(key, upstream.base_url)
    else:
        client = make_client(key, upstream.base_url, first_byte_timeout=1)
    # No response headers for 10 s, on each of the SDK's 3 attempts (its own 2 retries included).
    upstream.script({"delay": 10, "times": 3})

    done, took = _run_bounded(store, ResponsesBackend(client), thread, version, "anyone there?")

    assert took < BOUND_S, f"took {took:.1f} s"
    assert done.status == "failed" and done.problem.kind == "timeout", done.problem
    assert_one_clear_sentence(done.problem.message, "did not answer within 1 s")
    assert "PLAYGROUND_FIRST_BYTE_TIMEOUT" in done.problem.message
    assert "3 attempts" in done.problem.message
    assert len(_responses_requests(upstream)) == 3  # bounded: the SDK's retries, no more
    assert store.get_run(done.run_id).error == done.problem.message


def test_a_hung_conversation_request_fails_the_same_way(store, upstream, key, thread, version):
    # Every request of a turn waits at most the first-byte timeout for headers, not only the stream.
    upstream.script({"path": "/conversations", "delay": 10, "times": 3})
    client = make_client(key, upstream.base_url, first_byte_timeout=1)

    done, took = _run_bounded(store, ResponsesBackend(client), thread, version, "hello?")

    assert took < BOUND_S, f"took {took:.1f} s"
    assert done.problem.kind == "timeout" and "within 1 s" in done.problem.message
    assert len(_responses_requests(upstream, "/v1/conversations")) == 3


def test_the_gap_between_chunks_is_not_the_first_byte_timeout(store, upstream, key, thread, version):
    # Headers after 0.3 s (inside the first-byte timeout), then a model that thinks 1.2 s before its
    # first token and between tokens: longer than the first-byte timeout, far inside the 300 s gap.
    upstream.script({"chunks": ["slow", " but", " sure"], "delay": 0.3, "ttft": 1.2, "gap": 1.2})
    client = make_client(key, upstream.base_url, first_byte_timeout=0.8)

    done, took = _run_bounded(store, ResponsesBackend(client), thread, version, "take your time")

    assert done.status == "completed", done.problem
    assert done.text == "slow but sure"
    assert took > 3 * 0.8, "the reply should outlast the first-byte timeout, or this proves nothing"
    assert len(_responses_requests(upstream)) == 1


def test_the_first_byte_timeout_setting(monkeypatch, caplog):
    monkeypatch.delenv("PLAYGROUND_FIRST_BYTE_TIMEOUT", raising=False)
    assert settings.first_byte_timeout() == 60.0
    monkeypatch.setenv("PLAYGROUND_FIRST_BYTE_TIMEOUT", "600")  # a local server loading a big model
    assert settings.first_byte_timeout() == 600.0
    for wrong in ("soon", "0", "-5", "nan", "inf"):
        monkeypatch.setenv("PLAYGROUND_FIRST_BYTE_TIMEOUT", wrong)
        with caplog.at_level("WARNING"):
            assert settings.first_byte_timeout() == 60.0
        assert "PLAYGROUND_FIRST_BYTE_TIMEOUT" in caplog.text
        caplog.clear()
