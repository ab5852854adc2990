"""Test sets and replays through the real SDK: results kept, compared with a baseline row by row.

Sets run through `evaluation.start` one case at a time (concurrency 1), so scripted replies answer the
cases in order.
"""

from __future__ import annotations

import csv
import io
import statistics

import pytest

from playground import evaluation, export, replay, usage
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from tests.conftest import TEST_KEY


@pytest.fixture
def backend_factory(upstream):
    return lambda: ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))


def run_set(store, backend_factory, set_id, version) -> tuple[int, list[dict]]:
    """Run the set on `version` to its end, one case at a time: the run's id and its results, in case order."""
    ev = evaluation.start(store, backend_factory, set_id, version, concurrency=1)
    assert ev.wait(30), "the run never finished"
    assert ev.progress().status == "completed" and ev.error is None
    return ev.replay_id, store.replay_results(ev.replay_id)


def test_parse_and_check_inputs():
    assert replay.parse_inputs("one\n---\ntwo\nlines\n---\n\n---\nthree") == ["one", "two\nlines", "three"]
    assert replay.check("", []) == ["Give the test set a name.", "Add at least one input."]
    assert replay.check("x", ["a"] * 5000) == []  # no cap: an import can hold thousands


def test_a_set_from_a_conversation_replays_on_two_versions_with_a_diff(store, upstream, backend_factory):
    a = store.create_assistant()
    v1, _ = store.save_version(a.id, AssistantConfig(name="R", instructions="v1"))
    source = store.create_thread(a.id)
    store.add_message(source.id, "user", "What is 2+2?")
    store.add_message(source.id, "assistant", "4")
    store.add_message(source.id, "user", "And 3+3?")
    inputs = replay.from_thread(store, source.id)
    assert inputs == ["What is 2+2?", "And 3+3?"]
    set_id = replay.save(store, "Maths", inputs, mode="separate", source_thread_id=source.id)

    baseline_id, baseline = run_set(store, backend_factory, set_id, v1)
    assert [r["output"] for r in baseline] == ["Echo: What is 2+2?", "Echo: And 3+3?"]
    assert len({r["thread_id"] for r in baseline}) == 2  # separate: one thread per input

    v2, _ = store.save_version(a.id, AssistantConfig(name="R", instructions="v2"))
    upstream.script({"text": "Four."}, {"text": "Echo: And 3+3?"})
    second_id, _ = run_set(store, backend_factory, set_id, v2)
    rows = replay.compare_rows(store, second_id, baseline_id)
    pairs = [(r["output"], r["baseline output"]) for r in rows]
    assert pairs == [("Four.", "Echo: What is 2+2?"), ("Echo: And 3+3?",) * 2]
    assert rows[0]["similarity"] < 1 and rows[1]["similarity"] == 1.0
    assert "-Echo: What is 2+2?" in rows[0]["diff"] and "+Four." in rows[0]["diff"] and rows[1]["diff"] == ""
    assert [(r["version"], r["status"]) for r in store.list_replays(set_id)] == [(2, "completed"), (1, "completed")]
    bodies = [r["body"] for r in upstream.requests if r["path"].endswith("/responses")]
    assert [b["instructions"] for b in bodies] == ["v1", "v1", "v2", "v2"]


def test_conversation_mode_runs_the_inputs_in_order_on_one_thread(store, upstream, backend_factory):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="C"))
    set_id = replay.save(store, "Chat", ["hi", "and then?"], mode="conversation")
    _, results = run_set(store, backend_factory, set_id, v)
    assert len({r["thread_id"] for r in results}) == 1
    messages = store.list_messages(results[0]["thread_id"])
    assert [m.content for m in messages] == ["hi", "Echo: hi", "and then?", "Echo: and then?"]


def test_bad_sets_are_refused(store):
    with pytest.raises(ValueError, match="Give the test set a name"):
        replay.save(store, " ", ["x"])
    with pytest.raises(ValueError, match="Mode must be"):
        replay.save(store, "x", ["x"], mode="random")
    with pytest.raises(LookupError):
        store.test_cases(999)


