"""Cost where people work: tokens, estimated cost and latency under each reply and in the trace; usage
the server did not report counts as unknown in every roll-up (never 0 tokens or $0); a model missing
from the price list is "no price"; usage per version by day on the Usage page."""

from __future__ import annotations

import io
import json
import math
import os
import re
import time

import pandas as pd
import pyarrow as pa
import pytest

from playground import trace, turn, usage
from playground.assistant import AssistantConfig
from playground.backend import Created, Delta, Finished
from playground.turn import TextDelta
from tests.conftest import ScriptedBackend
from tests.pages import chat_texts, create, texts
from tests.test_log import chat

PRICES = usage.load_prices()
MINI = (0.40, 1.60)  # gpt-4.1-mini, $ per 1M input and output tokens (data/prices.csv)


def unknown_run(store, assistant_id, version_id, model="gpt-4.1-mini", status="cancelled", at=None):
    """A turn the server never reported usage for (stopped or cut before it did)."""
    thread = store.create_thread(assistant_id)
    user = store.add_message(thread.id, "user", "q", version_id=version_id)
    run = store.start_run(thread.id, version_id, user, model)
    store.finish_turn(
        run, user_message_id=user, user_status="complete", reply="partial", reply_status="incomplete",
        thread_id=thread.id, version_id=version_id, status=status, latency_ms=40.0,
    )  # fmt: skip
    if at is not None:
        with store.write() as db:
            db.execute("UPDATE runs SET created_at = :at WHERE id = :id", {"at": at, "id": run})
    return thread


def bot(store, name="Bot", model="gpt-4.1-mini"):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name=name, model=model))
    return a, v


# -- words -----------------------------------------------------------------------------------------


def test_totals_say_what_they_leave_out_never_zero():
    known = usage.Tally(runs=3, input_tokens=1000, output_tokens=234, cost=0.12, priced_runs=3)
    assert (known.tokens_text, known.cost_text) == ("1,234", "$0.1200")
    mixed = usage.Tally(5, 1000, 234, 0.12, priced_runs=1, unpriced_runs=2, unknown_runs=2)
    assert mixed.tokens_parts() == ("1,234", "+ 2 runs unknown")
    assert mixed.cost_parts() == ("$0.1200", "+ 2 runs with no price + 2 runs unknown")
    one = usage.Tally(2, 10, 5, 0.01, priced_runs=1, unknown_runs=1)
    assert (one.tokens_text, one.cost_text) == ("15 + 1 run unknown", "$0.0100 + 1 run unknown")
    # Nothing priced or known: said as such, never "$0" or "0".
    assert usage.Tally(2, 0, 0, 0.0, unknown_runs=2).tokens_text == "unknown"
    assert usage.Tally(2, 0, 0, 0.0, unknown_runs=2).cost_text == "unknown"
    assert usage.Tally(2, 0, 0, 0.0, unknown_runs=2).tokens_or_none is None
    assert usage.Tally(2, 30, 10, 0.0, unpriced_runs=2).cost_text == "no price"
    assert usage.Tally(3, 30, 10, 0.0, unpriced_runs=2, unknown_runs=1).cost_text == "no price + 1 run unknown"
    assert usage.Tally().cost_text == "—" and usage.Tally().tokens_or_none == 0
    # A real zero is still $0: priced runs that used no tokens.
    assert usage.Tally(1, 0, 0, 0.0, priced_runs=1).cost_text == "$0"


def test_tally_of_per_model_rows_prices_only_known_usage():
    rows = [("gpt-4.1-mini", 3, 1, 1000, 500), ("my-local-model", 2, 0, 10, 10), ("gpt-4.1", 1, 1, 0, 0)]
    t = usage.tally(rows, PRICES)
    assert (t.runs, t.tokens, t.unknown_runs, t.priced_runs, t.unpriced_runs) == (6, 1520, 2, 2, 2)
    assert t.cost == pytest.approx((1000 * MINI[0] + 500 * MINI[1]) / 1e6)
    assert t.cost_text == "$0.0012 + 2 runs with no price + 2 runs unknown"


def test_the_line_under_a_reply():
    assert usage.reply_usage("gpt-4.1-mini", 312, 95, 1234.0, PRICES) == "312 → 95 tokens · $0.00028 · 1.2 s"
    assert usage.reply_usage("my-local-model", 1200, 5, 850.0, PRICES) == "1,200 → 5 tokens · no price · 850 ms"
    assert usage.reply_usage("gpt-4.1-mini", None, None, 61_000.0, PRICES) == "tokens unknown · 61 s"
    assert usage.reply_usage("gpt-4.1-mini", 0, 0, None, PRICES) == "0 → 0 tokens · $0"  # a real zero
    assert usage.run_cost("gpt-4.1-mini", None, 3, PRICES) == "unknown"
    assert usage.run_cost("my-local-model", 3, 3, PRICES) == "no price"


