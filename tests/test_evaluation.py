"""Evaluation runs through the real SDK and real HTTP: graded cases in parallel, Stop and Resume, 429s.

Replies are scripted per case with the local server's `match` (requests in parallel arrive in any
order); without a script the server echoes the input ("Echo: <input>"). Waits poll the log with a
deadline and never assert how long anything took.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from playground import evaluation, graders, usage
from playground.assistant import AssistantConfig, Variable
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from tests.conftest import TEST_KEY
from tests.test_turn import TIME

GRADERS = [
    {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}",
     "reference": "{{item.expected}}", "operation": "eq"},
    {"type": "regex", "name": "echoes", "pattern": "^Echo: "},
    {"type": "contains", "name": "names the city", "value": "{{item.city}}"},
    {"type": "finish_reason", "name": "finished", "expected": "completed"},
]  # fmt: skip
WAIT_S = 30.0  # a generous ceiling for a run to end; no test asserts a duration


@pytest.fixture
def backend_factory(upstream):
    return lambda: ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))


def make_version(store, instructions: str = "Be brief.", variables: tuple[str, ...] = (), model: str = "gpt-4.1-mini"):
    assistant = store.create_assistant()
    config = AssistantConfig(
        name="Eval", instructions=instructions, model=model, variables=[Variable(n, f"default {n}") for n in variables]
    )
    version, _ = store.save_version(assistant.id, config)
    return version


def make_set(store, cases: list[dict[str, Any]], mode: str = "separate", criteria: Any = None) -> int:
    set_id = store.create_test_set("Set", [], mode)
    store.add_cases(set_id, cases)
    if criteria is not None:
        store.set_graders(set_id, json.dumps(criteria))
    return set_id


def until(condition: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    """Poll until `condition()` is truthy; fail the test if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail("the condition never held")


def turn_bodies(upstream) -> list[dict[str, Any]]:
    return [r["body"] for r in upstream.requests if r["method"] == "POST" and r["path"].endswith("/responses")]


def sent(upstream, text: str) -> list[dict[str, Any]]:
    """The turn requests whose body holds `text`."""
    return [b for b in turn_bodies(upstream) if text in json.dumps(b)]


def user_messages(store, assistant_id: int, text: str) -> list:
    threads = store.list_threads(assistant_id, limit=1000, kinds=("eval",))
    return [m for t in threads for m in store.list_messages(t.id) if m.role == "user" and m.content == text]


def finished(ev: evaluation.Evaluation) -> evaluation.Progress:
    assert ev.wait(WAIT_S), "the run did not end"
    return ev.progress()


# -- before a run -----------------------------------------------------------------------------------


def test_check_cases_names_each_case_and_its_missing_variables(store):
    version = make_version(store, "Answer in {{lang}} about {{city}}.", variables=("lang", "city"))
    cases = [
        {"input": "a", "position": 0, "variables": {"lang": "fr", "city": "Paris"}},
        {"input": "b", "position": 1, "variables": {"lang": "fr"}},
        {"input": "c", "position": 4, "variables": {}},
    ]
    assert evaluation.check_cases(version, cases) == [
        "Case 2 lacks the declared variable city.",
        "Case 5 lacks the declared variables lang, city.",
    ]
    assert evaluation.check_cases(version, []) == ["The test set has no cases: add at least one."]
    assert evaluation.check_cases(make_version(store), [{"input": "x"}]) == []  # nothing declared


def test_load_graders_takes_a_list_or_testing_criteria_and_refuses_bad_input():
    assert evaluation.load_graders("") == [] and evaluation.load_graders("  \n") == []
    listed = evaluation.load_graders(json.dumps(GRADERS))
    wrapped = evaluation.load_graders(json.dumps({"testing_criteria": GRADERS}))
    assert [g.name for g in listed] == [g.name for g in wrapped] == ["exact", "echoes", "names the city", "finished"]
    with pytest.raises(graders.GraderError, match="not valid JSON"):
        evaluation.load_graders("[{")
    with pytest.raises(graders.GraderError, match="unknown type"):
        evaluation.load_graders('[{"type": "telepathy"}]')


