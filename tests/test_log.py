"""The log as a workbench: versions (diff, restore, clone), conversations (search, filters, delete), usage."""

from __future__ import annotations

import math
from zoneinfo import ZoneInfo

import pytest

from playground import usage, version
from playground.assistant import AssistantConfig
from playground.store import Store, fts_query


def two_versions(store):
    a = store.create_assistant()
    v1, _ = store.save_version(a.id, AssistantConfig(name="Bot", instructions="Be brief.\nUse English.", temperature=1))
    v2, _ = store.save_version(
        a.id, AssistantConfig(name="Bot", instructions="Be brief.\nUse French.", temperature=0.2, model="gpt-4.1")
    )
    return a, v1, v2


def test_diff_shows_instructions_as_text_and_other_fields_as_rows(store):
    _, v1, v2 = two_versions(store)
    d = version.diff(v1.config, v2.config)
    assert "-Use English." in d.instructions and "+Use French." in d.instructions
    assert {(c.field, c.before, c.after) for c in d.fields} == {
        ("temperature", "1", "0.2"),
        ("model", "gpt-4.1-mini", "gpt-4.1"),
    }
    assert version.diff(v1.config, v1.config).empty


def test_history_says_what_changed(store):
    a, _, _ = two_versions(store)
    rows = version.history(store, a.id)
    assert [(r["version"], r["changed"]) for r in rows] == [
        (2, "instructions, model, temperature"),
        (1, "first version"),
    ]


def test_restore_makes_a_new_version_and_updates_the_draft(store):
    a, v1, _v2 = two_versions(store)
    restored, created = version.restore(store, v1)
    assert created and restored.number == 3 and restored.note == "restored v1"
    assert restored.config == v1.config and store.get_draft(a.id)[0] == v1.config
    again, created = version.restore(store, store.get_version(restored.id))
    assert not created and again.number == 3


def test_clone_and_archive(store):
    a, _, v2 = two_versions(store)
    clone = store.clone_assistant(a.id)
    [v] = store.list_versions(clone.id)
    assert v.config.name == "Bot (copy)" and v.config.instructions == v2.config.instructions
    assert v.note == f"cloned from #{a.id} v2"
    store.archive_assistant(a.id)
    assert [x["id"] for x in store.list_assistants()] == [clone.id]
    assert {x["id"] for x in store.list_assistants(include_archived=True)} == {a.id, clone.id}
    store.archive_assistant(a.id, archived=False)
    assert len(store.list_assistants()) == 2


def chat(store, assistant_id, version_id, *pairs, model="gpt-4.1-mini", tokens=(10, 5)):
    thread = store.create_thread(assistant_id)
    for question, answer in pairs:
        user = store.add_message(thread.id, "user", question, version_id=version_id)
        run = store.start_run(thread.id, version_id, user, model)
        store.finish_turn(
            run, user_message_id=user, user_status="complete", reply=answer, reply_status="complete",
            thread_id=thread.id, version_id=version_id, status="completed",
            input_tokens=tokens[0], output_tokens=tokens[1], total_tokens=sum(tokens), latency_ms=100.0,
        )  # fmt: skip
    return thread


def test_search_finds_words_anywhere_and_survives_syntax(store):
    a, v1, v2 = two_versions(store)
    t1 = chat(store, a.id, v1.id, ("What is the refund policy?", "Refunds within 30 days."))
    chat(store, a.id, v2.id, ("Bonjour", "Salut, ça va?"))
    hits = store.search("refund")
    assert {h["thread_id"] for h in hits} == {t1.id} and len(hits) == 2
    assert "**Refund" in hits[0]["snippet"] or "**refund" in hits[0]["snippet"]
    assert store.search("refu") and store.search("ca va")  # prefix and accents folded
    for nasty in ('"', "AND OR NOT", "refund*)", "(", "NEAR("):
        store.search(nasty)  # never an FTS syntax error
    assert store.search("") == [] and fts_query("a-b cat") == '"a" "b" "cat"*' and fts_query("to") == '"to"'


def test_other_owners_are_never_searched(store, tmp_path):
    a, v1, _ = two_versions(store)
    chat(store, a.id, v1.id, ("secret plan", "ok"))
    assert Store(store.path, owner="key:someone").search("secret") == []


def test_conversations_with_filters_and_rollups(store):
    a, v1, v2 = two_versions(store)
    t1 = chat(store, a.id, v1.id, ("q1", "a1"), ("q2", "a2"))
    t2 = chat(store, a.id, v2.id, ("q3", "a3"), model="gpt-5")
    rows = store.conversations()
    assert [r["id"] for r in rows] == [t2.id, t1.id]
    first = next(r for r in rows if r["id"] == t1.id)
    assert (first["turns"], first["versions"], first["tokens_by_model"]) == (2, [1], [("gpt-4.1-mini", 20, 10)])
    assert [r["id"] for r in store.conversations(version_id=v2.id)] == [t2.id]
    assert [r["id"] for r in store.conversations(model="gpt-4.1-mini")] == [t1.id]
    assert store.models() == ["gpt-4.1-mini", "gpt-5"]
    assert store.conversations(thread_ids=[]) == []