def test_the_price_table_is_read_once_per_version_of_the_file(tmp_path, monkeypatch):
    path = tmp_path / "prices.csv"
    path.write_text("model,input_per_1m,output_per_1m\nmine,1,2\n")
    monkeypatch.setenv("PLAYGROUND_PRICES", str(path))
    first = usage.current_prices()
    assert list(first) == ["mine"] and usage.current_prices() is first  # cached: no read per message
    path.write_text("model,input_per_1m,output_per_1m\nmine,1,2\nyours,3,4\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    assert list(usage.current_prices()) == ["mine", "yours"]  # an edited file is read again
    monkeypatch.setenv("PLAYGROUND_PRICES", str(tmp_path / "gone.csv"))
    assert usage.current_prices() == {}


# -- the log's roll-ups ----------------------------------------------------------------------------


def test_roll_ups_count_unknown_runs_instead_of_summing_zero(store):
    a, v = bot(store)
    known = chat(store, a.id, v.id, ("q", "a"), tokens=(1000, 500))
    cut = unknown_run(store, a.id, v.id)
    local = chat(store, a.id, v.id, ("q", "a"), model="my-local-model", tokens=(7, 3))
    in_flight = store.create_thread(a.id)  # still running: neither known nor unknown yet
    store.start_turn(in_flight.id, "q", v.id, "gpt-4.1-mini")

    rows = {t["id"]: t for t in store.conversations()}
    assert rows[cut.id]["usage_by_model"] == [("gpt-4.1-mini", 1, 1, 0, 0)]
    assert rows[known.id]["usage_by_model"] == [("gpt-4.1-mini", 1, 0, 1000, 500)]
    assert rows[in_flight.id]["usage_by_model"] == [("gpt-4.1-mini", 0, 0, 0, 0)]
    cut_tally = usage.tally(rows[cut.id]["usage_by_model"], PRICES)
    assert (cut_tally.tokens_or_none, cut_tally.cost_text) == (None, "unknown")
    assert usage.tally(rows[local.id]["usage_by_model"], PRICES).cost_text == "no price"

    stats = store.usage_by_assistant()[a.id]
    assert (stats["runs"], stats["tokens"], stats["unknown_runs"]) == (3, 1510, 1)
    spent = usage.tally(stats["usage_by_model"], PRICES)
    expected = usage.money((1000 * MINI[0] + 500 * MINI[1]) / 1e6)
    assert spent.cost_text == f"{expected} + 1 run with no price + 1 run unknown"
    assert spent.tokens_text == "1,510 + 1 run unknown"


def test_the_usage_frame_keeps_unknown_runs_apart(store):
    a, v = bot(store)
    chat(store, a.id, v.id, ("q", "a"), tokens=(1000, 500))
    unknown_run(store, a.id, v.id)
    frame = usage.runs_frame(store.usage(), PRICES, "UTC")
    assert frame.known.tolist() == [True, False] and frame.priced.tolist() == [True, True]
    assert math.isnan(frame.cost.iloc[1])  # no tokens, no cost: not $0
    [row] = usage.rollup(frame, "assistant_version").to_dict("records")
    assert (row["runs"], row["input_tokens"], row["unknown_runs"], row["priced_runs"]) == (2, 1000, 1, 1)
    assert math.isnan(row["cost"]) and row["priced_cost"] == pytest.approx((1000 * MINI[0] + 500 * MINI[1]) / 1e6)
    total = usage.frame_tally(frame)
    assert total.tokens_text == "1,500 + 1 run unknown" and total.cost_text.endswith(" + 1 run unknown")

    b, w = bot(store, "Quiet")
    unknown_run(store, b.id, w.id)
    table = usage.rollup_table(usage.rollup(usage.runs_frame(store.usage(), PRICES), "assistant"))
    quiet = table.set_index("assistant").loc["Quiet"]
    assert pd.isna(quiet.input_tokens) and quiet.unknown_runs == 1 and quiet.cost == "unknown"
    assert "priced_cost" not in table and "priced_runs" not in table


def test_usage_by_day_and_version_in_the_viewers_zone(store):
    a, v1 = bot(store)
    v2, _ = store.save_version(a.id, AssistantConfig(name="Bot", model="gpt-4.1-mini", instructions="two"))
    chat(store, a.id, v1.id, ("q", "a"), tokens=(100, 50))
    unknown_run(store, a.id, v2.id, at=1_764_460_800.0 + 3600)  # 2025-11-30 01:00 UTC: 29 Nov in New York
    frame = usage.runs_frame(store.usage(), PRICES, "America/New_York")
    daily = usage.by_day_and_version(frame)
    assert set(daily.columns) >= {"day", "version", "tokens", "priced_cost", "unknown_runs"}
    unknown = daily[daily.version == "Bot v2"].iloc[0]
    assert (unknown.day, unknown.tokens, unknown.unknown_runs) == ("2025-11-29", 0, 1)
    assert bool(usage.not_costed(daily[daily.version == "Bot v2"]).iloc[0])
    assert daily[daily.version == "Bot v1"].tokens.tolist() == [150]
    assert usage.by_day_and_version(usage.runs_frame([], PRICES)).empty


# -- stopped and cut turns keep what the server reported -----------------------------------------------


def test_a_cut_short_reply_keeps_the_usage_the_server_reported(store, backend, upstream, thread, version):
    upstream.script(
        {"chunks": ["Par", "tial"], "incomplete_after": 1, "usage": {"input_tokens": 40, "output_tokens": 1}}
    )
    t = turn.start(store, backend, thread.id, version, "long answer")
    list(t.events())
    run = store.get_run(t.run_id)
    assert (run.status, run.input_tokens, run.output_tokens) == ("incomplete", 40, 1)
    assert trace.usage_line(run, PRICES).startswith("40 → 1 tokens · $0.000018 · ")


def test_a_failed_response_keeps_its_usage_and_a_cut_stream_has_none(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["a", "b"], "fail_after": 1, "usage": {"input_tokens": 9, "output_tokens": 2}})
    t = turn.start(store, backend, thread.id, version, "go")
    list(t.events())
    assert (store.get_run(t.run_id).input_tokens, store.get_run(t.run_id).output_tokens) == (9, 2)

    upstream.script({"chunks": ["a", "b", "c"], "cut_after": 1})
    t = turn.start(store, backend, thread.id, version, "again")
    list(t.events())
    run = store.get_run(t.run_id)
    assert (run.status, run.problem, run.input_tokens, run.output_tokens) == ("incomplete", "cut", None, None)
    assert trace.usage_line(run, PRICES).startswith("tokens unknown · ")
    assert trace.summary(run, PRICES)["estimated cost"] == "unknown"