def test_estimate_counts_characters_with_variables_filled_and_prices_them(store):
    version = make_version(store, "Speak {{lang}}.", variables=("lang",), model="gpt-4.1-mini")
    cases = [
        {"input": "x" * 40, "expected": "y" * 20, "variables": {"lang": "French"}},  # "Speak French." = 13
        {"input": "z" * 80, "variables": {"lang": "Dutch"}},  # "Speak Dutch." = 12; no expected: a guess
    ]
    prices = {"gpt-4.1-mini": usage.Price("gpt-4.1-mini", 0.40, 1.60)}
    est = evaluation.estimate(version, cases, prices)
    assert est.cases == 2
    assert est.input_tokens == (13 + 40 + 12 + 80 + 3) // 4
    assert est.output_tokens == 5 + evaluation.OUTPUT_GUESS_TOKENS
    assert est.cost == pytest.approx((est.input_tokens * 0.40 + est.output_tokens * 1.60) / 1e6)
    assert evaluation.estimate(make_version(store, model="my-local-model"), cases, prices).cost is None
    # A conversation resends its earlier turns with each case: more input than the same cases apart.
    talk = [{**c, "source_thread_id": 1} for c in cases]
    assert evaluation.estimate(version, talk, prices, mode="conversation").input_tokens > est.input_tokens


def test_what_cannot_run_is_refused_before_anything_is_sent_or_logged(store, upstream, backend_factory):
    version = make_version(store, "Speak {{lang}}.", variables=("lang",))
    cases = [{"input": "one", "variables": {"lang": "fr"}}, {"input": "two", "variables": {}}]
    set_id = make_set(store, cases)
    with pytest.raises(ValueError, match=r"^Case 2 lacks the declared variable lang\.$"):
        evaluation.start(store, backend_factory, set_id, version)
    for bad in (0, 33):
        with pytest.raises(ValueError, match="from 1 to 32"):
            evaluation.start(store, backend_factory, set_id, version, concurrency=bad)
    empty = make_set(store, [])
    with pytest.raises(ValueError, match="no cases"):
        evaluation.start(store, backend_factory, empty, version)
    fine = make_set(store, [{"input": "one", "variables": {"lang": "fr"}}])
    store.set_graders(fine, '[{"type": "regex", "pattern": "("}]')
    with pytest.raises(graders.GraderError, match="not a valid regular expression"):
        evaluation.start(store, backend_factory, fine, version)
    stranger = type(store)(store.path, owner="someone-else")
    with pytest.raises(LookupError):
        evaluation.start(stranger, backend_factory, fine, version)
    many = make_set(store, [{"input": f"case {n}"} for n in range(13)])
    with pytest.raises(ValueError) as refused:
        evaluation.start(store, backend_factory, many, version)
    assert str(refused.value).count("lacks the declared variable lang.") == 10
    assert str(refused.value).endswith("And 3 more cases lack variables.")
    assert upstream.requests == []  # the server saw nothing
    assert store.list_replays(set_id) == [] and store.list_replays(fine) == []


# -- a run --------------------------------------------------------------------------------------------


def test_every_case_is_graded_with_its_variables_sent(store, upstream, backend_factory):
    version = make_version(store, "Answer in {{lang}}.", variables=("lang", "city"))
    cities = [("Paris", "French"), ("Berlin", "German"), ("Rome", "Italian"), ("Oslo", "Norwegian")]
    cases = [
        {"input": f"Tell me about {{{{city}}}} {n}", "expected": f"Echo: Tell me about {city} {n}",
         "variables": {"city": city, "lang": lang}, "tags": ["europe"]}
        for n, (city, lang) in enumerate(cities)
    ]  # fmt: skip
    cases[3]["expected"] = "Something else"  # this one fails "exact" and passes the rest
    set_id = make_set(store, cases, criteria={"testing_criteria": GRADERS})

    ev = evaluation.start(store, backend_factory, set_id, version, concurrency=2, secrets=(TEST_KEY,))
    assert evaluation.find(ev.replay_id) is ev or ev.finished
    progress = finished(ev)
    assert (progress.status, progress.done, progress.total) == ("completed", 4, 4)
    assert (progress.passed, progress.failed, progress.ungraded, progress.eta_s) == (3, 1, 0, 0.0)
    assert ev.error is None and evaluation.find(ev.replay_id) is None

    # Each case's values reached upstream: in its input and in the instructions sent with it.
    for city, lang in cities:
        [body] = sent(upstream, f"Tell me about {city}")
        assert body["instructions"] == f"Answer in {lang}."
    rows = store.replay_results(ev.replay_id)
    assert [r["passed"] for r in rows] == [1, 1, 1, 0]
    first = rows[0]
    assert first["output"] == "Echo: Tell me about Paris 0" and first["status"] == "completed"
    assert [v["name"] for v in first["verdicts"]] == ["exact", "echoes", "names the city", "finished"]
    assert all(v["passed"] and v["score"] == 1.0 and v["error"] is False for v in first["verdicts"])
    assert first["input_tokens"] and first["output_tokens"] and first["latency_ms"] is not None
    assert first["model"] == "gpt-4.1-mini" and first["score"] == 1.0
    last = rows[3]
    exact = next(v for v in last["verdicts"] if v["name"] == "exact")
    assert not exact["passed"] and "Something else" in exact["reason"] and last["score"] == 0.75
    # One thread of kind "eval" per case, kept out of the chat's list, each an ordinary logged turn.
    assert len({r["thread_id"] for r in rows}) == 4
    assert store.list_threads(version.assistant_id) == []
    messages = store.list_messages(first["thread_id"])
    assert [(m.role, m.status) for m in messages] == [("user", "complete"), ("assistant", "complete")]
    [run] = store.list_replays(set_id)
    assert (run["status"], run["concurrency"], run["interrupted"]) == ("completed", 2, 0)
    assert json.loads(run["graders"]) == {"testing_criteria": GRADERS}


