"""How the log scales: the Conversations page's first render and a search, over a big log.

Builds a fresh SQLite log (20 assistants with 2–3 versions each, 10,000 threads, 100,000 messages
with one run per reply) in a temp dir through `Store`, then measures, as the median of several
repetitions after one warm-up:

- the data path of the Conversations page's first render: `list_assistants`, `models()` (the model
  filter), `conversations()` with the default limit, the price table, and the pandas table the page
  builds from them; `usage()` (all runs) is timed too, for scale: the page used it for the model
  filter until this benchmark showed it was three quarters of the render;
- the page's real first render, in-process with Streamlit's AppTest: a fresh session opens the
  Playground, then switches to Conversations, and that switch is timed (script time, no browser);
- `store.search` for a very common word (the worst case), a common word, a rare word, two words, a
  prefix and a word that matches nothing.

Targets from the issue: first render ≤ 1 s, search ≤ 200 ms on this machine.

    python bench/log_scale.py [--threads 10000] [--messages 100000] [--repeat 7] [--page-repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from playground import editor, usage
from playground.assistant import AssistantConfig, is_reasoning_model
from playground.store import LISTED, Store, _title, fts_query

ROOT = Path(__file__).resolve().parents[1]
FIRST_RENDER_TARGET_MS = 1000.0
SEARCH_TARGET_MS = 200.0

# Each assistant works on one topic; its threads talk about that topic's things.
TOPICS: dict[str, dict[str, list[str]]] = {
    "Support": {
        "names": ["Support desk", "Returns helper", "Billing bot", "Order tracker"],
        "things": ["order", "refund", "invoice", "parcel", "subscription", "account", "delivery", "voucher"],
        "verbs": ["cancel", "return", "track", "change", "refund", "renew", "upgrade", "check"],
    },
    "Analytics": {
        "names": ["Analyst", "Sales reporter", "Forecast helper", "Dashboard bot"],
        "things": ["revenue", "forecast", "churn", "margin", "region", "quarter", "budget", "pipeline"],
        "verbs": ["summarise", "compare", "explain", "chart", "forecast", "break down", "review", "estimate"],
    },
    "Code": {
        "names": ["Code reviewer", "SQL helper", "Python tutor", "Test writer"],
        "things": ["function", "query", "index", "test", "migration", "endpoint", "cache", "exception"],
        "verbs": ["fix", "refactor", "optimise", "document", "debug", "rewrite", "test", "explain"],
    },
    "Travel": {
        "names": ["Trip planner", "Hotel finder", "Itinerary bot", "Visa helper"],
        "things": ["flight", "hotel", "itinerary", "booking", "visa", "train", "museum", "restaurant"],
        "verbs": ["book", "plan", "compare", "cancel", "change", "find", "recommend", "check"],
    },
    "Writing": {
        "names": ["Editor", "Copywriter", "Email drafter", "Summariser"],
        "things": ["paragraph", "headline", "email", "summary", "tone", "draft", "outline", "policy"],
        "verbs": ["rewrite", "shorten", "proofread", "translate", "expand", "summarise", "polish", "draft"],
    },
}
ADJECTIVES = ["latest", "previous", "monthly", "urgent", "small", "large", "new", "old", "second", "final", "weekly"]
PLACES = ["Lisbon", "Berlin", "Nairobi", "Osaka", "Toronto", "Lima", "Oslo", "Porto", "Dublin", "Seoul"]
USER_TEMPLATES = [
    "Can you {verb} the {adj} {thing} for me?",
    "How do I {verb} my {thing}? The {thing2} looks wrong.",
    "I need to {verb} the {thing} before Friday, what should I check first?",
    "Why is the {adj} {thing} different from the {thing2}?",
    "Please {verb} this {thing} and keep it short.",
    "What is the refund policy for a {thing} bought in {place}?",
    "Could you {verb} the {thing2} and then the {thing}? We are in {place} this week.",
    "Thanks. One more thing: can we {verb} the {adj} {thing2} too?",
]
REPLY_SENTENCES = [
    "Sure, here is how to {verb} the {thing}.",
    "First, open the {adj} {thing} and check the {thing2} details.",
    "The {thing} and the {thing2} differ because the {adj} one was updated later.",
    "You can {verb} it from the settings page; it usually takes a few minutes.",
    "If the {thing} is older than thirty days, our refund policy does not cover it.",
    "I would {verb} the {thing2} first, then the {thing}, so nothing is lost.",
    "Note that the team in {place} handles this, so replies may come the next day.",
    "In short: the {thing} is fine, but the {thing2} needs attention.",
    "Let me know if you want me to {verb} anything else.",
    "Here is a shorter version that keeps the main point about the {thing}.",
]
RARE_WORD = "zeppelin"  # one sentence in 2,000: about 130 of 100,000 messages
RARE_SENTENCE = "By the way, the {thing} arrived by zeppelin, which nobody expected."
# Priced, dated (priced by prefix) and unpriced models.
MODELS = ["gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "gpt-5-mini", "o4-mini", "gpt-4.1-mini-2025-04-14", "local-llama"]
QUERIES = [
    ("very common word", "the"),  # the worst case: in nearly every message, and a prefix of then, there, …
    ("common word", "order"),
    ("rare word", RARE_WORD),
    ("two words", "refund policy"),
    ("prefix", "refu"),
    ("no match", "xylophone"),
]

# The columns `fill` writes in bulk, in the order of its row tuples.
THREAD_COLUMNS = ("id", "assistant_id", "title", "created_at", "updated_at")
RUN_COLUMNS = (
    "id", "thread_id", "version_id", "user_message_id", "model", "status", "input_tokens", "output_tokens",
    "total_tokens", "ttft_ms", "latency_ms", "request_id", "response_id", "created_at", "finished_at",
)  # fmt: skip
MESSAGE_COLUMNS = ("id", "thread_id", "role", "content", "version_id", "run_id", "status", "created_at")


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """INSERT of one row by named parameters, one per column (`:column`)."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