def test_a_stopped_turn_without_reported_usage_is_unknown(store, backend, upstream, thread, version):
    upstream.script({"chunks": ["one", " two", " three"], "gap": 0.2})
    t = turn.start(store, backend, thread.id, version, "count")
    for event in t.events():
        if isinstance(event, TextDelta):
            t.cancel()
    run = store.get_run(t.run_id)
    assert (run.status, run.input_tokens, run.output_tokens) == ("cancelled", None, None)
    stats = store.usage_by_assistant()[version.assistant_id]
    assert (stats["unknown_runs"], stats["tokens"]) == (1, 0)
    assert usage.tally(stats["usage_by_model"], PRICES).cost_text == "unknown"


def test_the_chat_way_keeps_usage_on_a_reply_cut_at_max_tokens(store, version, thread):
    spent = {"input_tokens": 12, "output_tokens": 16, "total_tokens": 28}
    chat_way = ScriptedBackend(
        [Created("c1"), Delta("Long"), Finished("incomplete", "c1", spent, None, "{}", "max_output_tokens")], way="chat"
    )
    t = turn.start(store, chat_way, thread.id, version, "Hi")
    list(t.events())
    run = store.get_run(t.run_id)
    assert (run.status, run.input_tokens, run.output_tokens, run.total_tokens) == ("incomplete", 12, 16, 28)


def test_the_trace_summary_has_the_estimated_cost(store, version, thread):
    a, v = bot(store, "Local", model="my-local-model")
    chat(store, a.id, v.id, ("q", "a"), model="my-local-model", tokens=(5, 5))
    chat(store, version.assistant_id, version.id, ("q", "a"), tokens=(1000, 500))
    priced, unpriced = sorted(store.usage(), key=lambda r: r["model"])
    runs = {r["model"]: store.get_run(r["id"]) for r in (priced, unpriced)}
    cost = trace.summary(runs["gpt-4.1-mini"])["estimated cost"]
    assert cost == usage.money((1000 * MINI[0] + 500 * MINI[1]) / 1e6) == "$0.0012"
    assert trace.summary(runs["my-local-model"])["estimated cost"] == "no price"
    assert list(trace.summary(runs["my-local-model"])).index("estimated cost") == 5  # after the tokens