def test_an_upstream_failure_is_an_ungraded_result_with_its_sentence_and_no_key(store, upstream, backend_factory):
    version = make_version(store)
    set_id = make_set(store, [{"input": "one"}, {"input": "two"}], criteria=GRADERS[1:2])
    upstream.script({"match": "two", "status": 400, "error": {"message": f"No, {TEST_KEY} may not.", "param": "input"}})
    progress = finished(evaluation.start(store, backend_factory, set_id, version, secrets=(TEST_KEY,)))
    assert (progress.status, progress.passed, progress.ungraded) == ("completed", 1, 1)
    one, two = store.replay_results(store.list_replays(set_id)[0]["id"])
    assert one["passed"] == 1 and one["verdicts"][0]["name"] == "echoes"
    assert (two["status"], two["passed"], two["verdicts"], two["score"]) == ("failed", None, None, None)
    assert two["error"].startswith("The request was refused in `input` (400)")
    assert TEST_KEY not in two["error"] and "No, " in two["error"]


def test_an_unexpected_failure_ends_the_run_failed_in_one_sentence(store, upstream):
    version = make_version(store)
    set_id = make_set(store, [{"input": "one"}, {"input": "two"}])

    def broken() -> ResponsesBackend:
        raise RuntimeError(f"no client for {TEST_KEY}")

    ev = evaluation.start(store, broken, set_id, version, secrets=(TEST_KEY,))
    progress = finished(ev)
    assert progress.status == "failed" and progress.done == 0 and progress.eta_s is None
    assert ev.error == "Something went wrong in the app: RuntimeError."
    assert store.list_replays(set_id)[0]["status"] == "failed" and upstream.requests == []


def test_cases_run_in_parallel_up_to_the_concurrency(store, upstream, backend_factory):
    version = make_version(store)
    set_id = make_set(store, [{"input": f"case {n}"} for n in range(8)])
    upstream.script(*[{"text": "ok", "ttft": 0.3} for _ in range(8)])  # each holds its request a while
    progress = finished(evaluation.start(store, backend_factory, set_id, version, concurrency=4))
    assert progress.done == 8 and upstream.max_in_flight > 1
    assert upstream.max_in_flight <= 4
    upstream.reset()
    one_at_a_time = make_set(store, [{"input": f"case {n}"} for n in range(3)])
    upstream.script(*[{"text": "ok", "ttft": 0.1} for _ in range(3)])
    finished(evaluation.start(store, backend_factory, one_at_a_time, version, concurrency=1))
    assert upstream.max_in_flight == 1


