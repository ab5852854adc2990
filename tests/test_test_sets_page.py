"""The Test sets page (AppTest, in-process) against the local OpenAI server: import cases, edit them,
refuse bad graders with the field named, run a set in the background and read its results."""

from __future__ import annotations

import csv
import io
import json

from playground import evaluation
from playground.assistant import AssistantConfig, Variable
from tests.pages import finish, results_table, table, texts

CSV = b"input,expected,tags,city\nWeather in {{city}}?,sunny,weather,Paris\nHello there,,greeting,Rome\n"
DRAFT = 0  # the version picker's option for a changed draft
REGEX = [{"type": "regex", "name": "mentions Paris", "input": "{{sample.output_text}}", "pattern": "Paris"}]


def open_page(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def editor_key(app, set_id: int, page: int = 1) -> str:
    """The cases editor's key: it turns over after each save, so the next one starts from the log."""
    gen = app.session_state.get("ts_cases_gen", 0)
    return f"ts_cases.{set_id}.{page}.{gen}"


def edits(edited=None, added=(), deleted=()):
    return {"edited_rows": edited or {}, "added_rows": list(added), "deleted_rows": list(deleted)}


def editor_frame(app, set_id: int, page: int = 1):
    """The cases the editor shows (as drawn from the log, before any edit)."""
    return app.dataframe(key=editor_key(app, set_id, page)).value


def new_set(log, name="Trips", cases=({"input": "Trip to {{city}}", "variables": {"city": "Paris"}},)):
    set_id = log.create_test_set(name, [])
    log.add_cases(set_id, list(cases))
    return set_id


def seed_version(log, name="Guide", **config):
    a = log.create_assistant()
    v, _ = log.save_version(a.id, AssistantConfig(name=name, **config))
    return a, v


def test_import_a_csv_shows_its_cases_and_exports_them_back(app, log):
    open_page(app, "app_pages/test_sets.py")
    app.radio(key="ts_source").set_value("From a file").run()
    app.text_input(key="ts_name").input("Imported").run()
    app.file_uploader(key="ts_file.0").set_value(("cases.csv", CSV, "text/csv")).run()
    app.button(key="ts_save").click().run()
    assert not app.exception, app.exception
    [saved] = log.list_test_sets()
    assert (saved["name"], saved["cases"]) == ("Imported", 2)
    assert app.selectbox(key="ts_pick").value == saved["id"]
    frame = editor_frame(app, saved["id"])
    assert list(frame["input"]) == ["Weather in {{city}}?", "Hello there"]
    assert list(frame["expected"]) == ["sunny", ""]
    assert json.loads(frame["variables"][0]) == {"city": "Paris"} and list(frame["tags"]) == ["weather", "greeting"]
    exported = list(csv.DictReader(io.StringIO(cases_csv(log, saved["id"]))))
    assert [(r["input"], r["city"]) for r in exported] == [("Weather in {{city}}?", "Paris"), ("Hello there", "Rome")]
    assert {b.proto.label for b in app.get("download_button")} >= {"Cases as CSV", "Cases as JSONL"}

    # A file that cannot be read: one sentence, nothing saved.
    app.radio(key="ts_source").set_value("From a file").run()
    app.text_input(key="ts_name").input("Broken").run()
    app.file_uploader(key="ts_file.1").set_value(("cases.jsonl", b'{"input": "ok"}\n{"expected": "x"}\n', "")).run()
    app.button(key="ts_save").click().run()
    assert not app.exception, app.exception
    assert 'Line 2 has no "input".' in texts(app, "error")
    assert [s["name"] for s in log.list_test_sets()] == ["Imported"]

    # More cases into the picked set, from an OpenAI Evals JSONL.
    rows = b'{"item": {"input": "Third", "expected": "3"}}\n'
    app.file_uploader(key=f"ts_more.{saved['id']}.0").set_value(("more.jsonl", rows, "")).run()
    app.button(key="ts_import").click().run()
    assert not app.exception, app.exception
    assert [c["input"] for c in log.test_cases(saved["id"])][-1] == "Third"
    assert list(editor_frame(app, saved["id"])["input"])[-1] == "Third"


def cases_csv(log, set_id):
    from playground import cases

    return cases.write_csv(
        cases.Case(c["input"], c["expected"], c["variables"], c["tags"]) for c in log.test_cases(set_id)
    )


def test_cases_are_edited_added_deleted_and_duplicated_and_a_bad_row_saves_nothing(app, log):
    set_id = new_set(log, cases=[{"input": "One"}, {"input": "Two"}, {"input": "Three"}])
    open_page(app, "app_pages/test_sets.py")
    before = log.test_cases(set_id)

    # A bad variables cell: refused in a sentence naming the case, nothing written (not even the good edit).
    app.session_state[editor_key(app, set_id)] = edits({0: {"expected": "1"}, 1: {"variables": "city=Paris"}})
    app.button(key="ts_cases_save").click().run()
    assert not app.exception, app.exception
    assert any("Case #2: variables must be a JSON object" in e for e in texts(app, "error"))
    assert log.test_cases(set_id) == before

    app.session_state[editor_key(app, set_id)] = edits(
        {0: {"expected": "1", "variables": '{"city": "Oslo"}', "tags": "a, b"}},
        added=[{"input": "Four", "expected": "4"}],
        deleted=[1],
    )
    app.button(key="ts_cases_save").click().run()
    assert not app.exception, app.exception
    after = log.test_cases(set_id)
    assert [(c["input"], c["expected"]) for c in after] == [("One", "1"), ("Three", None), ("Four", "4")]
    assert after[0]["variables"] == {"city": "Oslo"} and after[0]["tags"] == ["a", "b"]
    assert list(editor_frame(app, set_id)["input"]) == ["One", "Three", "Four"]
    assert any("Saved: 1 edited, 1 added, 1 deleted." in s for s in texts(app, "success"))

    # Duplicate and delete by number.
    app.number_input(key=f"ts_case_no.{set_id}").set_value(2).run()
    app.button(key="ts_case_duplicate").click().run()
    assert [c["input"] for c in log.test_cases(set_id)] == ["One", "Three", "Four", "Three"]
    app.number_input(key=f"ts_case_no.{set_id}").set_value(1).run()
    app.button(key="ts_case_delete").click().run()
    assert not app.exception, app.exception
    assert [c["input"] for c in log.test_cases(set_id)] == ["Three", "Four", "Three"]
    assert list(editor_frame(app, set_id)["input"]) == ["Three", "Four", "Three"]
    assert log.count_cases(set_id) == 3


def test_a_long_set_is_paged(app, log):
    set_id = new_set(log, cases=[{"input": f"case {n}"} for n in range(1, 121)])
    open_page(app, "app_pages/test_sets.py")
    assert list(editor_frame(app, set_id)["#"])[:2] == [1, 2] and len(editor_frame(app, set_id)) == 50
    app.number_input(key=f"ts_page.{set_id}").set_value(3).run()
    frame = editor_frame(app, set_id, 3)
    assert list(frame["input"]) == [f"case {n}" for n in range(101, 121)] and frame["#"].iloc[0] == 101


def test_bad_graders_are_refused_with_the_field_and_quick_adds_append(app, log):
    set_id = new_set(log)
    open_page(app, "app_pages/test_sets.py")
    key = f"ts_graders.{set_id}"
    bad = json.dumps([{"type": "regex", "name": "digits", "pattern": "(\\d"}])
    app.text_area(key=key).input(bad).run()
    app.button(key="ts_graders_save").click().run()
    assert not app.exception, app.exception
    [error] = [e for e in texts(app, "error") if e.startswith("Not saved")]
    assert "'digits'" in error and "field 'pattern' is not a valid regular expression" in error
    assert log.get_test_set(set_id)["graders"] in (None, "[]")

    app.text_area(key=key).input("[{").run()
    app.button(key="ts_graders_save").click().run()
    assert any("not valid JSON" in e for e in texts(app, "error"))
    assert log.get_test_set(set_id)["graders"] in (None, "[]")

    # Quick-add: a template appended to what is typed (names kept unique), saved as a list.
    app.text_area(key=key).input("[]").run()
    app.button(key="ts_add_grader.0").click().run()  # regex on the output
    app.button(key="ts_add_grader.0").click().run()
    app.button(key="ts_add_grader.1").click().run()  # equals expected
    typed = json.loads(app.text_area(key=key).value)
    assert [g["name"] for g in typed] == ["regex", "regex 2", "equals expected"]
    assert typed[2] == {
        "type": "string_check", "name": "equals expected", "input": "{{sample.output_text}}",
        "reference": "{{item.expected}}", "operation": "eq",
    }  # fmt: skip
    app.button(key="ts_graders_save").click().run()
    assert not app.exception, app.exception
    assert [g["name"] for g in json.loads(log.get_test_set(set_id)["graders"])] == [
        "regex",
        "regex 2",
        "equals expected",
    ]
    assert any("Graders saved: 3 graders." in s for s in texts(app, "success"))


def test_a_run_goes_on_in_the_background_and_its_results_read_per_case(app, log, upstream):
    seed_version(log, variables=[Variable("city", "")])
    set_id = new_set(
        log,
        cases=[
            {"input": "Trip to {{city}}", "expected": "x", "variables": {"city": "Paris"}},
            {"input": "Stay in {{city}}", "variables": {"city": "Rome"}},
        ],
    )
    log.set_graders(set_id, json.dumps(REGEX))
    open_page(app, "app_pages/test_sets.py")
    assert app.number_input(key="ts_concurrency").value == 4
    [estimate] = [c for c in texts(app, "caption") if c.startswith("Estimate:")]
    assert "2 cases" in estimate and "$" in estimate

    app.button(key="ts_run").click().run()
    assert not app.exception, app.exception
    run = finish(app, log, set_id)
    assert run["status"] == "completed"
    rows = results_table(app)
    assert list(rows.output) == ["Echo: Trip to Paris", "Echo: Stay in Rome"]
    assert list(rows.passed) == ["pass", "fail"]
    assert rows["mentions Paris"][1].startswith("fail") and "Paris" in rows["mentions Paris"][1]
    assert app.metric[0].label == "Pass rate" and app.metric[0].value == "50%"
    pivot = table(app, "label")
    assert list(pivot["pass rate"]) == [0.5] and list(pivot["mentions Paris pass rate"]) == [0.5]

    # A case lacking a declared variable: refused before anything is sent, in a sentence.
    log.add_cases(set_id, [{"input": "Nowhere"}])
    app.run()
    assert any("lacks the declared variable city" in e for e in texts(app, "error"))
    assert app.button(key="ts_run").disabled


def test_starting_on_a_changed_draft_saves_it_first(app, log, upstream):
    a, _ = seed_version(log, instructions="Be brief.")
    log.save_draft(a.id, AssistantConfig(name="Guide", instructions="Be thorough."))
    set_id = new_set(log, cases=[{"input": "Hi"}])
    open_page(app, "app_pages/test_sets.py")
    picker = app.selectbox(key="ts_version")
    assert picker.value == DRAFT and "saved as v2 when the run starts" in picker.options[0]
    app.button(key="ts_run").click().run()
    assert not app.exception, app.exception
    finish(app, log, set_id)
    latest = log.latest_version(a.id)
    assert (latest.number, latest.config.instructions) == (2, "Be thorough.")
    assert log.list_replays(set_id)[0]["version"] == 2
    assert app.selectbox(key="ts_version").value == latest.id  # the draft is the latest version now


def test_stop_then_resume_runs_only_the_rest_and_a_run_is_deleted_after_a_confirm(app, log, upstream):
    seed_version(log)
    set_id = new_set(log, cases=[{"input": f"Case {n}"} for n in range(1, 5)])
    upstream.script({"text": "slow", "ttft": 0.4, "times": 4})
    open_page(app, "app_pages/test_sets.py")
    app.number_input(key="ts_concurrency").set_value(1).run()
    app.button(key="ts_run").click().run()
    [run] = log.list_replays(set_id)
    assert evaluation.find(run["id"]) is not None
    assert any(p.proto.text.startswith(f"Run #{run['id']} on v1: ") for p in app.get("progress"))
    app.button(key=f"ts_stop.{run['id']}").click().run()
    assert not app.exception, app.exception
    finish(app, log, set_id)
    stopped = log.get_replay(run["id"])
    done = len(log.replay_done_cases(run["id"]))
    assert stopped["status"] == "stopped" and done < 4
    assert any("was stopped" in i for i in texts(app, "info"))

    app.button(key="ts_resume").click().run()
    assert not app.exception, app.exception
    assert finish(app, log, set_id)["status"] == "completed"
    assert len(log.replay_results(run["id"])) == 4  # each case once
    assert len(results_table(app)) == 4

    app.button(key="ts_delete").click().run()
    assert any(f"Delete run #{run['id']}" in w for w in texts(app, "warning"))
    app.button(key="ts_delete_no").click().run()
    assert log.list_replays(set_id)
    app.button(key="ts_delete").click().run()
    app.button(key="ts_delete_yes").click().run()
    assert not app.exception, app.exception
    assert log.list_replays(set_id) == []
    assert "Results" not in [s.value for s in app.subheader]


def test_results_against_a_baseline_and_their_exports(app, log, upstream):
    a, v1 = seed_version(log, variables=[Variable("city", "")])
    v2, _ = log.save_version(a.id, AssistantConfig(name="Guide"))  # declares no variable: {{city}} stays
    set_id = new_set(
        log,
        cases=[
            {"input": "Trip to {{city}}", "variables": {"city": "Paris"}},
            {"input": "Paris is <b>lovely</b> ![x](http://leak/)", "variables": {"city": "Rome"}},
        ],
    )
    log.set_graders(set_id, json.dumps(REGEX))
    open_page(app, "app_pages/test_sets.py")
    for version in (v1, v2):
        app.selectbox(key="ts_version").set_value(version.id).run()
        app.button(key="ts_run").click().run()
        finish(app, log, set_id)
    newest, older = log.list_replays(set_id)
    app.selectbox(key="ts_baseline").set_value(older["id"]).run()
    assert not app.exception, app.exception
    rows = results_table(app)
    assert list(rows.passed) == ["fail", "pass"] and list(rows["baseline passed"]) == ["pass", "pass"]
    assert rows["output"][0] == "Echo: Trip to {{city}}" and rows["baseline output"][0] == "Echo: Trip to Paris"
    assert any("1 case passed there and fail here (#1)" in c for c in texts(app, "caption"))
    pivot = table(app, "label")
    assert list(pivot["pass rate"]) == [1.0, 0.5] and list(pivot["label"]) == [
        f"#{older['id']} · Guide v1",
        f"#{newest['id']} · Guide v2",
    ]
    # Model output is data: never drawn as markdown (no image, no HTML) anywhere on the page.
    assert not any("![x]" in m.value or "<b>" in m.value for m in app.markdown)
    labels = {b.proto.label for b in app.get("download_button")}
    assert {"Results as CSV", "Results as JSONL", "Pivot as CSV"} <= labels


def test_an_interrupted_run_shows_resume_and_resuming_runs_only_the_rest(app, log, upstream):
    _, v = seed_version(log)
    set_id = new_set(log, cases=[{"input": "First"}, {"input": "Second"}, {"input": "Third"}])
    first = log.test_cases(set_id)[0]
    # A run whose process died after one case: running in the log, its heartbeat lapsed.
    replay_id = log.start_replay(set_id, v.id, concurrency=2)
    log.add_replay_result(replay_id, first["id"], output="kept from before", status="completed", passed=1)
    with log.write() as db:
        db.execute("UPDATE replays SET beat_until = 0 WHERE id = :id", {"id": replay_id})
    open_page(app, "app_pages/test_sets.py")
    assert any("was interrupted" in i and "after 1 of 3 cases" in i for i in texts(app, "info"))
    assert app.get("progress") == []  # nothing to poll: no process runs it
    app.button(key="ts_resume").click().run()
    assert not app.exception, app.exception
    assert finish(app, log, set_id)["status"] == "completed"
    assert list(results_table(app).output) == ["kept from before", "Echo: Second", "Echo: Third"]
    sent = [r for r in upstream.requests if r["path"].endswith("/responses")]
    assert len(sent) == 2  # only the cases without a result
