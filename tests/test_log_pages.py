"""The log pages (Conversations, Test sets, Compare, Usage, Versions, Assistants) driven by AppTest in-process,
against the local OpenAI server through the real SDK where a page talks upstream."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time

from streamlit.elements.widgets import button as button_module

from playground import export, results
from playground.assistant import AssistantConfig
from playground.store import Store
from tests.pages import chat_texts, create, finish, results_table, table, texts, typed, typing_value
from tests.test_log import chat


def seed(log, name="Support", model="gpt-4.1-mini", **config):
    a = log.create_assistant()
    v, _ = log.save_version(a.id, AssistantConfig(name=name, model=model, **config))
    return a, v


def bulk_threads(log, assistant_id, version_id, count, question, start=0.0):
    """`count` threads of one exchange each, written in one transaction (hundreds in milliseconds)."""
    now = start or time.time() - 86400
    with log.write() as db:
        for n in range(count):
            at = now + n
            thread = db.execute(
                "INSERT INTO threads (assistant_id, title, created_at, updated_at) "
                "VALUES (:assistant_id, :title, :at, :at)",
                {"assistant_id": assistant_id, "title": f"{question} {n}", "at": at},
            ).lastrowid
            user = db.execute(
                "INSERT INTO messages (thread_id, role, content, version_id, status, created_at) "
                "VALUES (:thread, 'user', :content, :version_id, 'complete', :at)",
                {"thread": thread, "content": f"{question} {n}", "version_id": version_id, "at": at},
            ).lastrowid
            run = db.execute(
                "INSERT INTO runs (thread_id, version_id, user_message_id, model, status, input_tokens, "
                "output_tokens, total_tokens, latency_ms, created_at, finished_at) "
                "VALUES (:thread, :version_id, :user, 'gpt-4.1-mini', 'completed', 10, 5, 15, 100, :at, :at)",
                {"thread": thread, "version_id": version_id, "user": user, "at": at},
            ).lastrowid
            db.execute(
                "INSERT INTO messages (thread_id, role, content, version_id, run_id, status, created_at) "
                "VALUES (:thread, 'assistant', 'noted', :version_id, :run, 'complete', :at)",
                {"thread": thread, "version_id": version_id, "run": run, "at": at},
            )


def open_page(app, page):
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


# -- Conversations ---------------------------------------------------------------------------------


def test_a_filtered_search_finds_what_the_top_hits_would_miss_and_says_how_many(app, log):
    support, sv = seed(log, "Support")
    other, ov = seed(log, "Billing")
    bulk_threads(log, support.id, sv.id, 520, "refund question")
    rare = chat(log, other.id, ov.id, ("an old refund question from billing", "ok"))
    with log.write() as db:  # the oldest thread of all: no top-50 list of hits would reach it
        db.execute("UPDATE threads SET created_at = 1, updated_at = 1 WHERE id = :id", {"id": rare.id})
    open_page(app, "app_pages/conversations.py")
    assert "Showing the newest 500 of 521 conversations." in texts(app, "caption")

    app.text_input(key="conv_search").input("refund").run()
    assert "521 conversations match “refund”; showing the newest 500." in texts(app, "caption")
    assert len(app.dataframe[0].value) == 500
    assert any("**refund**" in m for m in texts(app))  # snippets from the listed threads
    assert any("use all 521 conversations that match" in c for c in texts(app, "caption"))

    app.selectbox(key="conv_assistant").set_value(other.id).run()
    assert list(app.dataframe[0].value.thread) == [rare.id]
    assert "1 conversation matches “refund”." in texts(app, "caption")
    app.text_input(key="conv_search").input("zeppelin").run()
    assert "No conversations match." in texts(app, "info")


def test_dates_filter_in_the_browsers_time_zone_and_times_sort_as_times(app, log):
    a, v = seed(log)
    # 2026-01-01 12:00 UTC is already 2 January in Kiritimati (UTC+14).
    noon = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC).timestamp()
    bulk_threads(log, a.id, v.id, 1, "new year", start=noon)
    bulk_threads(log, a.id, v.id, 1, "a week later", start=noon + 7 * 86400)
    app.context = {"timezone": "Pacific/Kiritimati"}
    open_page(app, "app_pages/conversations.py")
    table = app.dataframe[0].value
    assert str(table["started"].dt.tz) == "Pacific/Kiritimati"
    assert table.sort_values("started").title.tolist()[-2:] == ["new year 0", "a week later 0"]
    app.date_input(key="conv_days").set_value((dt.date(2026, 1, 2), dt.date(2026, 1, 2))).run()
    assert list(app.dataframe[0].value.title) == ["new year 0"]
    app.date_input(key="conv_days").set_value((dt.date(2026, 1, 1), dt.date(2026, 1, 1))).run()
    assert "No conversations match." in texts(app, "info")


def test_a_stale_delete_confirmation_is_dropped_and_a_vanished_thread_is_a_message(app, log):
    a, v = seed(log)
    refund = chat(log, a.id, v.id, ("refund please", "ok"))
    hours = chat(log, a.id, v.id, ("opening hours?", "9 to 5"))
    open_page(app, "app_pages/conversations.py")
    assert app.selectbox(key="conv_open").value == hours.id
    app.button(key="conv_delete").click().run()
    assert app.session_state["confirm_delete"] == hours.id
    assert "dlg_delete_yes" in [b.key for b in app.button]

    # A search opens another thread: the confirmation named the old one, so it goes away.
    app.text_input(key="conv_search").input("refund").run()
    assert app.selectbox(key="conv_open").value == refund.id
    assert "dlg_delete_yes" not in [b.key for b in app.button] and "confirm_delete" not in app.session_state

    # Deleted elsewhere while the dialog was open: the stale confirmation goes, with a sentence.
    app.button(key="conv_delete").click().run()
    log.delete_thread(refund.id)
    app.button(key="dlg_delete_yes").click().run()
    assert not app.exception, app.exception
    assert "The conversation you were deleting is no longer in the log." in texts(app, "info")
    assert [t.id for t in log.list_threads(a.id)] == [hours.id]

    app.text_input(key="conv_search").input("").run()
    app.button(key="conv_delete").click().run()
    app.button(key="dlg_delete_yes").click().run()
    assert log.list_threads(a.id) == [] and any("Deleted" in s for s in texts(app, "success"))


def test_a_thread_gone_between_the_dialog_and_the_click_is_a_sentence(app, log, monkeypatch):
    a, v = seed(log)
    thread = chat(log, a.id, v.id, ("hello", "hi"))
    open_page(app, "app_pages/conversations.py")
    app.button(key="conv_delete").click().run()

    def gone(self, thread_id):  # another session deleted it after this page drew the dialog
        raise LookupError(f"No thread {thread_id} for this owner.")

    monkeypatch.setattr(Store, "delete_thread", gone)
    app.button(key="dlg_delete_yes").click().run()
    assert not app.exception, app.exception
    assert any("is no longer in the log: it was deleted elsewhere" in e for e in texts(app, "error"))
    assert "confirm_delete" not in app.session_state and log.get_thread(thread.id) is not None


def test_save_as_test_set_from_selected_or_all_matching_conversations(app, log):
    a, v = seed(log)
    first = chat(log, a.id, v.id, ("refund for order 1?", "yes"), ("and order 2?", "also"))
    second = chat(log, a.id, v.id, ("refund for a gift?", "no"))
    chat(log, a.id, v.id, ("opening hours?", "9 to 5"))
    open_page(app, "app_pages/conversations.py")
    app.text_input(key="conv_search").input("refund").run()
    app.button(key="conv_ts_save").click().run()
    assert "Give the test set a name." in texts(app, "error")
    app.text_input(key="conv_ts_name").input("Refunds").run()
    app.button(key="conv_ts_save").click().run()
    [saved] = log.list_test_sets()
    assert (saved["name"], saved["cases"], saved["sources"], saved["mode"]) == ("Refunds", 3, 2, "conversation")
    cases = log.test_cases(saved["id"])
    assert [(c["input"], c["source_thread_id"]) for c in cases] == [
        ("refund for a gift?", second.id),
        ("refund for order 1?", first.id),
        ("and order 2?", first.id),
    ]
    assert any("3 inputs from 2 conversations" in s for s in texts(app, "success"))

    # A selection narrows it (rows as the table lists them, newest first).
    app.session_state["conv_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    app.run()
    assert any("use the 1 selected conversation." in c for c in texts(app, "caption"))
    assert app.selectbox(key="conv_open").value == first.id
    app.toggle(key="conv_ts_mode").set_value(False).run()
    app.text_input(key="conv_ts_name").input("Order 1").run()
    app.button(key="conv_ts_save").click().run()
    newest = log.list_test_sets()[0]
    assert (newest["name"], newest["cases"], newest["mode"]) == ("Order 1", 2, "separate")
    app.button(key="conv_ts_open").click().run()
    assert app.selectbox(key="ts_pick").value == newest["id"]


def test_jsonl_export_offers_metadata_as_an_option(app, log, monkeypatch):
    """The switch changes what the download serves. The data is made on click, outside the script run
    (where the session state is not the session's), so it is produced here the same way."""
    served = {}
    original = button_module.marshall_file

    def marshall_file(coordinates, data, proto, mimetype, file_name=None, **kwargs):
        if callable(data):
            served[proto.label] = data
        return original(coordinates, data, proto, mimetype, file_name, **kwargs)

    monkeypatch.setattr(button_module, "marshall_file", marshall_file)
    a, v = seed(log, instructions="Be brief.")
    thread = chat(log, a.id, v.id, ("hi", "hello"))
    open_page(app, "app_pages/conversations.py")
    assert app.toggle(key="conv_jsonl_meta").value is False
    labels = [d.proto.label for d in app.get("download_button")]
    assert labels[:3] == ["JSONL (chat format)", "CSV", "Markdown"]
    plain = json.loads(served["JSONL (chat format)"]())
    assert list(plain) == ["messages"]  # what a fine-tuning upload accepts
    assert [m["content"] for m in plain["messages"]] == ["Be brief.", "hi", "hello"]

    app.toggle(key="conv_jsonl_meta").set_value(True).run()
    line = json.loads(served["JSONL (chat format)"]())
    assert line["messages"] == plain["messages"]
    assert line["metadata"]["thread_id"] == thread.id and line["metadata"]["versions"] == [1]
    app.toggle(key="conv_jsonl_meta").set_value(False).run()
    assert "metadata" not in json.loads(served["JSONL (chat format)"]())

    rows = export.read_csv(served["CSV"]())
    reply = next(r for r in rows if r["role"] == "assistant")
    assert {"input_tokens", "output_tokens", "cost_usd", "latency_ms"} <= set(reply)


# -- Compare ---------------------------------------------------------------------------------------


def test_compare_survives_a_key_change_and_continues_on_the_compared_version(app, log, upstream):
    create(app, name="Duo", instructions="Be brief.")
    typed(app, "cfg.instructions", "Be thorough.").run()
    app.button(key="save_version").click().run()
    open_page(app, "app_pages/compare.py")
    app.text_area(key="cmp_text").input("Same question").run()
    app.button(key="cmp_send").click().run()
    assert not app.exception, app.exception
    labels = {b.key: b.label for b in app.button if b.key and b.key.startswith("cmp_continue")}
    assert labels == {"cmp_continue_A": "Continue on v1 (restores it as v3)", "cmp_continue_B": "Continue on v2"}
    assert any(m.startswith("**A** · Duo v1") for m in texts(app))

    # Another key is another log: the results of the last one are not looked up in it.
    app.sidebar.text_input(key="api_key").input("sk-visitor-0123456789abcdef").run()
    assert not app.exception, app.exception
    assert "cmp_continue_A" not in [b.key for b in app.button] and "cmp_last" not in app.session_state
    assert not any(m.startswith("**A** ·") for m in texts(app))
    app.sidebar.text_input(key="api_key").input("").run()
    assert not app.exception, app.exception

    app.text_area(key="cmp_text").input("Again").run()
    app.button(key="cmp_send").click().run()
    app.button(key="cmp_continue_A").click().run()
    assert not app.exception, app.exception
    [assistant] = [x for x in log.list_assistants() if x["name"] == "Duo"]
    latest = log.latest_version(assistant["id"])
    assert (latest.number, latest.note, latest.config.instructions) == (3, "restored v1", "Be brief.")
    assert typing_value(app, "cfg.instructions") == "Be brief."
    assert chat_texts(app) == ["Again", "Echo: Again"]


# -- Test sets -------------------------------------------------------------------------------------


def test_replays_side_by_side_with_cost_baseline_columns_and_a_csv(app, log, upstream):
    a, v1 = seed(log, "Tester", model="gpt-4.1-mini")
    v2, _ = log.save_version(a.id, AssistantConfig(name="Tester", model="gpt-4.1"))
    one = chat(log, a.id, v1.id, ("What is 2+2?", "4"))
    two = chat(log, a.id, v1.id, ("And 3+3?", "6"), ("And 4+4?", "8"))
    open_page(app, "app_pages/test_sets.py")
    app.multiselect(key="ts_threads").set_value([one.id, two.id]).run()
    assert "3 user turns from 2 conversations." in texts(app, "caption")
    app.text_input(key="ts_name").input("Sums").run()
    app.button(key="ts_save").click().run()
    [test_set] = log.list_test_sets()
    assert (test_set["cases"], test_set["sources"]) == (3, 2)

    app.number_input(key="ts_concurrency").set_value(1).run()  # one case at a time: the script below in order
    app.selectbox(key="ts_version").set_value(v1.id).run()
    app.button(key="ts_run").click().run()
    finish(app, log, test_set["id"])
    assert [m.label for m in app.metric] == ["Pass rate", "Passed", "Failed", "Estimated cost", "Latency p50 / p90"]
    assert app.metric[1].value == "3 of 3" and app.metric[3].value.startswith("$")

    upstream.script({"text": "Four."}, {"status": 400, "error": {"message": "nope", "param": "input"}})
    app.selectbox(key="ts_version").set_value(v2.id).run()
    app.button(key="ts_run").click().run()
    finish(app, log, test_set["id"])
    newest, older = log.list_replays(test_set["id"])
    app.selectbox(key="ts_baseline").set_value(older["id"]).run()
    assert not app.exception, app.exception
    assert app.metric[1].value == "2 of 3" and app.metric[2].delta == "1 ungraded"  # the 400: not graded
    rows = results_table(app)
    assert list(rows.output)[:2] == ["Four.", ""] and rows["baseline output"].iloc[0] == "Echo: What is 2+2?"
    assert {"cost", "baseline output", "baseline passed", "tokens", "latency ms", "status"} <= set(rows)
    assert (
        list(rows["baseline passed"]) == ["pass"] * 3
        and list(rows.passed) == ["pass", "ungraded", "pass"]
        and list(rows.status)[1] == "failed"
    )
    assert "nope" in rows.error.iloc[1]
    pivot = table(app, "label")
    assert list(pivot["cost"].notna()) == [True, True] and list(pivot["done"]) == [3, 3]
    assert {"Results as CSV", "Results as JSONL"} <= {d.proto.label for d in app.get("download_button")}
    csv_rows = list(csv.DictReader(io.StringIO(results.results_csv(results.case_rows(log, newest["id"], older["id"])))))
    assert (csv_rows[0]["output"], csv_rows[0]["baseline output"]) == ("Four.", "Echo: What is 2+2?")


# -- Usage, Versions, Assistants -------------------------------------------------------------------


def test_usage_has_bars_for_one_day_flags_unpriced_days_and_rolls_up_per_assistant(app, log):
    a, v = seed(log, "Priced")
    b, w = seed(log, "Local")
    chat(log, a.id, v.id, ("q", "a"), tokens=(1000, 500))
    chat(log, b.id, w.id, ("q", "a"), model="my-local-model")
    open_page(app, "app_pages/usage.py")
    charts = app.get("vega_lite_chart")
    assert len(charts) == 6 and all('"bar"' in c.proto.spec for c in charts)  # with usage per version by day
    assert any(
        "some runs had no price or unknown usage: the bar is the priced part only" in c for c in texts(app, "caption")
    )
    per_assistant, per_version, _prices = (d.value for d in app.dataframe)
    per_assistant = per_assistant.set_index("assistant")
    assert per_assistant.loc["Priced", "cost"].startswith("$") and per_assistant.loc["Local", "cost"] == "no price"
    assert per_assistant.loc["Local", "unpriced_runs"] == 1
    assert sorted(per_version.assistant_version) == ["Local v1", "Priced v1"]


def test_a_note_can_be_added_to_any_version(app, log):
    a, v1 = seed(log, "Noted", instructions="one")
    v2, _ = log.save_version(a.id, AssistantConfig(name="Noted", instructions="two"))
    app.session_state["versions_assistant"] = a.id
    open_page(app, "app_pages/versions.py")
    app.selectbox(key="note_pick").set_value(v1.id).run()
    app.text_input(key=f"note_text_{v1.id}").input("the short one").run()
    app.button(key="note_save").click().run()
    assert "Note saved on v1." in texts(app, "success")
    assert log.get_version(v1.id).note == "the short one" and log.get_version(v1.id).config == v1.config
    assert list(app.dataframe[0].value.note) == ["", "the short one"]
    assert log.latest_version(a.id).id == v2.id  # a note is not a new version


def test_assistants_last_used_is_a_time(app, log):
    a, v = seed(log, "Used")
    chat(log, a.id, v.id, ("q", "a"))
    open_page(app, "app_pages/assistants.py")
    table = app.dataframe[0].value.set_index("name")
    assert str(table["last used"].dtype).startswith("datetime64")
    assert table["last used"].isna().sum() == len(table) - 1  # assistants never used stay empty


def test_tiny_costs_show_their_digits(app, log):
    a, v = seed(log, "Tiny")
    chat(log, a.id, v.id, ("q", "a"), tokens=(20, 5))  # 20 × $0.40/1M + 5 × $1.60/1M
    open_page(app, "app_pages/conversations.py")
    assert list(app.dataframe[0].value["est. cost"]) == ["$0.000016"]