def fill(store: Store, rng: random.Random, n_threads: int, n_messages: int, n_assistants: int = 20) -> dict[str, int]:
    """Assistants and versions through the Store's own methods; threads, runs and messages in bulk."""
    topics = list(TOPICS)
    versions: dict[int, list[tuple[int, str]]] = {}  # assistant id → [(version id, model)]
    assistant_topic: dict[int, str] = {}
    for i in range(n_assistants):
        topic = topics[i % len(topics)]
        name = TOPICS[topic]["names"][(i // len(topics)) % 4]
        assistant = store.create_assistant()
        assistant_topic[assistant.id] = topic
        for number in range(rng.choice([2, 3])):
            config = AssistantConfig(
                name=name,
                instructions=f"You help with {topic.lower()}. Be brief. (revision {number + 1})",
                model=(model := rng.choice(MODELS)),
                # Reasoning models refuse sampling (the validator says so): theirs stays the model's.
                temperature=None if is_reasoning_model(model) else round(rng.uniform(0.2, 1.0), 1),
            )
            version, _ = store.save_version(assistant.id, config, note=f"revision {number + 1}")
            versions.setdefault(assistant.id, []).append((version.id, config.model))
    for assistant_id in list(versions)[:2]:  # a couple archived, as in a log that has been used a while
        store.archive_assistant(assistant_id)

    # Turns per thread: at least one, the rest spread at random (a few long threads, many short).
    turns = [1] * n_threads
    for _ in range(n_messages // 2 - n_threads):
        turns[rng.randrange(n_threads)] += 1

    def text(templates: list[str], topic: str, count: int) -> str:
        words = TOPICS[topic]
        parts = []
        for template in rng.sample(templates, count):
            if rng.random() < 0.0005:
                template = RARE_SENTENCE
            parts.append(
                template.format(
                    verb=rng.choice(words["verbs"]),
                    thing=rng.choice(words["things"]),
                    thing2=rng.choice(words["things"]),
                    adj=rng.choice(ADJECTIVES),
                    place=rng.choice(PLACES),
                )
            )
        return " ".join(parts)

    now = time.time()
    thread_rows, run_rows, message_rows = [], [], []
    message_id = run_id = 0
    assistant_ids = list(versions)
    for thread_id, n_turns in enumerate(turns, start=1):
        assistant_id = rng.choice(assistant_ids)
        topic = assistant_topic[assistant_id]
        options = versions[assistant_id]
        # Most threads run on one version; some went on after the assistant changed.
        first = rng.randrange(len(options))
        switch_at = rng.randrange(1, n_turns + 1) if n_turns > 1 and rng.random() < 0.2 else n_turns + 1
        started = now - rng.uniform(0, 90 * 86400)
        clock = started
        title = ""
        for turn in range(n_turns):
            version_id, model = options[min(first + (turn >= switch_at), len(options) - 1)]
            question = text(USER_TEMPLATES, topic, rng.choice([1, 1, 2]))
            title = title or _title(question)
            message_id += 1
            user_id = message_id
            message_rows.append((user_id, thread_id, "user", question, version_id, None, "complete", clock))
            run_id += 1
            ttft = rng.uniform(200, 1500)
            output_tokens = rng.randint(40, 800)
            latency = ttft + output_tokens * rng.uniform(5, 15)
            input_tokens = 300 + 180 * turn + rng.randint(0, 200)
            finished = clock + latency / 1000
            run_rows.append(
                (run_id, thread_id, version_id, user_id, model, "completed", input_tokens, output_tokens,
                 input_tokens + output_tokens, ttft, latency, f"req_{run_id}", f"resp_{run_id}", clock, finished)
            )  # fmt: skip
            reply = text(REPLY_SENTENCES, topic, rng.randint(2, 5))
            message_id += 1
            message_rows.append((message_id, thread_id, "assistant", reply, version_id, run_id, "complete", finished))
            clock = finished + rng.uniform(10, 600)
        thread_rows.append((thread_id, assistant_id, title, started, finished))

    with store.write() as db:
        for table, columns, rows in (
            ("threads", THREAD_COLUMNS, thread_rows),
            ("runs", RUN_COLUMNS, run_rows),
            ("messages", MESSAGE_COLUMNS, message_rows),  # the FTS triggers index each message as it lands
        ):
            db.many(insert_sql(table, columns), [dict(zip(columns, row, strict=True)) for row in rows])
    return {"assistants": n_assistants, "threads": len(thread_rows), "runs": len(run_rows), "messages": message_id}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """The ms of `repeat` calls after one warm-up, and the last result."""
    result = fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def page_table(threads: list[dict[str, Any]], prices: dict[str, usage.Price], tz: str | None = None) -> pd.DataFrame:
    """The table app_pages/conversations.py builds from `conversations()`, built the same way."""
    return pd.DataFrame(
        [
            {
                "thread": t["id"],
                "title": t["title"] or "(untitled)",
                "assistant": t["assistant"],
                "versions": ", ".join(f"v{n}" for n in t["versions"]),
                "turns": t["turns"],
                "tokens": sum(i + o for _, i, o in t["tokens_by_model"]),
                "est. cost": usage.money(usage.thread_cost(t["tokens_by_model"], prices)),
                "started": editor.clock(t["started"], tz),
                "last activity": editor.clock(t["last_activity"], tz),
            }
            for t in threads
        ]
    )


# A result row: what was timed, its samples (ms), what it returned, and its target (ms) if it has one.
Row = tuple[str, list[float], str, float | None]


def data_path(store: Store, repeat: int) -> list[Row]:
    """Each data call of the page's first render, then the whole sequence as the page runs it."""
    rows: list[Row] = []
    ms, assistants = timed(lambda: store.list_assistants(include_archived=True), repeat)
    rows.append(("list_assistants(include_archived=True)", ms, f"{len(assistants)} assistants", None))
    ms, models = timed(store.models, repeat)
    rows.append(("models() (the model filter)", ms, f"{len(models)} models", None))
    ms, runs = timed(store.usage, repeat)
    rows.append(("usage(), all runs (the filter's old source, for scale)", ms, f"{len(runs):,} runs", None))
    ms, threads = timed(store.conversations, repeat)
    rows.append(("conversations() (default limit)", ms, f"{len(threads)} threads", None))
    ms, prices = timed(usage.load_prices, repeat)
    rows.append(("usage.load_prices()", ms, f"{len(prices)} prices", None))
    ms, table = timed(lambda: page_table(threads, prices), repeat)
    rows.append(("the page's pandas table", ms, f"{len(table)} rows", None))

    def whole() -> pd.DataFrame:
        store.list_assistants(include_archived=True)
        store.models()
        return page_table(store.conversations(), usage.load_prices())

    ms, _ = timed(whole, repeat)
    rows.append(("**data path of the first render, all of the above**", ms, "", FIRST_RENDER_TARGET_MS))
    return rows


def page_render(db: Path, repeat: int, query: str) -> list[Row]:
    """Fresh AppTest sessions: open the Playground, switch to Conversations (timed), then search (timed)."""
    from streamlit.testing.v1 import AppTest

    # Streamlit warns about calls outside a script run when AppTest is driven from the main thread.
    # (Streamlit resets its loggers' levels when it loads its config, so filter the message instead.)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )
    os.environ.update(
        {"PLAYGROUND_DB": str(db), "OPENAI_API_KEY": "sk-bench", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    )
    playground, conversations, searched = [], [], []
    for i in range(repeat + 1):  # the first is the warm-up (imports, the failed model list call)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        t0 = time.perf_counter()
        at.run()
        t1 = time.perf_counter()
        at.switch_page("app_pages/conversations.py").run()
        t2 = time.perf_counter()
        if at.exception:
            raise RuntimeError(f"the Conversations page failed: {at.exception}")
        shown = len(at.dataframe[0].value) if at.dataframe else 0
        if not shown:
            raise RuntimeError("the Conversations page drew no table")
        at.text_input(key="conv_search").input(query).run()
        t3 = time.perf_counter()
        if at.exception:
            raise RuntimeError(f"the search failed: {at.exception}")
        found = len(at.dataframe[0].value) if at.dataframe else 0
        if i:
            playground.append((t1 - t0) * 1000)
            conversations.append((t2 - t1) * 1000)
            searched.append((t3 - t2) * 1000)
    return [
        ("**Conversations page, first render (AppTest)**", conversations, f"{shown} threads", FIRST_RENDER_TARGET_MS),
        (f"Conversations page, rerun after searching `{query}` (AppTest)", searched, f"{found} threads", None),
        ("Playground page, first render (AppTest, for comparison)", playground, "", None),
    ]


def page_search(store: Store, query: str) -> tuple[list[int], list[dict[str, Any]], list[dict[str, Any]]]:
    """What app_pages/conversations.py asks of the store for a search: every matching thread (the true
    count), the newest LISTED of them, and the snippets under the first 20."""
    matching = store.conversation_ids(query=query)
    threads = store.conversations(thread_ids=matching[:LISTED], limit=LISTED)
    snippets = store.search(query, thread_ids=[t["id"] for t in threads[:20]])
    return matching, threads, snippets


def searches(store: Store, repeat: int) -> list[Row]:
    rows: list[Row] = []
    with sqlite3.connect(store.path) as conn:
        for label, query in QUERIES:
            ms, (matching, threads, snippets) = timed(lambda query=query: page_search(store, query), repeat)
            match = fts_query(query)
            total = conn.execute("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH ?", (match,)).fetchone()
            note = f"{total[0]:,} messages, {len(matching):,} threads; {len(threads)} listed, {len(snippets)} snippets"
            rows.append((f"search `{query}`: {label}", ms, note, SEARCH_TARGET_MS))
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import streamlit

    load = ""
    with contextlib.suppress(OSError):
        load = f" · load average {os.getloadavg()[0]:.2f} at the end"
    return (
        f"{cpu}, {os.cpu_count()} cores · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"Streamlit {streamlit.__version__} · {platform.system()} {platform.release()}{load}"
    )


def verdict(ms: float, target: float | None) -> str:
    if target is None:
        return "—"
    return f"≤ {target:,.0f} ms: {'met' if ms <= target else '**missed**'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7, help="timed repetitions of each data call and search")
    parser.add_argument("--page-repeat", type=int, default=5, help="timed AppTest sessions")
    parser.add_argument("--page-query", default="refund policy", help="what the AppTest session searches for")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.messages < 2 * args.threads:
        parser.error("--messages must be at least twice --threads (every thread has a question and a reply)")

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "log.db"
        started = time.perf_counter()
        store = Store(db)
        counts = fill(store, random.Random(args.seed), args.threads, args.messages)
        fill_s = time.perf_counter() - started
        with sqlite3.connect(db) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(tmp).glob("log.db*")) / 2**20
        print(
            f"Filled {counts['assistants']} assistants, {counts['threads']:,} threads, {counts['messages']:,} "
            f"messages and {counts['runs']:,} runs in {fill_s:.1f} s; the log is {size:.1f} MiB.\n"
        )
        rows = data_path(store, args.repeat)
        rows += page_render(db, args.page_repeat, args.page_query)
        rows += searches(store, args.repeat)

    print("| step | median ms | min–max ms | returned | target |")
    print("|---|---:|---:|---|---|")
    for name, samples, note, target in rows:
        ms = statistics.median(samples)
        spread = f"{min(samples):,.1f}–{max(samples):,.1f}"
        print(f"| {name} | {ms:,.1f} | {spread} | {note} | {verdict(ms, target)} |")
    print(
        f"\nMedians of {args.repeat} calls after a warm-up; the pages: {args.page_repeat} fresh AppTest sessions after "
        "a warm-up one. Page times are the script run in-process (AppTest), without a browser or websocket."
    )
    print(f"Machine: {machine()}")


if __name__ == "__main__":
    main()