def test_a_conversation_set_runs_each_source_in_order_on_one_thread(store, upstream, backend_factory):
    version = make_version(store)
    first, second = store.create_thread(version.assistant_id), store.create_thread(version.assistant_id)
    cases = [
        {"input": "hi", "source_thread_id": first.id},
        {"input": "bonjour", "source_thread_id": second.id},
        {"input": "and then?", "source_thread_id": first.id},
        {"input": "et alors?", "source_thread_id": second.id},
        {"input": "merci", "source_thread_id": second.id},
    ]
    set_id = make_set(store, cases, mode="conversation", criteria=GRADERS[1:2])
    upstream.script({"match": "bonjour", "text": "Echo: bonjour", "ttft": 0.2})  # the sources overlap
    progress = finished(evaluation.start(store, backend_factory, set_id, version, concurrency=2))
    assert (progress.status, progress.passed) == ("completed", 5)
    rows = {r["input"]: r for r in store.replay_results(store.list_replays(set_id)[0]["id"])}
    assert rows["hi"]["thread_id"] == rows["and then?"]["thread_id"] != rows["bonjour"]["thread_id"]
    assert rows["bonjour"]["thread_id"] == rows["et alors?"]["thread_id"] == rows["merci"]["thread_id"]
    assert [m.content for m in store.list_messages(rows["merci"]["thread_id"])] == [
        "bonjour", "Echo: bonjour", "et alors?", "Echo: et alors?", "merci", "Echo: merci",
    ]  # fmt: skip
    assert [m.content for m in store.list_messages(rows["hi"]["thread_id"])] == [
        "hi", "Echo: hi", "and then?", "Echo: and then?",
    ]  # fmt: skip


def test_a_429_pauses_then_retries_the_case_on_its_thread(store, upstream, backend_factory, monkeypatch):
    monkeypatch.setattr(evaluation, "BACKOFF_START_S", 0.01)
    version = make_version(store, "Speak {{lang}}.", variables=("lang",))
    cases = [{"input": n, "variables": {"lang": f"lang-{n}"}} for n in ("one", "two", "three")]
    set_id = make_set(store, cases, criteria=GRADERS[1:2])
    limited = {"status": 429, "error": {"message": "Slow down.", "type": "requests", "code": "rate_limit_exceeded"}}
    # The SDK retries a 429 twice itself: three 429s make one failed attempt here.
    upstream.script({**limited, "match": "two", "times": 3}, {**limited, "match": "three", "times": 3 * 5})
    progress = finished(evaluation.start(store, backend_factory, set_id, version, concurrency=2))
    assert (progress.status, progress.passed, progress.ungraded) == ("completed", 2, 1)
    rows = {r["input"]: r for r in store.replay_results(store.list_replays(set_id)[0]["id"])}

    two = rows["two"]
    assert two["status"] == "completed" and two["passed"] == 1 and two["output"] == "Echo: two"
    [message] = user_messages(store, version.assistant_id, "two")  # one message, two attempts
    attempts = [r for r in store.list_runs(two["thread_id"]) if r.user_message_id == message.id]
    assert [r.status for r in attempts] == ["failed", "completed"] and attempts[1].id == two["run_id"]
    assert [m.role for m in store.list_messages(two["thread_id"])] == ["user", "assistant"]
    bodies = sent(upstream, '"two"')
    assert len(bodies) == 4 and {b["instructions"] for b in bodies} == {"Speak lang-two."}  # the retry's too

    three = rows["three"]  # five attempts, then an upstream failure
    assert (three["status"], three["passed"], three["verdicts"]) == ("failed", None, None)
    assert three["error"].startswith("Rate limited (429)")
    [message] = user_messages(store, version.assistant_id, "three")
    assert len([r for r in store.list_runs(three["thread_id"]) if r.user_message_id == message.id]) == 5
    assert len(sent(upstream, '"three"')) == 15


