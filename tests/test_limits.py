"""Spending limits: counted when a request starts, atomically; refused in one sentence; an evaluation
reaching one stops cleanly with its finished cases kept. Against the local server, real SDK."""

from __future__ import annotations

import datetime
import threading

import pytest

from playground import evaluation, limits, turn
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.errors import LimitReached
from tests.conftest import TEST_KEY

NOON = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


def metered(upstream, store, person: str, caps: limits.Limits) -> ResponsesBackend:
    backend = ResponsesBackend(make_client(ApiKey(TEST_KEY, "environment"), upstream.base_url))
    backend.meter = limits.Meter(store, person, caps)  # type: ignore[attr-defined]
    return backend


@pytest.fixture
def version(store):
    a = store.create_assistant()
    v, _ = store.save_version(a.id, AssistantConfig(name="Bot", model="gpt-4.1-mini", instructions="Be brief."))
    return v


def test_limits_come_from_the_secrets_and_a_typo_is_refused():
    assert not limits.Limits.from_secrets({}).any
    caps = limits.Limits.from_secrets({"limits": {"person_turns": 20, "daily_cost": 5}})
    assert caps == limits.Limits(person_turns=20, daily_cost=5.0) and caps.any
    with pytest.raises(ValueError, match="Unknown limit `person_turn`"):
        limits.Limits.from_secrets({"limits": {"person_turn": 20}})
    for bad in (0, -1, "20", True, float("inf")):
        with pytest.raises(ValueError, match="must be a number above 0"):
            limits.Limits.from_secrets({"limits": {"daily_turns": bad}})


def test_the_refusal_names_the_limit_and_when_it_resets():
    caps = limits.Limits(person_turns=2, daily_cost=1.0)
    within = {"person_turns": 2, "person_tokens": 10, "person_cost": 0.1, "turns": 2, "tokens": 10, "cost": 0.1}
    assert limits.refusal(caps, within, NOON) is None
    assert limits.refusal(caps, {**within, "person_turns": 3}, NOON) == (
        "That would pass your daily limit of 2 turns on this deployment; it resets at midnight UTC, in 12 h 0 min."
    )
    assert "this deployment's daily limit of $1.00" in limits.refusal(caps, {**within, "cost": 1.2}, NOON)
    assert limits.resets_in(datetime.datetime(2026, 11, 30, 23, 59, 30, tzinfo=datetime.UTC)) == "1 min"