def test_delete_thread_removes_everything_under_it(store):
    a, v1, _ = two_versions(store)
    t1 = chat(store, a.id, v1.id, ("remove me", "ok"))
    store.delete_thread(t1.id)
    assert store.get_thread(t1.id) is None and store.search("remove") == [] and store.usage() == []
    with pytest.raises(LookupError):
        store.delete_thread(t1.id)


def test_prices_cost_and_rollups(tmp_path, store):
    prices = usage.load_prices()
    assert usage.cost("gpt-4.1-mini", 1_000_000, 1_000_000, prices) == pytest.approx(0.40 + 1.60)
    assert usage.price_for("gpt-4.1-mini-2025-04-14", prices).model == "gpt-4.1-mini"
    assert usage.cost("my-local-model", 10, 10, prices) is None
    assert usage.money(None) == "no price" and usage.money(0.0123) == "$0.0123"
    broken = tmp_path / "prices.csv"
    broken.write_text("model,input_per_1m,output_per_1m\ngpt-x,abc,1\ngpt-y,1,2\n")
    assert list(usage.load_prices(broken)) == ["gpt-y"]
    assert usage.load_prices(tmp_path / "missing.csv") == {}

    a, v1, v2 = two_versions(store)
    chat(store, a.id, v1.id, ("q", "a"), tokens=(1000, 500))
    chat(store, a.id, v2.id, ("q", "a"), model="unpriced-model")
    frame = usage.runs_frame(store.usage(), prices, "Europe/Paris")
    per_version = usage.rollup(frame, "assistant_version").set_index("assistant_version")
    assert per_version.loc["Bot v1", "cost"] == pytest.approx((1000 * 0.40 + 500 * 1.60) / 1e6)
    assert math.isnan(per_version.loc["Bot v2", "cost"])  # no price, not zero
    assert usage.thread_cost([("gpt-4.1-mini", 10, 10), ("unpriced-model", 1, 1)], prices) is None
    assert usage.rollup(usage.runs_frame([], prices), "day").empty


def test_usage_keeps_assistants_apart_when_their_names_are_alike(store):
    prices = usage.load_prices()
    named = [store.create_assistant() for _ in range(2)]
    unnamed = [store.create_assistant() for _ in range(2)]
    for a, name in zip(named + unnamed, ["Bot", "Bot", "", ""], strict=True):
        v, _ = store.save_version(a.id, AssistantConfig(name=name))
        chat(store, a.id, v.id, ("q", "a"))
    frame = usage.runs_frame(store.usage(), prices)
    per_assistant = usage.rollup(frame, "assistant").set_index("assistant")["runs"].to_dict()
    assert per_assistant == {
        f"Bot #{named[0].id}": 1,
        f"Bot #{named[1].id}": 1,
        f"Untitled assistant #{unnamed[0].id}": 1,
        f"Untitled assistant #{unnamed[1].id}": 1,
    }
    assert len(usage.rollup(frame, "assistant_version")) == 4


def test_a_filtered_search_finds_every_matching_thread_not_only_the_top_hits(store):
    a, v1, v2 = two_versions(store)
    other = store.create_assistant()
    w, _ = store.save_version(other.id, AssistantConfig(name="Other"))
    old = chat(store, other.id, w.id, ("my refund please", "refund sent"), model="gpt-4.1")
    for n in range(60):  # more matching messages than any page of hits
        chat(store, a.id, v1.id, (f"refund question {n}", "refund answer"))
    assert [t["id"] for t in store.conversations(query="refund", assistant_id=other.id)] == [old.id]
    assert [t["id"] for t in store.conversations(query="refund", model="gpt-4.1")] == [old.id]
    assert store.conversations(query="refund", version_id=v2.id) == []
    ids = store.conversation_ids(query="refund")
    assert len(ids) == 61 and ids[-1] == old.id  # the true total, newest first
    assert len(store.conversations(query="refund", limit=10)) == 10
    assert store.conversation_ids(query="!!") == []  # a search with no words matches nothing
    assert len(store.conversation_ids()) == 61
    assert Store(store.path, owner="key:someone").conversation_ids(query="refund") == []