def test_stop_keeps_finished_cases_and_resume_after_a_restart_does_only_the_rest(store, upstream, backend_factory):
    version = make_version(store)
    words = ["one", "two", "three", "four", "five"]
    set_id = make_set(store, [{"input": w} for w in words], criteria=GRADERS[1:2])
    upstream.script({"match": "three", "ttft": 10})  # in flight when Stop comes
    ev = evaluation.start(store, backend_factory, set_id, version, concurrency=1)
    until(lambda: sent(upstream, '"three"'))
    with pytest.raises(ValueError, match="still going"):
        evaluation.resume(store, backend_factory, ev.replay_id)
    progress = ev.progress()  # two done, three to go: a time left from this process's pace
    assert (progress.status, progress.done, progress.total) == ("running", 2, 5)
    assert progress.eta_s is not None and progress.eta_s > 0
    ev.stop()
    progress = finished(ev)
    assert (progress.status, progress.done, progress.passed, progress.eta_s) == ("stopped", 2, 2, None)
    assert sorted(r["input"] for r in store.replay_results(ev.replay_id)) == ["one", "two"]
    [cut] = user_messages(store, version.assistant_id, "three")
    [cancelled] = [r for r in store.list_runs(cut.thread_id) if r.user_message_id == cut.id]
    assert cancelled.status == "cancelled"  # logged as cancelled, not a result
    assert sent(upstream, '"four"') == []  # no new case after Stop
    assert store.get_replay(ev.replay_id)["status"] == "stopped"

    # As after a restart mid-run: nothing of it in this process, its heartbeat run out.
    evaluation._live.pop(ev.replay_id, None)
    with store.write() as db:
        db.execute("UPDATE replays SET status = 'running', beat_until = 0 WHERE id = :id", {"id": ev.replay_id})
    assert store.get_replay(ev.replay_id)["interrupted"]
    resumed = evaluation.resume(store, backend_factory, ev.replay_id, concurrency=2)
    progress = finished(resumed)
    assert (progress.status, progress.done, progress.total, progress.passed) == ("completed", 5, 5, 5)
    rows = store.replay_results(ev.replay_id)
    assert [r["input"] for r in rows] == words  # one result per case
    for word in words:  # one message per case, and each earlier case sent once
        assert len(user_messages(store, version.assistant_id, word)) == 1
    assert [len(sent(upstream, f'"{w}"')) for w in words] == [1, 1, 2, 1, 1]
    three = next(r for r in rows if r["input"] == "three")
    assert three["thread_id"] == cut.thread_id  # sent again in place, on its thread
    runs = [r.status for r in store.list_runs(cut.thread_id) if r.user_message_id == cut.id]
    assert runs == ["cancelled", "completed"]
    run = store.get_replay(ev.replay_id)
    assert (run["status"], run["interrupted"]) == ("completed", 0)
    with pytest.raises(ValueError, match="complete: every case has a result"):
        evaluation.resume(store, backend_factory, ev.replay_id)


def test_a_stopped_conversation_resumes_on_its_thread(store, upstream, backend_factory):
    version = make_version(store)
    source = store.create_thread(version.assistant_id)
    inputs = ["first", "second", "third"]
    set_id = make_set(store, [{"input": t, "source_thread_id": source.id} for t in inputs], mode="conversation")
    upstream.script({"match": "second", "ttft": 10})
    ev = evaluation.start(store, backend_factory, set_id, version)
    until(lambda: sent(upstream, '"second"'))
    ev.stop()
    assert finished(ev).done == 1
    progress = finished(evaluation.resume(store, backend_factory, ev.replay_id))
    assert (progress.status, progress.done) == ("completed", 3)
    threads = {r["thread_id"] for r in store.replay_results(ev.replay_id)}
    assert len(threads) == 1
    messages = store.list_messages(threads.pop())
    assert [(m.role, m.content) for m in messages if m.role == "user"] == [("user", t) for t in inputs]
    assert all(m.status == "complete" for m in messages)


