"""What a config edit costs while a long thread is open: server time and bytes sent to the browser.

Runs the real app (`streamlit run app.py`) against the local OpenAI server, opens a thread of N
messages in Debian Chromium, and edits the assistant's description several times. A loopback proxy
between Chromium and Streamlit (WireTap) notes every websocket chunk (time, direction, size) on its
own clock, so the figures are the server's answer as it crossed the wire:

- edit: the rerun an edit causes (each section of the configuration panel is an st.fragment), from
  the chunk the browser sent to the last chunk of the answer, and the bytes of that answer;
- full rerun: the same for a rerun of the whole page (clicking the open thread), which redraws the
  newest 200 messages, for comparison;
- idle: what an open page sends and receives over the wire with nobody touching it, in bytes a
  minute (the save-status line used to tick every 1.5 s; nothing ticks now, so the target is 0),
  the websocket's own ping/pong keepalive (Tornado's, every 30 s) counted apart;
- for scale, the same edits on a bare one-input, one-fragment app (bench/bare_edit_app.py), with
  Streamlit's post-run GC on (its default) and off (as the app runs).

Each size runs on `--repeat` fresh servers and their samples are pooled (the machine is shared and
noisy). Writes the raw samples to bench/results/rerun_cost.json and docs/perf_config_edit.png
(`--replot` redraws it from the JSON).

    python bench/rerun_cost.py [--sizes 100 1000 5000] [--edits 15] [--repeat 2] [--idle 30]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from playwright.sync_api import sync_playwright

from bench._harness import RESULTS_DIR, TITLE, WireTap, figure, machine, pct, save, seed, stamp
from tests.app_process import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_app, streamlit_server, wait_for_app
from tests.openai_server import OpenAIServer

RESULTS = RESULTS_DIR / "rerun_cost.json"


class Tap(WireTap):
    """The harness's tap, with the websocket's keepalive (ping and pong control frames, which Tornado
    sends every 30 s whatever the app does) noted apart in `control`, so `frames` is the app's traffic."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port)
        self.control: list[tuple[float, str, int]] = []

    def _pump(self, source, sink, direction: str, tapped: bool) -> None:
        try:
            while data := source.recv(65536):
                if tapped:
                    ping_or_pong = data[0] & 0x0F in (0x9, 0xA) and len(data) <= 2 + 4 + 125
                    (self.control if ping_or_pong else self.frames).append(
                        (time.perf_counter() * 1000, direction, len(data))
                    )
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


def rerun_after(page, frames: WireTap, action) -> tuple[float, int]:
    """Do `action`; return (ms from the browser's request to the last answer frame, bytes received)."""
    wait_for_app(page)
    frames.clear()
    action()
    wait_for_app(page)
    page.wait_for_timeout(100)
    got = list(frames.frames)
    sent = [f for f in got if f[1] == "out"]
    start = sent[0][0]
    end = sent[1][0] if len(sent) > 1 else float("inf")  # a next request starts another answer
    answer = [f for f in got if f[1] == "in" and start <= f[0] < end]
    return (answer[-1][0] - start if answer else 0.0), sum(f[2] for f in answer)