# -- the pages ---------------------------------------------------------------------------------------


def test_each_reply_shows_tokens_cost_and_latency(app, log, upstream):
    create(app)
    upstream.script({"chunks": ["Hello", " there"], "usage": {"input_tokens": 312, "output_tokens": 95}})
    app.chat_input[0].set_value("Hi!").run()
    assert not app.exception, app.exception
    assert chat_texts(app) == ["Hi!", "Hello there"]
    badge = texts(app.chat_message[1], "caption")[0]
    assert re.search(r"v1 · 312 → 95 tokens · \$0\.00028 · [\d.,]+ (ms|s)$", badge), badge

    upstream.script({"chunks": ["Cut", " off", " here"], "cut_after": 1})
    app.chat_input[0].set_value("Again").run()
    assert not app.exception, app.exception
    badge = texts(app.chat_message[3], "caption")[0]
    assert "tokens unknown" in badge and "$" not in badge and "incomplete" in badge


def test_replies_in_the_log_show_no_price_and_unknown_and_the_tables_count_them(app, log):
    a, v = bot(log, "Local", model="my-local-model")
    priced = chat(log, a.id, v.id, ("q", "a"), model="my-local-model", tokens=(1200, 5))
    unknown_run(log, a.id, v.id, model="my-local-model")
    app.switch_page("app_pages/conversations.py").run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value.set_index("thread")
    row = table.loc[priced.id]
    assert (row.tokens, row["usage unknown"], row["est. cost"]) == (1205, 0, "no price")
    cut = table.drop(index=priced.id).iloc[0]
    assert pd.isna(cut.tokens) and cut["usage unknown"] == 1 and cut["est. cost"] == "unknown"
    app.selectbox(key="conv_open").set_value(priced.id).run()
    assert "1,200 → 5 tokens · no price" in texts(app.chat_message[1], "caption")[0]

    app.switch_page("app_pages/assistants.py").run()
    assert not app.exception, app.exception
    listed = app.dataframe[0].value.set_index("name").loc["Local"]
    assert (listed.turns, listed.tokens, listed["usage unknown"]) == (2, 1205, 1)
    assert listed["est. cost"] == "no price + 1 run unknown"


def chart_data(chart) -> pd.DataFrame:
    frames = [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_all().to_pandas() for d in chart.proto.datasets]
    return pd.concat(frames) if frames else pd.DataFrame()


def test_the_usage_page_charts_usage_per_version_by_day_and_counts_unknown_runs(app, log):
    a, v1 = bot(log)
    v2, _ = log.save_version(a.id, AssistantConfig(name="Bot", model="gpt-4.1-mini", instructions="two"))
    chat(log, a.id, v1.id, ("q", "a"), tokens=(1000, 500))
    chat(log, a.id, v2.id, ("q", "a"), tokens=(2000, 100))
    unknown_run(log, a.id, v2.id, at=time.time() - 86400)  # yesterday
    app.switch_page("app_pages/usage.py").run()
    assert not app.exception, app.exception
    turns, tokens, cost, _latency = app.metric
    assert (turns.value, tokens.value, tokens.delta) == ("3", "3,600", "+ 1 run unknown")
    assert cost.value.startswith("$") and cost.delta == "+ 1 run unknown"
    assert any("Usage unknown for 1 run:" in c for c in texts(app, "caption"))

    daily = app.get("vega_lite_chart")[-1]  # "Per version, by day": stacked bars coloured by version
    spec = json.loads(daily.proto.spec)
    assert '"bar"' in daily.proto.spec and "version" in json.dumps(spec.get("encoding", {}).get("color", {}))
    data = chart_data(daily)
    assert {"Bot v1", "Bot v2"} <= set(data.astype(str).stack().unique())
    assert any("Runs with unknown usage, not in these bars: Bot v2 on" in c for c in texts(app, "caption"))

    per_version = app.dataframe[1].value.set_index("assistant_version")
    assert per_version.loc["Bot v2", "unknown_runs"] == 1 and per_version.loc["Bot v2", "cost"].endswith(
        "+ 1 run unknown"
    )
    assert not any(c == "$0" for c in per_version.cost)

    app.segmented_control(key="usage_daily_measure").set_value("Estimated cost").run()
    assert not app.exception, app.exception
    assert "estimated cost (USD)" in app.get("vega_lite_chart")[-1].proto.spec
    assert any("Runs with no price or unknown usage, not in these bars" in c for c in texts(app, "caption"))