def test_results_carry_tokens_and_cost_beside_the_baseline_with_totals(store, upstream, backend_factory):
    a = store.create_assistant()
    v1, _ = store.save_version(a.id, AssistantConfig(name="P", model="gpt-4.1-mini"))
    v2, _ = store.save_version(a.id, AssistantConfig(name="P", model="gpt-4.1"))
    set_id = replay.save(store, "Priced", ["one", "two"])
    upstream.script(
        {"text": "A1", "usage": {"input_tokens": 1000, "output_tokens": 200}, "ttft": 0.01},
        {"text": "A2", "usage": {"input_tokens": 3000, "output_tokens": 100}, "ttft": 0.03},
    )
    base_id, base = run_set(store, backend_factory, set_id, v1)
    upstream.script(
        {"text": "B1", "usage": {"input_tokens": 1000, "output_tokens": 400}},
        {"status": 400, "error": {"message": "nope", "param": "input"}},
    )
    this_id, this = run_set(store, backend_factory, set_id, v2)
    # The tokens a row shows are the run's, as the real SDK reported them.
    for result in base + this:
        run = store.get_run(result["run_id"])
        assert (result["input_tokens"], result["output_tokens"]) == (run.input_tokens, run.output_tokens)
    prices = usage.load_prices()
    rows = replay.compare_rows(store, this_id, base_id, prices)
    assert rows[0]["cost"] == pytest.approx((1000 * 2.00 + 400 * 8.00) / 1e6)  # gpt-4.1
    assert rows[0]["baseline cost"] == pytest.approx((1000 * 0.40 + 200 * 1.60) / 1e6)  # gpt-4.1-mini
    assert (rows[0]["baseline tokens"], rows[0]["baseline status"]) == (1200, "completed")
    assert rows[0]["baseline latency ms"] is not None and rows[0]["latency ms"] is not None
    assert (rows[1]["status"], rows[1]["baseline status"]) == ("failed", "completed") and "nope" in rows[1]["error"]
    assert rows[1]["cost"] == 0.0  # a request refused upstream used no tokens

    base_totals = replay.totals(store, base_id, prices)
    assert base_totals["total tokens"] == 4300 and base_totals["failures"] == 0
    assert base_totals["estimated cost"] == pytest.approx((4000 * 0.40 + 300 * 1.60) / 1e6)
    latencies = [r["latency_ms"] for r in store.replay_results(base_id)]
    assert base_totals["median latency ms"] == statistics.median(latencies)
    this_totals = replay.totals(store, this_id, prices)
    assert (this_totals["inputs"], this_totals["completed"], this_totals["failures"]) == (2, 1, 1)
    summary = {r["measure"]: r for r in replay.side_by_side(this_totals, base_totals)}
    assert summary["failures"]["change"] == "+1" and summary["total tokens"]["change"] == "−2,900 (−67%)"
    assert summary["estimated cost"]["this replay"] == usage.money(this_totals["estimated cost"])

    # The comparison as a file: both sides per row and the diff.
    table = list(csv.DictReader(io.StringIO(export.replay_csv(store, this_id, base_id, prices))))
    assert [r["output"] for r in table] == ["B1", ""] and [r["baseline output"] for r in table] == ["A1", "A2"]
    assert table[0]["baseline version"] == "P v1" and table[0]["version"] == "P v2"
    assert "-A1" in table[0]["diff"] and "+B1" in table[0]["diff"]
    assert float(table[0]["cost"]) == pytest.approx(rows[0]["cost"])
    with pytest.raises(LookupError):
        export.replay_csv(type(store)(store.path, owner="someone-else"), this_id)


def test_an_unpriced_model_makes_the_total_no_price_not_an_undercount(store, upstream, backend_factory):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="U", model="my-local-model"))
    set_id = replay.save(store, "U", ["x"])
    replay_id, _ = run_set(store, backend_factory, set_id, v)
    totals = replay.totals(store, replay_id, usage.load_prices())
    assert totals["estimated cost"] is None and totals["total tokens"] > 0
    row = next(iter(csv.DictReader(io.StringIO(export.replay_csv(store, replay_id)))))
    assert row["cost"] == "" and "baseline output" not in row  # blank is "no price", never 0


