"""Compare: two versions answer one input at once, through the real SDK, both logged."""

from __future__ import annotations

import pytest

from playground import compare
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.turn import TextDelta, TurnDone
from tests.conftest import TEST_KEY


@pytest.fixture
def two(store):
    a = store.create_assistant()
    v1, _ = store.save_version(a.id, AssistantConfig(name="A", instructions="Be brief."))
    v2, _ = store.save_version(a.id, AssistantConfig(name="A", instructions="Be thorough.", model="gpt-5"))
    return v1, v2


def test_both_sides_stream_at_once_and_are_logged(store, upstream, two):
    upstream.script(
        {"chunks": ["slow ", "one ", "here"], "ttft": 0.3, "gap": 0.2},
        {"chunks": ["fast ", "one"], "gap": 0.01},
    )

    def backend():
        return ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))

    turns = compare.start(store, backend, list(two), "Same question")
    order = [(side, e.text) for side, e in compare.interleave(turns) if isinstance(e, TextDelta)]
    assert [t.result.status for t in turns] == ["completed", "completed"]
    assert {t.result.text for t in turns} == {"slow one here", "fast one"}
    # Replies go to whichever request arrives first; find the sides by their text. The fast side
    # finished while the slow one was still streaming: neither waited for the other.
    fast = next(i for i, t in enumerate(turns) if t.result.text == "fast one")
    assert order.index((fast, "one")) < order.index((1 - fast, "here"))
    threads = {t.thread.id for t in turns}
    assert len(threads) == 2  # each side is its own thread, to continue later
    bodies = [r["body"] for r in upstream.requests if r["path"].endswith("/responses")]
    assert sorted(b["instructions"] for b in bodies) == ["Be brief.", "Be thorough."]
    for t, v in zip(turns, two, strict=True):
        run = store.get_run(t.run_id)
        assert run.version_id == v.id and run.total_tokens and run.latency_ms


def test_one_side_failing_does_not_stop_the_other(store, upstream, two):
    upstream.script({"status": 400, "error": {"message": "bad", "param": "model"}}, {"text": "fine"})

    def backend():
        return ResponsesBackend(
            make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url).with_options(max_retries=0)
        )

    turns = compare.start(store, backend, list(two), "Q")
    done = [e for _, e in compare.interleave(turns) if isinstance(e, TurnDone)]
    assert sorted(d.status for d in done) == ["completed", "failed"]


def test_a_consumer_that_stops_early_cancels_what_still_streams(store, upstream, two):
    upstream.script({"chunks": ["a", "b", "c", "d"], "gap": 0.3}, {"chunks": ["x", "y", "z", "w"], "gap": 0.3})

    def backend():
        return ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))

    turns = compare.start(store, backend, list(two), "Q")
    stream = compare.interleave(turns)
    next(stream)
    stream.close()
    assert [store.get_run(t.run_id).status for t in turns] == ["cancelled", "cancelled"]


def test_empty_input_is_refused(store, two):
    with pytest.raises(ValueError, match="Type a message"):
        compare.start(store, lambda: None, list(two), "  ")


def test_continuing_a_side_makes_its_version_current_so_the_thread_runs_it(store, upstream, two):
    v1, v2 = two
    assert compare.continue_label(store, v2) == "Continue on v2"
    assert compare.continue_label(store, v1) == "Continue on v1 (restores it as v3)"
    assert compare.continue_on(store, v2).id == v2.id and len(store.list_versions(v1.assistant_id)) == 2
    current = compare.continue_on(store, v1)
    assert (current.number, current.note, current.config) == (3, "restored v1", v1.config)
    assert store.get_draft(v1.assistant_id)[0] == v1.config  # what the Playground will send next
    assert compare.continue_label(store, current) == "Continue on v3"


@pytest.mark.parametrize("draft", ["none", "valid, new", "valid, equal to the old version", "same as latest"])
def test_the_continue_label_names_the_version_the_thread_goes_on_with(store, two, draft):
    v1, v2 = two
    if draft == "valid, new":
        store.save_draft(v1.assistant_id, AssistantConfig(name="Edited", instructions="Other."))
    elif draft == "valid, equal to the old version":
        store.save_draft(v1.assistant_id, v1.config)
    elif draft == "same as latest":
        store.save_draft(v1.assistant_id, v2.config)
    label = compare.continue_label(store, v1)
    current = compare.continue_on(store, v1)
    assert label == f"Continue on v1 (restores it as v{current.number})"
    assert current.config == v1.config