def test_the_heartbeat_is_renewed_while_a_run_works(store, upstream, backend_factory, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_RUN_LEASE_S", "0.3")
    version = make_version(store)
    set_id = make_set(store, [{"input": "slow"}])
    upstream.script({"match": "slow", "ttft": 1.5})

    def beat() -> float:
        with store.db() as db:
            return db.value("SELECT beat_until FROM replays WHERE id = :id", {"id": ev.replay_id})

    ev = evaluation.start(store, backend_factory, set_id, version)
    assert ev.progress().eta_s is None  # no case done yet: no pace to go by
    first = beat()
    until(lambda: beat() is not None and beat() > first)
    assert finished(ev).status == "completed"
    assert beat() is None and not store.get_replay(ev.replay_id)["interrupted"]


def test_a_reply_logged_before_a_crash_took_its_result_is_not_sent_again(store, upstream, backend_factory):
    version = make_version(store)
    set_id = make_set(store, [{"input": "one"}, {"input": "two"}], criteria=GRADERS[1:2])
    ev = evaluation.start(store, backend_factory, set_id, version)
    assert finished(ev).status == "completed"
    # As if the process died between closing the turn of "two" and writing its result.
    with store.write() as db:
        db.execute(
            "DELETE FROM replay_results WHERE replay_id = :id AND case_id = "
            "(SELECT id FROM test_cases WHERE input = 'two' AND set_id = :set_id)",
            {"id": ev.replay_id, "set_id": set_id},
        )
        db.execute("UPDATE replays SET status = 'running', beat_until = 0 WHERE id = :id", {"id": ev.replay_id})
    upstream.reset()
    progress = finished(evaluation.resume(store, backend_factory, ev.replay_id))
    assert (progress.status, progress.done, progress.passed) == ("completed", 2, 2)
    assert upstream.requests == []  # read back from the log
    two = next(r for r in store.replay_results(ev.replay_id) if r["input"] == "two")
    assert (two["output"], two["status"], two["passed"]) == ("Echo: two", "completed", 1)
    assert len(user_messages(store, version.assistant_id, "two")) == 1


def test_a_turn_its_process_died_in_is_settled_then_sent_again_in_place(store, upstream, backend_factory):
    version = make_version(store)
    set_id = make_set(store, [{"input": "one"}, {"input": "two"}], criteria=GRADERS[1:2])
    upstream.script({"match": "two", "ttft": 10})
    ev = evaluation.start(store, backend_factory, set_id, version, concurrency=1)
    until(lambda: sent(upstream, '"two"'))
    ev.stop()
    assert finished(ev).done == 1
    [cut] = user_messages(store, version.assistant_id, "two")
    # As the log looks when the process died mid-turn: the run still open, its lease and heartbeat out.
    with store.write() as db:
        db.execute(
            "UPDATE runs SET status = 'in_progress', lease_until = 0, finished_at = NULL WHERE user_message_id = :m",
            {"m": cut.id},
        )
        db.execute("UPDATE messages SET status = 'incomplete' WHERE id = :m", {"m": cut.id})
        db.execute("UPDATE replays SET status = 'running', beat_until = 0 WHERE id = :id", {"id": ev.replay_id})
    progress = finished(evaluation.resume(store, backend_factory, ev.replay_id))
    assert (progress.status, progress.done, progress.passed) == ("completed", 2, 2)
    [message] = user_messages(store, version.assistant_id, "two")
    runs = [(r.status, r.problem) for r in store.list_runs(cut.thread_id) if r.user_message_id == cut.id]
    assert runs == [("incomplete", "interrupted"), ("completed", None)]
    assert message.status == "complete" and store.running_run(cut.thread_id) is None


def test_the_pause_after_a_429_doubles_to_a_cap_and_a_stop_ends_it():
    pacer = evaluation._Pacer()
    pauses = []
    for _ in range(7):
        before = time.monotonic()
        pacer.limited()
        pauses.append(pacer._until - before)
    # One pause for every worker: each 429 while they keep coming pushes it further, up to the cap.
    assert [round(p) for p in pauses] == [1, 2, 4, 8, 16, 30, 30]
    stopping = threading.Event()
    stopping.set()
    pacer.wait(stopping)  # returns at once: a stop does not sit out the pause
    pacer.eased()
    before = time.monotonic()
    pacer.limited()
    assert round(pacer._until - before) == 30  # the pause already set stands; the next one starts at 1 s
    assert pacer._streak == 1


def test_a_case_whose_model_calls_a_handled_function_is_graded_on_its_final_answer(store, upstream, backend_factory):
    assistant = store.create_assistant()
    version, _ = store.save_version(assistant.id, AssistantConfig.from_dict({"name": "Clock", "functions": [TIME]}))
    set_id = make_set(
        store,
        [{"input": "What time is it in UTC?"}],
        criteria=[{"type": "contains", "name": "says the time zone", "value": "UTC"}],
    )
    upstream.script(
        {"function_calls": [{"name": "get_current_time", "arguments": '{"timezone": "UTC"}'}]},
        {"text": "It is noon in UTC."},
    )
    run = evaluation.start(store, backend_factory, set_id, version, concurrency=1)
    assert run.wait(WAIT_S) and run.progress().status == "completed"
    [result] = store.replay_results(run.replay_id)
    assert result["output"] == "It is noon in UTC." and result["passed"] == 1
    assert len(turn_bodies(upstream)) == 2  # the call, then its handler's output sent back
    [call] = store.tool_calls(store.list_runs(result["thread_id"])[0].id)
    assert (call.status, call.source) == ("answered", "handler")