def test_a_set_from_several_conversations_replays_each_in_order_on_its_own_thread(store, upstream, backend_factory):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="S"))
    first, second = store.create_thread(a.id), store.create_thread(a.id)
    for thread, turns in ((first, ["hi", "and then?"]), (second, ["bonjour", "et alors?", "merci"])):
        for text in turns:
            store.add_message(thread.id, "user", text)
            store.add_message(thread.id, "assistant", "ok")
    inputs, sources = replay.from_threads(store, [first.id, second.id])
    assert inputs == ["hi", "and then?", "bonjour", "et alors?", "merci"]
    set_id = replay.save(store, "Two chats", inputs, mode="conversation", sources=sources)
    [listed] = store.list_test_sets()
    assert (listed["cases"], listed["sources"], listed["source_thread_id"]) == (5, 2, None)
    _, results = run_set(store, backend_factory, set_id, v)
    threads = [r["thread_id"] for r in results]
    assert threads[0] == threads[1] != threads[2] == threads[3] == threads[4]
    assert [m.content for m in store.list_messages(threads[2])] == [
        "bonjour", "Echo: bonjour", "et alors?", "Echo: et alors?", "merci", "Echo: merci",
    ]  # fmt: skip
    # The same inputs as separate cases: a thread each.
    separate = replay.save(store, "Apart", inputs, mode="separate", sources=sources)
    _, apart = run_set(store, backend_factory, separate, v)
    assert len({r["thread_id"] for r in apart}) == 5


def test_a_results_cost_survives_deleting_the_thread_it_ran_on(store, upstream, backend_factory):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="D"))
    set_id = replay.save(store, "D", ["x"])
    replay_id, [result] = run_set(store, backend_factory, set_id, v)
    before = replay.compare_rows(store, replay_id)
    store.delete_thread(result["thread_id"])
    after = replay.compare_rows(store, replay_id)
    assert after == before and after[0]["cost"] > 0


def test_results_logged_before_migration_8_read_their_tokens_from_the_run(store, upstream, backend_factory):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="Old"))
    set_id = replay.save(store, "Old", ["x"])
    replay_id, [result] = run_set(store, backend_factory, set_id, v)
    with store.write() as db:  # as an older app wrote it: no token split, no model
        db.execute("UPDATE replay_results SET input_tokens = NULL, output_tokens = NULL, model = NULL")
    [row] = store.replay_results(replay_id)
    run = store.get_run(result["run_id"])
    assert (row["input_tokens"], row["output_tokens"], row["model"]) == (run.input_tokens, run.output_tokens, run.model)


def test_a_result_without_reported_usage_is_unknown_in_the_totals_not_zero(store, upstream, backend_factory):
    a = store.create_assistant()
    v1, _ = store.save_version(a.id, AssistantConfig(name="P", model="gpt-4.1-mini"))
    set_id = replay.save(store, "Cut", ["one", "two", "three"])
    upstream.script(
        {"text": "A1", "usage": {"input_tokens": 1000, "output_tokens": 200}},
        {"chunks": ["Half", " of", " it"], "cut_after": 1},  # cut: the server never said what it used
        {"status": 400, "error": {"message": "nope", "param": "input"}},  # refused: nothing used
    )
    replay_id, _ = run_set(store, backend_factory, set_id, v1)
    prices = usage.load_prices()
    rows = replay.compare_rows(store, replay_id, None, prices)
    assert [r["status"] for r in rows] == ["completed", "incomplete", "failed"]
    assert rows[1]["cost"] is None and rows[2]["cost"] == 0.0
    totals = replay.totals(store, replay_id, prices)
    assert totals["usage unknown"] == 1
    assert totals["tally"].tokens_text == "1,200 + 1 run unknown"
    assert totals["tally"].cost_text.endswith("+ 1 run unknown") and totals["tally"].cost_text.startswith("$")
    summary = {r["measure"]: r for r in replay.side_by_side(totals, totals)}
    assert summary["total tokens"]["this replay"] == "1,200 + 1 run unknown"
    assert summary["total tokens"]["change"] == ""  # no difference made up from unknown parts