def test_snippets_for_listed_threads_come_in_their_order(store):
    a, v1, _ = two_versions(store)
    t1 = chat(store, a.id, v1.id, ("the refund", "refund done"), ("refund again", "ok"))
    t2 = chat(store, a.id, v1.id, ("nothing here", "refund maybe"))
    t3 = chat(store, a.id, v1.id, ("no match", "none"))
    hits = store.search("refund", thread_ids=[t2.id, t3.id, t1.id])
    assert [(h["thread_id"], h["role"]) for h in hits] == [(t2.id, "assistant"), (t1.id, "user")]
    assert "**refund**" in hits[1]["snippet"]
    assert len(store.search("refund", thread_ids=[t1.id], per_thread=5)) == 3
    assert store.search("refund", thread_ids=[]) == []


def test_runs_are_read_by_their_owner_only(store):
    a, v1, _ = two_versions(store)
    thread = chat(store, a.id, v1.id, ("q", "a"))
    [run] = store.list_runs(thread.id)
    assert store.get_run(run.id) == run
    stranger = Store(store.path, owner="key:someone")
    assert stranger.get_run(run.id) is None and stranger.list_runs(thread.id) == []


def test_a_versions_note_can_change_but_its_configuration_cannot(store):
    a, v1, v2 = two_versions(store)
    saved = store.set_version_note(v1.id, "  the English one  ")
    assert saved.note == "the English one" and store.get_version(v1.id).note == "the English one"
    assert store.get_version(v1.id).config == v1.config and store.latest_version(a.id).id == v2.id
    assert [r["note"] for r in version.history(store, a.id)] == ["", "the English one"]
    with pytest.raises(ValueError, match="at most 500"):
        store.set_version_note(v1.id, "x" * 501)
    with pytest.raises(LookupError):
        Store(store.path, owner="key:someone").set_version_note(v1.id, "mine now")


def test_restore_keeps_unsaved_draft_edits_and_refuses_to_overwrite_broken_ones(store):
    a, v1, v2 = two_versions(store)
    edited = AssistantConfig.from_dict(v2.config.to_dict())
    edited.instructions = "An edit not saved as a version yet."
    store.save_draft(a.id, edited)
    restored, created = version.restore(store, v1)
    history = store.list_versions(a.id)
    assert created and [v.number for v in history] == [4, 3, 2, 1] and restored.number == 4
    assert history[1].config.instructions == "An edit not saved as a version yet."
    assert history[1].note == "unsaved draft, kept before restoring v1"
    broken = AssistantConfig.from_dict(v1.config.to_dict())
    broken.temperature = 7
    store.save_draft(a.id, broken)
    with pytest.raises(ValueError, match="unsaved edits with problems"):
        version.restore(store, v2)
    assert store.get_draft(a.id)[0].temperature == 7  # the edit is still there to fix


def test_money_never_shows_a_real_cost_as_zero():
    assert usage.money(1.6e-5) == "$0.000016" and usage.money(0.00042) == "$0.00042" and usage.money(8e-5) == "$0.00008"
    assert usage.money(0.0123) == "$0.0123" and usage.money(12.5) == "$12.50" and usage.money(0) == "$0"
    assert usage.money(float("nan")) == "no price" and usage.money(1e-12) == "<$0.00000001"


def test_dates_and_times_in_the_viewers_time_zone():
    import datetime as dt

    since, until = usage.day_bounds(dt.date(2026, 11, 1), dt.date(2026, 11, 2), "America/New_York")
    start = dt.datetime(2026, 11, 1, tzinfo=ZoneInfo("America/New_York"))
    assert since == start.timestamp() and until - since == 49 * 3600  # DST ends on Nov 1 there
    assert usage.day_bounds(dt.date(2026, 1, 1), dt.date(2026, 1, 1), "Not/AZone")[0] == 1767225600  # UTC
    times = usage.local_times([1_000_000_000.0, None, 10.0], "Europe/Paris")
    assert str(times.dt.tz) == "Europe/Paris" and times.isna().tolist() == [False, True, False]
    assert times.sort_values().index.tolist() == [2, 0, 1]  # by time, not by text


def test_rollup_keeps_the_priced_part_and_counts_unpriced_runs(store):
    a, v1, v2 = two_versions(store)
    chat(store, a.id, v1.id, ("q", "a"), tokens=(1000, 500))
    chat(store, a.id, v2.id, ("q", "a"), model="unpriced-model")
    frame = usage.runs_frame(store.usage(), usage.load_prices(), "UTC")
    [day] = usage.rollup(frame, "day").to_dict("records")
    assert day["unpriced_runs"] == 1 and math.isnan(day["cost"])
    assert day["priced_cost"] == pytest.approx((1000 * 0.40 + 500 * 1.60) / 1e6)
    chart = usage.cost_chart_frame(usage.rollup(frame, "assistant_version"), "assistant_version")
    assert chart[usage.PRICED].tolist() == [pytest.approx((1000 * 0.40 + 500 * 1.60) / 1e6), 0.0]
    assert chart[usage.PARTLY_PRICED].tolist() == [0.0, 0.0]  # v2's only run has no price: its priced part is $0
