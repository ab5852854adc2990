"""A turn seen from the browser: first token to screen, upstream requests and bytes, app beside naive and bare.

Three Streamlit apps, each a real `streamlit run` server against one local OpenAI server scripted
with the same latency (time to first token, gap between deltas), each driven in Debian Chromium:

- bare: a 20-line app that pipes `responses.create(stream=True)` into `st.write_stream`
  (bench/bare_stream_app.py), the floor for streaming latency; with --history N it starts with as
  many of those messages as the app draws (app_pages/_chat.HISTORY_WINDOW), since what is on screen costs time;
- app: Assistant Playground (app.py);
- naive: the old Assistants-playground way (bench/naive_app.py): the reply is not streamed; the page
  polls every second and re-reads every item of the conversation from the API.

Per turn (turns after the first; the first also creates the conversation):
- added delay: the local server notes (wall clock) when it writes the reply's first text delta; a
  MutationObserver in the page notes (wall clock, same machine) when that text first shows up;
  a loopback proxy between Chromium and Streamlit (bench._harness.WireTap) notes when Streamlit
  sent it, which splits the delay into the server's part and the browser's;
- upstream requests the local server saw from sending the message until the page settled;
- bytes the browser received on Streamlit's websocket over the same span.
Then the page sits idle for `--idle` seconds: upstream requests and bytes per idle minute.

The apps run in turn, `--repeat` rounds, and the turns of all rounds are pooled. Writes the raw
samples to bench/results/stream_latency_<history>.json and the delay of every turn, per app, to
docs/perf_first_token.png (perf_first_token_<N>.png with --history N; `--replot` redraws it).

    python bench/stream_latency.py [--turns 20] [--repeat 2] [--ttft 0.3] [--gap 0.05] [--idle 60] [--history 0]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from app_pages._chat import HISTORY_WINDOW
from bench._harness import RESULTS_DIR, WATCH, SocketBytes, WireTap, figure, machine, message, pct, save, seed, stamp
from playground.client import ApiKey, make_client
from playground.store import Store
from tests.app_process import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_app, wait_for_app
from tests.openai_server import OpenAIServer

APPS = {
    "bare": ROOT / "bench" / "bare_stream_app.py",
    "app": ROOT / "app.py",
    "naive": ROOT / "bench" / "naive_app.py",
}
LABELS = {
    "bare": "bare st.write_stream app",
    "app": "Assistant Playground",
    "naive": "naive: poll every 1 s, re-read all",
}


@dataclass
class Result:
    name: str
    first_requests: list[int] = field(default_factory=list)  # one per round
    delays: list[float] = field(default_factory=list)  # ms, turns after the first
    wire: list[float] = field(default_factory=list)  # ms from the upstream delta to Streamlit sending it
    requests: list[int] = field(default_factory=list)  # per turn after the first
    received: list[int] = field(default_factory=list)  # bytes per turn after the first
    idle_requests_per_min: list[float] = field(default_factory=list)  # one per round
    idle_bytes_per_min: list[float] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # bytes over the turns after the first, by kind

    def add(self, other: Result) -> None:
        for key, value in asdict(other).items():
            if isinstance(value, list):
                getattr(self, key).extend(value)
        for what, size in other.kinds.items():
            self.kinds[what] = self.kinds.get(what, 0) + size


def history(server: OpenAIServer, messages: int) -> str:
    """A conversation upstream holding the same `messages` messages as a seeded log thread (bench._harness.seed),
    added 20 at a time as the API allows."""
    client = make_client(ApiKey("sk-bench", "environment"), server.base_url)
    conversation = client.conversations.create().id
    items = [{"type": "message", "role": role, "content": text} for role, text in map(message, range(messages))]
    for start in range(0, len(items), 20):
        client.conversations.items.create(conversation, items=items[start : start + 20])
    return conversation


def settle(page, name: str) -> None:
    """Wait for the page to finish its run. The naive page may never rest: with a long thread its
    once-a-second rerun takes longer than a second, so for it, wait a fixed 400 ms instead."""
    if name == "naive":
        page.get_by_test_id("stChatInputTextArea").wait_for()
        page.wait_for_timeout(400)
    else:
        wait_for_app(page)


def run_turns(
    page, server: OpenAIServer, tap: WireTap, wire: SocketBytes, result: Result, turns: int, ttft: float, gap: float
):
    box = page.get_by_test_id("stChatInputTextArea")
    for i in range(turns + 1):
        marker = f"MARK{i}X"
        server.script({"chunks": [f"{marker} ", "and ", "the ", "rest."], "ttft": ttft, "gap": gap})
        page.evaluate(f"window.__marker = {marker!r}")
        tap.watch = marker.encode()
        requests, received = len(server.requests), wire.received
        kinds_before = dict(wire.kinds)
        box.fill(f"question {i}")
        box.press("Enter")
        page.wait_for_function(f"window.__seen[{marker!r}] !== undefined", timeout=30_000)
        settle(page, result.name)
        seen = page.evaluate(f"window.__seen[{marker!r}]")
        sent = server.first_delta_at[-1] * 1000
        if i == 0:  # the first turn of a thread also creates the conversation
            result.first_requests.append(len(server.requests) - requests)
            continue
        result.delays.append(seen - sent)
        result.wire.append(tap.seen_at[tap.watch] * 1000 - sent)
        result.requests.append(len(server.requests) - requests)
        result.received.append(wire.received - received)
        for what, size in wire.kinds.items():
            result.kinds[what] = result.kinds.get(what, 0) + size - kinds_before.get(what, 0)


def measure(
    name: str, turns: int, ttft: float, gap: float, idle: float, messages: int, browser, api: str = "all"
) -> Result:
    result = Result(name)
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer(api=api) as server:
        db = Path(tmp) / "log.db"
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-bench", "PLAYGROUND_DB": str(db)}
        if api == "chat":
            env["BARE_API"] = "chat"
        query = ""
        if messages and name == "bare":  # as many messages on screen as the app draws
            env["BARE_HISTORY"] = str(min(messages, HISTORY_WINDOW))
        if messages and name != "bare":
            conversation = history(server, messages)
            if name == "app":
                assistant_id, [thread_id] = seed(db, messages)
                Store(db).set_conversation(thread_id, conversation)
                query = f"?assistant={assistant_id}&thread={thread_id}"
            else:
                query = f"?conversation={conversation}"
        with streamlit_app(APPS[name], env, Path(tmp) / "streamlit.log") as app_url:
            tap = WireTap(int(app_url.rsplit(":", 1)[1]))
            url = f"http://127.0.0.1:{tap.port}"
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            wire = SocketBytes(page)
            page.add_init_script(WATCH)
            page.goto(url + query)
            settle(page, name)
            if messages and name == "naive":
                page.wait_for_function(f"document.querySelectorAll('[data-testid=stChatMessage]').length >= {messages}")
            run_turns(page, server, tap, wire, result, turns, ttft, gap)
            requests, received = len(server.requests), wire.received
            page.wait_for_timeout(idle * 1000)
            result.idle_requests_per_min.append((len(server.requests) - requests) * 60 / idle)
            result.idle_bytes_per_min.append((wire.received - received) * 60 / idle)
            page.close()
            tap.close()
    return result


def ratio(a: float, b: float) -> str:
    if b == 0:
        return "—" if a == 0 else "∞"
    return f"{a / b:.1f}×" if a / b >= 10 else f"{a / b:.2f}×"


def report(results: dict[str, Result], args: argparse.Namespace, where: str) -> None:
    names = list(results)
    print(f"\n{where}")
    print(
        f"{args.repeat} rounds × {args.turns} turns after the first, upstream time to first token "
        f"{args.ttft * 1000:.0f} ms, {args.gap * 1000:.0f} ms between 4 deltas, thread starting with "
        f"{args.history} messages\n"
    )
    print("First token to screen (added delay, ms)\n")
    print("| | median | p10 | p90 | n | ratio of medians to bare | of which server: delta → on the wire, median |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    floor = statistics.median(results["bare"].delays) if "bare" in results else None
    for name in names:
        d = results[name].delays
        versus = ratio(statistics.median(d), floor) if floor else ""
        print(
            f"| {LABELS[name]} | {statistics.median(d):.1f} | {pct(d, 10):.1f} | {pct(d, 90):.1f} | {len(d)} | "
            f"{versus} | {statistics.median(results[name].wire):.1f} |"
        )
    print("\nSide by side (medians over the turns after the first, and over the rounds)\n")
    head = " | ".join(LABELS[n] for n in names)
    extra = " naive ÷ app |" if {"app", "naive"} <= set(names) else ""
    print(f"| | {head} |{extra}")
    print("|---|" + "---:|" * (len(names) + (1 if extra else 0)))
    rows = [
        ("upstream requests, first turn", lambda r: statistics.median(r.first_requests), "{:.0f}"),
        ("upstream requests per later turn", lambda r: statistics.median(r.requests), "{:.0f}"),
        ("upstream requests per idle minute", lambda r: statistics.median(r.idle_requests_per_min), "{:.0f}"),
        ("first token to screen, ms", lambda r: statistics.median(r.delays), "{:.1f}"),
        ("KiB to the browser per turn", lambda r: statistics.median(r.received) / 1024, "{:.1f}"),
        ("KiB to the browser per idle minute", lambda r: statistics.median(r.idle_bytes_per_min) / 1024, "{:.1f}"),
    ]
    for label, get, fmt in rows:
        cells = " | ".join(fmt.format(get(results[n])) for n in names)
        tail = f" {ratio(get(results['naive']), get(results['app']))} |" if extra else ""
        print(f"| {label} | {cells} |{tail}")
    for name in names:
        r = results[name]
        print(
            f"\n{LABELS[name]}: requests per later turn {min(r.requests)}–{max(r.requests)}, KiB per turn "
            f"{min(r.received) / 1024:.1f}–{max(r.received) / 1024:.1f}"
        )
        if args.repeat > 1:
            n = len(r.delays) // args.repeat
            each = [statistics.median(r.delays[i : i + n]) for i in range(0, len(r.delays), n)]
            print(f"  first token to screen, median of each round: {', '.join(f'{x:.1f}' for x in each)} ms")
        if r.kinds:
            print(f"\n{LABELS[name]}: bytes to the browser per turn, by what they carry (mean over the turns)\n")
            print("| what | bytes per turn |\n|---|---:|")
            for what, size in sorted(r.kinds.items(), key=lambda kv: -kv[1]):
                if size / len(r.received) >= 50:
                    print(f"| {what} | {size / len(r.received):,.0f} |")


def plot(results: dict[str, Result], args: argparse.Namespace, where: str) -> Path:
    fig, ax = figure(figsize=(8.6, 3.4))
    names = list(results)
    data = [results[n].delays for n in names]
    ax.boxplot(data, orientation="horizontal", widths=0.5, showfliers=False, medianprops={"color": "black"})
    for y, d in enumerate(data, start=1):
        jitter = [y + ((i * 37) % 11 - 5) * 0.03 for i in range(len(d))]
        ax.scatter(d, jitter, s=10, alpha=0.6, zorder=3)
        ax.annotate(f"median {statistics.median(d):.0f} ms", (max(d), y), xytext=(8, -3), textcoords="offset points")
    labels = [LABELS[n] for n in names]
    if args.history and "bare" in names:
        labels[names.index("bare")] += f"\n({min(args.history, HISTORY_WINDOW)} messages on screen, as the app)"
    ax.set_yticks(range(1, len(names) + 1), labels)
    ax.set_xscale("log")
    ax.set_xlabel("upstream's first token → text visible in Chromium (ms, log scale)")
    ax.set_xlim(right=max(max(d) for d in data) * 10)
    lead = f"{args.history:,} messages in the thread" if args.history else "a new thread"
    ax.set_title(f"First token to screen, {len(data[0])} turns each, {lead}")
    ax.invert_yaxis()
    name = "perf_first_token" + (f"_{args.history}" if args.history else "")
    name += "_chat" if getattr(args, "api", "all") == "chat" else ""
    return save(fig, name, f"python bench/stream_latency.py · {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--ttft", type=float, default=0.3, help="upstream delay before the first token (s)")
    parser.add_argument("--gap", type=float, default=0.05, help="upstream delay between deltas (s)")
    parser.add_argument("--idle", type=float, default=60, help="seconds the page sits idle after the turns")
    parser.add_argument("--history", type=int, default=0, help="messages already in the thread (app and naive)")
    parser.add_argument("--apps", nargs="+", choices=list(APPS), default=list(APPS))
    parser.add_argument("--repeat", type=int, default=2, help="rounds of all the apps in turn; turns are pooled")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--api", choices=("all", "chat"), default="all", help="chat: a Chat-Completions-only server")
    parser.add_argument("--replot", action="store_true", help="redraw the plot from bench/results/ without measuring")
    args = parser.parse_args()
    if args.api == "chat" and ("naive" in args.apps or args.history):
        parser.error("--api chat measures the app and the bare app on a new thread: --apps app bare, no --history")
    suffix = "_chat" if args.api == "chat" else ""
    saved = RESULTS_DIR / f"stream_latency_{args.history}{suffix}.json"
    if args.replot:
        data = json.loads(saved.read_text())
        args = argparse.Namespace(**{**vars(args), **data["args"], "replot": True})
        results = {name: Result(**fields) for name, fields in data["results"].items()}
    else:
        data = {"where": machine(), "stamp": stamp(), "args": {k: v for k, v in vars(args).items() if "plot" not in k}}
        results = {name: Result(name) for name in args.apps}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for round_ in range(args.repeat):  # the apps in turn, so a noisy spell of the machine hits them alike
                for name in args.apps:
                    got = measure(name, args.turns, args.ttft, args.gap, args.idle, args.history, browser, args.api)
                    results[name].add(got)
                    print(f"round {round_ + 1}: {LABELS[name]} done", file=sys.stderr)
            browser.close()
        data["results"] = {name: asdict(r) for name, r in results.items()}
        RESULTS_DIR.mkdir(exist_ok=True)
        saved.write_text(json.dumps(data, indent=1))
    report(results, args, data["where"])
    if not args.no_plot:
        print(f"\nplot: {plot(results, args, data['stamp']).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