def measure(messages: int, edits: int, browser, idle_s: float = 30.0) -> dict[str, Any]:
    """One fresh log and server: the raw samples (ms, bytes) of each kind of rerun."""
    with tempfile.TemporaryDirectory() as tmp, OpenAIServer() as upstream:
        db = Path(tmp) / "log.db"
        assistant_id, [thread_id] = seed(db, messages)
        env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": "sk-bench", "PLAYGROUND_DB": str(db)}
        with streamlit_app(ROOT / "app.py", env, Path(tmp) / "streamlit.log") as url:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            frames = Tap(int(url.rsplit(":", 1)[1]))
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{frames.port}/?assistant={assistant_id}&thread={thread_id}")
            wait_for_app(page)
            load_ms = (time.perf_counter() - started) * 1000
            load_bytes = sum(f[2] for f in frames.frames if f[1] == "in")
            edits_got = edit_description(page, frames, edits)
            full_got = [
                rerun_after(page, frames, lambda: page.get_by_role("button", name=TITLE).click()) for _ in range(5)
            ]
            # Idle: every byte either way with no user action, once the last rerun has settled.
            wait_for_app(page)
            page.wait_for_timeout(1000)
            frames.clear()
            frames.control.clear()
            page.wait_for_timeout(idle_s * 1000)
            idle_bytes = sum(f[2] for f in frames.frames) * 60 / idle_s
            keepalive_bytes = sum(f[2] for f in frames.control) * 60 / idle_s
            upstream_requests = len(upstream.requests)
            page.close()
            frames.close()
    return {
        "messages": messages,
        "edit_ms": [m for m, _ in edits_got],
        "edit_bytes": [b for _, b in edits_got],
        "full_ms": [m for m, _ in full_got],
        "full_bytes": [b for _, b in full_got],
        "load_ms": [load_ms],
        "load_bytes": [load_bytes],
        "idle_bytes_per_min": [idle_bytes],
        "keepalive_bytes_per_min": [keepalive_bytes],
        "upstream_requests": [upstream_requests],
    }


def edit_description(page, frames: WireTap, edits: int) -> list[tuple[float, int]]:
    description = page.get_by_label("Description")
    out = []
    for i in range(edits):

        def edit(i=i):
            description.fill(f"Edit number {i}")
            description.press("Tab")

        out.append(rerun_after(page, frames, edit))
    return out


def measure_bare(edits: int, post_script_gc: bool, browser) -> dict[str, Any]:
    """The same edits on bench/bare_edit_app.py: one text input in one fragment, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        script = ROOT / "bench" / "bare_edit_app.py"
        args = [f"--runner.postScriptGC={str(post_script_gc).lower()}"]
        with streamlit_server(script, {}, Path(tmp) / "streamlit.log", args=args) as server:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            frames = WireTap(int(server.url.rsplit(":", 1)[1]))
            page.goto(f"http://127.0.0.1:{frames.port}/")
            wait_for_app(page)
            got = edit_description(page, frames, edits)
            page.close()
            frames.close()
    return {"gc": post_script_gc, "edit_ms": [m for m, _ in got], "edit_bytes": [b for _, b in got]}


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The samples of repeated runs of one case, pooled."""
    out = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, list):
            out[key] = [x for r in runs for x in r[key]]
    return out


def plot(results: list[dict[str, Any]], bare: list[dict[str, Any]], where: str) -> Path:
    med = statistics.median
    fig, (left, right) = figure(1, 2, figsize=(8.5, 3.6))
    sizes = [r["messages"] for r in results]
    left.plot(sizes, [med(r["edit_ms"]) for r in results], "o-", label="config edit (median)")
    left.fill_between(
        sizes,
        [pct(r["edit_ms"], 10) for r in results],
        [pct(r["edit_ms"], 90) for r in results],
        alpha=0.15,
        label="config edit, p10–p90",
    )
    left.plot(sizes, [med(r["full_ms"]) for r in results], "s--", label="full-page rerun (median)")
    left.axhline(50, color="#c0392b", lw=0.8, ls=":", label="target for an edit at 1,000")
    for b in bare:
        gc = "post-run GC on (default)" if b["gc"] else "post-run GC off"
        left.axhline(med(b["edit_ms"]), color="#888888", lw=0.9, ls="-." if b["gc"] else "--", label=f"bare app, {gc}")
    left.set(xscale="log", xlabel="messages in the open thread", ylabel="ms, browser request → last byte back")
    left.set_title("Server time per rerun")
    left.set_ylim(bottom=0)
    right.plot(sizes, [med(r["edit_bytes"]) / 1024 for r in results], "o-", label="config edit")
    right.plot(sizes, [med(r["full_bytes"]) / 1024 for r in results], "s--", label="full-page rerun")
    right.axhline(5, color="#c0392b", lw=0.8, ls=":", label="target for an edit at 1,000")
    right.axhline(med(bare[0]["edit_bytes"]) / 1024, color="#888888", lw=0.9, ls="--", label="bare app, edit")
    right.set(xscale="log", yscale="log", xlabel="messages in the open thread", ylabel="KiB sent to the browser")
    right.set_title("Bytes to the browser per rerun")
    for ax in (left, right):
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.legend(fontsize=6.5, loc="center right")
    return save(fig, "perf_config_edit", f"python bench/rerun_cost.py · {where}")


