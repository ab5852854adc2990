"""The log's side of evaluation: cases, graders, results once per case, heartbeats, deleting runs."""

from __future__ import annotations

import pytest

from playground.assistant import AssistantConfig
from playground.store import Store


@pytest.fixture
def version(store):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="Bot", model="gpt-5"))
    return v


def test_cases_keep_expected_variables_and_tags_in_order(store):
    set_id = store.create_test_set("s", ["first"])
    added = store.add_cases(
        set_id,
        [
            {"input": "What is 2+2?", "expected": "4", "variables": {"city": "Oslo"}, "tags": ["math", "easy"]},
            {"input": "Hi"},
        ],
    )
    assert added == 2
    cases = store.test_cases(set_id)
    assert [c["input"] for c in cases] == ["first", "What is 2+2?", "Hi"]
    assert cases[1]["expected"] == "4" and cases[1]["variables"] == {"city": "Oslo"}
    assert cases[1]["tags"] == ["math", "easy"]
    assert cases[2]["expected"] is None and cases[2]["variables"] == {} and cases[2]["tags"] == []
    assert store.count_cases(set_id) == 3
    assert [c["input"] for c in store.test_cases(set_id, offset=1, limit=1)] == ["What is 2+2?"]


def test_an_import_lands_whole_or_not_at_all(store):
    set_id = store.create_test_set("s", ["first"])
    with pytest.raises(ValueError, match="Case 3 has no input"):
        store.add_cases(set_id, [{"input": "ok"}, {"input": "  "}])
    assert store.count_cases(set_id) == 1


def test_thousands_of_cases_page_through(store):
    set_id = store.create_test_set("big", ["case 0"])
    store.add_cases(set_id, ({"input": f"case {i}"} for i in range(1, 5000)))
    assert store.count_cases(set_id) == 5000
    page = store.test_cases(set_id, offset=4950, limit=50)
    assert [c["input"] for c in page] == [f"case {i}" for i in range(4950, 5000)]


def test_edit_duplicate_and_delete_a_case(store, version):
    set_id = store.create_test_set("s", ["one", "two"])
    one, two = store.test_cases(set_id)
    store.update_case(one["id"], {"expected": "1", "tags": ["n"]})
    copy = store.duplicate_case(one["id"])
    replay = store.start_replay(set_id, version.id)
    store.add_replay_result(replay, two["id"], output="2", status="completed")
    store.delete_cases([two["id"]])
    cases = store.test_cases(set_id)
    assert [(c["id"], c["input"], c["expected"], c["tags"]) for c in cases] == [
        (one["id"], "one", "1", ["n"]),
        (copy, "one", "1", ["n"]),
    ]
    # A deleted case leaves the set, not the log: an earlier run's result still shows its input.
    assert [r["input"] for r in store.replay_results(replay)] == ["two"]
    with pytest.raises(ValueError):
        store.update_case(one["id"], {"input": ""})


def test_a_case_has_one_result_per_run(store, version):
    set_id = store.create_test_set("s", ["one"])
    [case] = store.test_cases(set_id)
    replay = store.start_replay(set_id, version.id, graders='[{"type": "string_check"}]', concurrency=4)
    verdicts = '[{"name": "eq", "passed": true, "score": 1.0, "reason": "equal", "error": false}]'
    assert store.add_replay_result(replay, case["id"], output="a", status="completed", verdicts=verdicts, passed=1)
    assert not store.add_replay_result(replay, case["id"], output="b", status="completed")
    [result] = store.replay_results(replay)
    assert result["output"] == "a" and result["passed"] == 1
    assert result["verdicts"] == [{"name": "eq", "passed": True, "score": 1.0, "reason": "equal", "error": False}]
    assert store.replay_done_cases(replay) == {case["id"]}
    run = store.get_replay(replay)
    assert run["concurrency"] == 4 and run["graders"] == '[{"type": "string_check"}]'


def test_a_running_run_whose_heartbeat_stopped_reads_as_interrupted(store, version):
    set_id = store.create_test_set("s", ["one"])
    replay = store.start_replay(set_id, version.id)
    assert not store.get_replay(replay)["interrupted"]
    with store.write() as db:  # its process died a while ago
        db.execute("UPDATE replays SET beat_until = 0 WHERE id = :id", {"id": replay})
    assert store.get_replay(replay)["interrupted"]
    store.beat_replay(replay)
    assert not store.get_replay(replay)["interrupted"]
    store.finish_replay(replay, "stopped")
    assert not store.get_replay(replay)["interrupted"]
    assert store.resume_replay(replay, concurrency=6)
    run = store.get_replay(replay)
    assert run["status"] == "running" and not run["interrupted"] and run["concurrency"] == 6
    # Running with a live heartbeat: a second process's resume is refused, nothing written.
    assert not Store(store.path).resume_replay(replay, concurrency=2)
    assert store.get_replay(replay)["concurrency"] == 6


def test_graders_are_kept_with_the_set(store):
    set_id = store.create_test_set("s", ["one"])
    assert store.get_test_set(set_id)["graders"] == "[]"
    store.set_graders(set_id, '[{"type": "string_check", "name": "eq"}]')
    assert store.get_test_set(set_id)["graders"] == '[{"type": "string_check", "name": "eq"}]'
    assert store.find_test_set("s")["id"] == set_id
    assert store.find_test_set("nope") is None
    assert Store(store.path, owner="someone else").find_test_set("s") is None


def test_deleting_a_run_removes_its_results_and_the_threads_it_made(store, version):
    set_id = store.create_test_set("s", ["one", "two"])
    one, two = store.test_cases(set_id)
    replay = store.start_replay(set_id, version.id)
    made = store.create_thread(version.assistant_id, kind="eval")
    kept = store.create_thread(version.assistant_id, kind="eval")
    message, run = store.start_turn(made.id, "one", version.id, "gpt-5")
    store.add_replay_result(replay, one["id"], output="x", status="completed", thread_id=made.id, run_id=run)
    store.add_replay_result(replay, two["id"], output="y", status="completed", thread_id=kept.id)
    store.set_thread_kind(kept.id, "chat")  # continued in the Playground: the user's own now
    store.delete_replay(replay)
    assert store.get_replay(replay) is None
    assert store.replay_results(replay) == []
    assert store.get_thread(made.id) is None and store.get_message(message) is None
    assert store.get_thread(kept.id) is not None
    assert store.count_cases(set_id) == 2