def test_requests_at_once_cannot_overshoot_together(store):
    caps = limits.Limits(person_turns=5)
    meters = [limits.Meter(type(store)(store.path), "ann", caps) for _ in range(20)]
    start = threading.Barrier(20, timeout=10)
    outcomes: list[str] = []

    def request(meter: limits.Meter) -> None:
        start.wait()
        try:
            meter.charge({"input": "hi"}, "gpt-4.1-mini")
            outcomes.append("sent")
        except LimitReached:
            outcomes.append("refused")

    threads = [threading.Thread(target=request, args=(m,)) for m in meters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("sent") == 5 and outcomes.count("refused") == 15
    assert store.spent("ann", limits.today())["person_turns"] == 5


def test_a_turn_over_the_limit_is_refused_before_anything_is_sent(store, upstream, version):
    backend = metered(upstream, store, "ann@example.com", limits.Limits(person_turns=1))
    thread = store.create_thread(version.assistant_id)
    first = turn.start(store, backend, thread.id, version, "Hello")
    list(first.events())
    assert first.result.status == "completed"
    spent = store.spent("ann@example.com", limits.today())
    run = store.get_run(first.result.run_id)
    assert spent["person_turns"] == 1 and spent["person_tokens"] == run.input_tokens + run.output_tokens  # settled
    requests = len(upstream.requests)
    second = turn.start(store, backend, thread.id, version, "Hello again")
    list(second.events())
    assert second.result.status == "failed" and second.result.problem.kind == "limit_reached"
    assert "your daily limit of 1 turns" in second.result.problem.message
    assert len(upstream.requests) == requests  # nothing went upstream
    [kept] = [m for m in store.list_messages(thread.id) if m.content == "Hello again"]
    assert kept.status == "failed"  # the text is kept, to send again once the limit resets
    assert store.spent("someone else", limits.today())["person_turns"] == 0


def test_usage_never_reported_keeps_its_estimate(store, upstream, version):
    backend = metered(upstream, store, "ann", limits.Limits(daily_tokens=10**9))
    upstream.script({"text": "Hi", "usage": None, "cut_after": 1})
    thread = store.create_thread(version.assistant_id)
    t = turn.start(store, backend, thread.id, version, "Hello")
    list(t.events())
    spent = store.spent("ann", limits.today())
    assert spent["person_turns"] == 1 and spent["person_tokens"] >= limits.REPLY_TOKENS  # the estimate


def test_an_evaluation_reaching_a_limit_stops_with_its_finished_cases_kept(store, upstream, version):
    set_id = store.create_test_set("s", [f"case {i}" for i in range(5)])
    backend = metered(upstream, store, "ann", limits.Limits(person_turns=2))
    run = evaluation.start(store, lambda: backend, set_id, version, concurrency=1)
    assert run.wait(30)
    assert run.progress().status == "stopped" and run.error is None
    assert "your daily limit of 2 turns" in run.stopped_because
    assert store.get_replay(run.replay_id)["error"] == run.stopped_because  # any session can say why
    results = store.replay_results(run.replay_id)
    assert len(results) == 2 and all(r["status"] == "completed" for r in results)
    assert len([r for r in upstream.requests if r["path"].endswith("/responses")]) == 2


def test_only_what_the_deployment_pays_for_is_metered(store):
    secrets = {"limits": {"person_turns": 3}}
    assert limits.meter_for(store, "secrets", "ann", secrets) is not None
    assert limits.meter_for(store, "environment", "ann", secrets) is not None
    assert limits.meter_for(store, None, "ann", secrets) is not None  # a local server with no key
    assert limits.meter_for(store, "sidebar", "ann", secrets) is None  # the visitor's own key
    assert limits.meter_for(store, "secrets", "ann", {}) is None  # no limits set


def test_the_chat_page_refuses_a_turn_over_the_limit_in_one_sentence(app, log, upstream):
    from tests.pages import chat_texts, create, texts

    app.secrets["limits"] = {"person_turns": 1}
    app.run()
    create(app)
    app.chat_input[0].set_value("First question").run()
    assert any("Echo: First question" in t for t in chat_texts(app))
    sent = len([r for r in upstream.requests if r["path"].endswith("/responses")])
    app.chat_input[0].set_value("Second question").run()
    assert not app.exception, app.exception
    shown = " ".join(texts(app, "error") + chat_texts(app))
    assert "your daily limit of 1 turns" in shown and "resets at midnight UTC" in shown
    assert len([r for r in upstream.requests if r["path"].endswith("/responses")]) == sent  # not sent
    [person] = {row["person"] for row in log.dump()["spending"]}
    assert person.startswith("session:")  # without sign-in, a person is a browser session


def test_a_limit_the_app_cannot_read_closes_it_rather_than_leaving_it_unlimited(app):
    from tests.pages import texts

    app.secrets["limits"] = {"person_turn": 1}
    app.run()
    assert any("spending limits cannot be read" in e and "person_turn" in e for e in texts(app, "error"))
    assert not app.chat_input


def test_an_admin_sees_what_each_person_spent_and_lifts_a_count(tmp_path):
    from playground.store import Store

    path = tmp_path / "log.db"
    ann, root = Store(path, "ann@example.com"), Store(path, "root@example.com", admin=True)
    caps = limits.Limits(person_turns=1)
    meter = limits.Meter(ann, "ann@example.com", caps)
    meter.charge({"input": "hi"}, "gpt-4.1-mini")
    with pytest.raises(LimitReached):
        meter.charge({"input": "again"}, "gpt-4.1-mini")
    with pytest.raises(PermissionError):
        ann.spending_by_person(limits.today())
    with pytest.raises(PermissionError):
        ann.reset_spending(limits.today(), "ann@example.com")
    [row] = root.spending_by_person(limits.today())
    assert row["person"] == "ann@example.com" and row["turns"] == 1
    assert root.reset_spending(limits.today(), "ann@example.com") == 1
    meter.charge({"input": "again"}, "gpt-4.1-mini")  # counted afresh


def test_the_sidebar_line_says_where_a_person_stands(store):
    noon = datetime.datetime.combine(datetime.datetime.now(datetime.UTC).date(), datetime.time(12), datetime.UTC)
    meter = limits.Meter(store, "ann", limits.Limits(person_turns=20, person_cost=2.0, daily_turns=100))
    meter.charge({"input": "hi"}, "no-such-model")
    assert limits.standing(meter, noon) == "Today: 1 of 20 turns · $0.00 of $2.00 · resets in 12 h 0 min"
    only_daily = limits.Meter(store, "bob", limits.Limits(daily_turns=100))
    assert limits.standing(only_daily, noon) == "Today: 1 turns on this deployment · resets in 12 h 0 min"


def test_an_admin_sees_todays_spending_per_person_on_usage_and_lifts_a_count(upstream, db_path, monkeypatch, log):
    from tests.test_access import sign_in_app, signed_in

    root = "root@example.net"
    secrets = {"allowed": ["*"], "admins": [root], "limits": {"person_turns": 5}}
    limits.Meter(log, "ann@example.com", limits.Limits(person_turns=5)).charge({"input": "hi"}, "gpt-4.1-mini")
    at = sign_in_app(monkeypatch, upstream, user=signed_in(root, email_verified=True), **secrets)
    at.switch_page("app_pages/usage.py").run()
    assert not at.exception, at.exception
    [table] = [d.value for d in at.dataframe if "person" in d.value.columns]
    assert list(table.person) == ["ann@example.com"] and list(table.turns) == [1]
    at.selectbox(key="usage_who").set_value("ann@example.com").run()
    at.button(key="usage_reset").click().run()
    assert any("Lifted 1 requests" in s.value for s in at.success)
    assert log.spent("ann@example.com", limits.today())["person_turns"] == 0
    # Someone else signed in sees no one's spending.
    ann = sign_in_app(monkeypatch, upstream, user=signed_in("ann@example.com"), **secrets)
    ann.switch_page("app_pages/usage.py").run()
    assert not ann.exception and not [d for d in ann.dataframe if "person" in d.value.columns]
    assert any(c.value.startswith("Today: 0 of 5 turns") for c in ann.sidebar.caption)


def test_a_typed_key_on_the_deployments_keyless_server_is_still_limited(store):
    secrets = {"limits": {"person_turns": 3}}
    assert limits.meter_for(store, "sidebar", "ann", secrets, keyless_server=True) is not None


def test_a_request_refused_before_anything_was_done_counts_for_nothing(store, upstream, version):
    backend = metered(upstream, store, "ann", limits.Limits(person_turns=5))
    upstream.script({"status": 400, "error": {"message": "bad", "type": "invalid_request_error"}})
    thread = store.create_thread(version.assistant_id)
    t = turn.start(store, backend, thread.id, version, "Hello")
    list(t.events())
    assert t.result.status == "failed"
    assert store.spent("ann", limits.today())["person_turns"] == 0  # a retry will not count twice
