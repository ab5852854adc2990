"""Upstream HTTP requests per turn and per rerun, counted by the local OpenAI server, through the real page.

The Playground page (app.py) runs in-process with Streamlit's AppTest, the real openai SDK talking
to the local server over loopback; the server records every request it gets, and those are counted:

- the page's first load (the model list, then cached for 10 minutes per key and base URL);
- a thread's first turn and each later turn, sent through the chat input;
- page reruns that change nothing upstream: plain reruns, and config edits (which rerun the page
  here: AppTest runs the whole script even for a fragment);
- the same plain reruns of the naive page (bench/naive_app.py) open on the same conversation: it
  re-reads every item of the conversation from the API on each run (100 items per request).

AppTest cannot tick a `run_every` fragment, so the naive page's polling (once a second, idle or not)
is counted in the browser by bench/stream_latency.py.

    python bench/requests_per_turn.py [--turns 10] [--reruns 5] [--api chat] [--forced]

`--api chat` runs against the server's Chat-Completions-only mode (as Ollama or vLLM): each turn
resends the thread from the log; the first turn of the process also probes for conversations
(`--forced` sets PLAYGROUND_API=chat, which skips the probe).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamlit.testing.v1 import AppTest

from bench._harness import machine
from playground.store import Store
from tests.app_process import ROOT
from tests.openai_server import OpenAIServer


class Counter:
    def __init__(self, server: OpenAIServer) -> None:
        self.server = server
        self.mark = len(server.requests)

    def since(self) -> list[str]:
        """The requests since the last call, as 'METHOD /path', and start counting again."""
        new = self.server.requests[self.mark :]
        self.mark += len(new)
        return [f"{r['method']} {r['path']}" for r in new]


def settle_turn(store: Store, thread_id: int, timeout: float = 30) -> str:
    """Wait until the thread's last run is no longer in progress; return its status."""
    deadline = time.monotonic() + timeout
    while (status := store.list_runs(thread_id)[-1].status) == "in_progress" and time.monotonic() < deadline:
        time.sleep(0.05)
    return status


def check(at: AppTest) -> AppTest:
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception}")
    return at


def measure(turns: int, reruns: int, api: str = "all", forced: bool = False) -> dict[str, object]:
    with OpenAIServer(api=api) as server, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "log.db"
        os.environ.update({"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-bench", "PLAYGROUND_DB": str(db)})
        if forced:
            os.environ["PLAYGROUND_API"] = "chat"
        at_model = "llama3.2:3b" if api == "chat" else None  # a model the local server lists
        store = Store(db)
        count = Counter(server)
        at = check(AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run())
        load = count.since()
        if at_model:
            check(at.selectbox(key="cfg.model").set_value(at_model).run())
            count.since()

        per_turn = []
        for i in range(turns):
            check(at.chat_input[0].set_value(f"question {i}").run())
            thread_id = at.session_state["thread_id"]
            status = settle_turn(store, thread_id)
            if status != "completed":
                raise RuntimeError(f"turn {i} ended {status}: {store.list_runs(thread_id)[-1].error}")
            per_turn.append(count.since())
        replies = [m for m in store.list_messages(thread_id) if m.role == "assistant"]
        assert len(replies) == turns, f"{len(replies)} replies in the log after {turns} turns"

        for _ in range(reruns):
            check(at.run())
        app_reruns = count.since()
        for i in range(reruns):
            check(at.text_input(key="cfg.description").input(f"edit {i}").run())
        app_edits = count.since()

        if api == "chat":
            return {"load": load, "turns": per_turn, "app_reruns": app_reruns, "app_edits": app_edits,
                    "naive_reruns": [], "naive_shown": 0, "reruns": reruns}  # fmt: skip
        # The naive page, open on the same conversation, re-reads it from the API on every run.
        conversation = store.get_thread(thread_id).conversation_id
        naive = AppTest.from_file(str(ROOT / "bench" / "naive_app.py"), default_timeout=60)
        naive.query_params["conversation"] = conversation
        check(naive.run())
        count.since()
        for _ in range(reruns):
            check(naive.run())
        naive_reruns = count.since()
        shown = len(naive.chat_message)
    return {
        "load": load,
        "turns": per_turn,
        "app_reruns": app_reruns,
        "app_edits": app_edits,
        "naive_reruns": naive_reruns,
        "naive_shown": shown,
        "reruns": reruns,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--reruns", type=int, default=5)
    parser.add_argument("--api", choices=("all", "chat"), default="all", help="the local server's mode")
    parser.add_argument("--forced", action="store_true", help="set PLAYGROUND_API=chat (no probe)")
    args = parser.parse_args()
    # AppTest is driven from the main thread, so Streamlit warns about calls outside a script run,
    # harmlessly. It resets its loggers' levels when it loads its config: filter the message instead.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        lambda record: "missing ScriptRunContext" not in record.getMessage()
    )
    where = machine()
    r = measure(args.turns, args.reruns, args.api, args.forced)
    first, later = r["turns"][0], r["turns"][1:]
    n = r["reruns"]
    print(where, f"— server mode: {args.api}{', PLAYGROUND_API=chat' if args.forced else ''}\n")
    print("| | upstream requests | target |")
    print("|---|---:|---:|")
    print(f"| first page load (the model list, cached 10 min per key and base URL) | {len(r['load'])} | |")
    print(f"| first turn of a thread: {' + '.join(first)} | **{len(first)}** | 2 |")
    counts = [len(t) for t in later]
    print(f"| each later turn ({len(later)} turns): min–max | **{min(counts)}–{max(counts)}** | 1 |")
    print(f"| {n} page reruns that change nothing upstream — this app | **{len(r['app_reruns'])}** | 0 |")
    print(f"| {n} config edits (each a rerun) — this app | **{len(r['app_edits'])}** | 0 |")
    print(
        f"| {n} page reruns — naive page that re-reads the conversation ({r['naive_shown']} messages) "
        f"| {len(r['naive_reruns'])} | |"
    )
    print(f"\nlater turns: {sorted(set(x for t in later for x in t))}")
    print(f"naive reruns: {sorted(set(r['naive_reruns']))}")


if __name__ == "__main__":
    main()