def idle(result: dict[str, Any]) -> str:
    """An idle page's bytes a minute (results from before it was measured had a tick's bytes instead)."""
    if "idle_bytes_per_min" in result:
        keepalive = statistics.median(result["keepalive_bytes_per_min"])
        return f"{statistics.median(result['idle_bytes_per_min']):,.0f} (+ {keepalive:,.0f} of keepalive)"
    return f"{statistics.median(result['tick_bytes']):,.0f} a tick"


def report(data: dict[str, Any]) -> None:
    med = statistics.median
    print(data["where"])
    print(
        f"median (and p90) of {data['edits']} edits of the Description field × {data['repeat']} fresh servers "
        "per size, pooled; full-page rerun, page load and idle page: medians\n"
    )
    print("| messages in thread | edit: server ms (median / p90) | edit: bytes to browser | full-page rerun: ms | "
          "full-page rerun: KiB | page load: ms / KiB | idle page: bytes a minute | upstream requests |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in data["results"]:
        print(
            f"| {r['messages']:,} | {med(r['edit_ms']):.1f} / {pct(r['edit_ms'], 90):.1f} | "
            f"{med(r['edit_bytes']):,.0f} | {med(r['full_ms']):.0f} | {med(r['full_bytes']) / 1024:.0f} | "
            f"{med(r['load_ms']):.0f} / {med(r['load_bytes']) / 1024:.0f} | {idle(r)} | "
            f"{max(r['upstream_requests'])} |"
        )
    print("\nFor scale, bench/bare_edit_app.py (one text input in one fragment), same harness:\n")
    print("| bare app | edit: server ms (median / p90) | edit: bytes to browser |")
    print("|---|---:|---:|")
    for b in data["bare"]:
        gc = "postScriptGC = true (Streamlit's default)" if b["gc"] else "postScriptGC = false (as the app)"
        print(f"| {gc} | {med(b['edit_ms']):.1f} / {pct(b['edit_ms'], 90):.1f} | {med(b['edit_bytes']):,.0f} |")
    if len(data["results"][0]["edit_ms"]) > data["edits"]:
        print("\nedit medians of each repeat, ms:")
        for r in data["results"]:
            n = data["edits"]
            each = [med(r["edit_ms"][i : i + n]) for i in range(0, len(r["edit_ms"]), n)]
            print(f"  {r['messages']:,} messages: {', '.join(f'{x:.1f}' for x in each)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--edits", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=2, help="fresh servers per size; their samples are pooled")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds the idle page is watched")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--replot", action="store_true", help=f"redraw the plot from {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.replot:
        data = json.loads(RESULTS.read_text())
    else:
        data = {"where": machine(), "stamp": stamp(), "edits": args.edits, "repeat": args.repeat}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            data["results"] = [
                pooled([measure(n, args.edits, browser, args.idle) for _ in range(args.repeat)]) for n in args.sizes
            ]
            data["bare"] = [
                pooled([measure_bare(args.edits, gc, browser) for _ in range(args.repeat)]) for gc in (True, False)
            ]
            browser.close()
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(data, indent=1))
    report(data)
    if not args.no_plot:
        print(f"\nplot: {plot(data['results'], data['bare'], data['stamp']).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
