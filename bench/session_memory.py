"""Memory of the app's server process per open browser session.

Starts the real app (`streamlit run app.py`) against the local OpenAI server with a log holding one
assistant and a thread of M messages per session, then opens browser sessions in Debian Chromium
(one browser, one context per session, so each is its own Streamlit session), each showing its own
thread, until 1, 5, 10, 20 are open. After each step it reads the server process's memory from
/proc: RSS (all resident pages) and USS (pages only this process holds; shared libraries left out),
the median of four reads over 6 s, since the pages keep ticking (the save-status line, every 1.5 s);
and the share of a core the server used over those 6 s (the ticks of the open pages).
Then it closes every page and reads again at once, and after Streamlit's disconnected-session TTL
(`--ttl`, set on the server; Streamlit's default is 120 s) has let the sessions go.

Per session = the slope of a least-squares line through the readings at 1…20 sessions; the
intercept is the warm server with no session (the app's modules loaded). Writes the readings to
bench/results/session_memory.json and docs/perf_session_memory.png (`--replot` redraws it).

    python bench/session_memory.py [--messages 200 1000] [--sessions 1 5 10 20] [--ttl 15]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from bench._harness import RESULTS_DIR, figure, machine, save, seed, settled_memory, slope, stamp
from tests.app_process import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_server, wait_for_app
from tests.openai_server import OpenAIServer

RESULTS = RESULTS_DIR / "session_memory.json"


@dataclass
class Run:
    messages: int
    empty: dict[str, float] = field(default_factory=dict)  # the server before any page
    open: dict[int, dict[str, float]] = field(default_factory=dict)  # sessions open → memory
    closed: dict[str, float] = field(default_factory=dict)  # every page just closed
    released: dict[str, float] = field(default_factory=dict)  # after the disconnected-session TTL

    def fit(self, kind: str) -> tuple[float, float]:
        xs = sorted(self.open)
        return slope(xs, [self.open[n][kind] for n in xs])


def measure(messages: int, steps: list[int], ttl: int, browser) -> Run:
    run = Run(messages)
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer() as upstream:
        db = Path(tmp) / "log.db"
        assistant_id, threads = seed(db, messages, threads=max(steps))
        env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": "sk-bench", "PLAYGROUND_DB": str(db)}
        args = [f"--server.disconnectedSessionTTL={ttl}"]
        with streamlit_server(ROOT / "app.py", env, Path(tmp) / "streamlit.log", args=args) as server:
            run.empty = settled_memory(server.pid)
            contexts = []
            for step in steps:
                started = time.monotonic()
                while len(contexts) < step:
                    context = browser.new_context(viewport={"width": 1400, "height": 900})
                    page = context.new_page()
                    page.set_default_timeout(60_000)
                    page.goto(f"{server.url}/?assistant={assistant_id}&thread={threads[len(contexts)]}")
                    wait_for_app(page)
                    page.get_by_text("Quarterly review").first.wait_for()
                    contexts.append(context)
                run.open[step] = settled_memory(server.pid)
                took, got = time.monotonic() - started, run.open[step]
                print(
                    f"  {messages} messages, {step} open (opened in {took:.0f} s): {got['rss']:.0f} MiB RSS, "
                    f"server CPU {got['cpu']:.0f} % of a core",
                    file=sys.stderr,
                )
            for context in contexts:
                context.close()
            run.closed = settled_memory(server.pid)
            time.sleep(ttl + 10)  # Streamlit sweeps expired sessions on its own schedule
            run.released = settled_memory(server.pid)
    return run


def report(runs: list[Run], ttl: int, where: str) -> None:
    print(where, "\n")
    steps = sorted(runs[0].open)
    head = " | ".join(f"{n} open" for n in steps)
    print(
        f"| messages per thread | what | server, no page | {head} | **per session** (slope) | intercept | "
        f"all closed | {ttl} s after (TTL) |"
    )
    print("|---:|---|" + "---:|" * (len(steps) + 5))
    units = {"rss": "RSS, MiB", "uss": "USS, MiB", "cpu": "CPU, % of a core"}
    for r in runs:
        for kind, unit in units.items():
            per, base = r.fit(kind)
            cells = " | ".join(f"{r.open[n][kind]:.0f}" for n in steps)
            print(
                f"| {r.messages:,} | {unit} | {r.empty[kind]:.0f} | {cells} | **{per:.2f}** | {base:.0f} | "
                f"{r.closed[kind]:.0f} | {r.released[kind]:.0f} |"
            )


def plot(runs: list[Run], where: str) -> Path:
    fig, ax = figure(figsize=(6.8, 3.8))
    steps = sorted(runs[0].open)
    for r, colour in zip(runs, ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"), strict=False):
        for kind, marker in (("rss", "o"), ("uss", "s")):
            per, base = r.fit(kind)
            ys = [r.open[n][kind] for n in steps]
            label = f"{kind.upper()}, {r.messages:,}-message threads: {per:.2f} MiB per session"
            ax.plot(steps, ys, marker, color=colour, label=label)
            line = "-" if kind == "rss" else "--"
            ax.plot([0, steps[-1]], [base, base + per * steps[-1]], line, color=colour, lw=0.8)
            ax.plot([0], [r.empty[kind]], marker, color=colour, mfc="none")
    first = runs[0]
    ax.annotate(
        "server started, no page yet:\nthe first page loads the app's modules",
        (0, first.empty["rss"]),
        xytext=(12, -4),
        textcoords="offset points",
        fontsize=7,
        va="center",
    )
    ax.set(xlabel="browser sessions open, each showing its own thread", ylabel="server process memory, MiB")
    ax.set_xticks([0, *steps])
    ax.set_xlim(-0.5, steps[-1] + 1)
    ax.set_ylim(0, max(r.open[steps[-1]]["rss"] for r in runs) * 1.25)
    ax.set_title("Server memory with sessions open (lines: least squares over 1…20)")
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, "perf_session_memory", f"python bench/session_memory.py · {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--ttl", type=int, default=15, help="server.disconnectedSessionTTL for the run (s)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--replot", action="store_true", help=f"redraw the plot from {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.replot:
        data = json.loads(RESULTS.read_text())
        runs = [Run(**r) for r in data["runs"]]
        for r in runs:  # JSON keys are strings
            r.open = {int(n): m for n, m in r.open.items()}
    else:
        data = {"where": machine(), "stamp": stamp(), "ttl": args.ttl}
        steps = sorted(args.sessions)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            runs = [measure(m, steps, args.ttl, browser) for m in args.messages]
            browser.close()
        data["runs"] = [asdict(r) for r in runs]
        RESULTS_DIR.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(data, indent=1))
    report(runs, data["ttl"], data["where"])
    if not args.no_plot:
        print(f"\nplot: {plot(runs, data['stamp']).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
