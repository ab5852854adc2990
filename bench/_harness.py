"""What the benchmarks share: the machine line, server memory, a seeded thread, the in-page clock, plots.

Not a benchmark itself. The scripts beside it put the repository root on sys.path and import it.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import socket
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playground.assistant import AssistantConfig
from playground.store import Store
from tests.app_process import CHROMIUM, ROOT

DOCS = ROOT / "docs"
RESULTS_DIR = ROOT / "bench" / "results"  # raw samples behind the tables and plots


# -- where and when -----------------------------------------------------------------------------


def _run(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT).stdout.strip()
    except OSError:
        return "?"


def stamp() -> str:
    """Date, commit and machine load, short enough for the foot of a plot."""
    commit = _run("git", "rev-parse", "--short", "HEAD") or "?"
    dirty = " (+ uncommitted changes)" if _run("git", "status", "--porcelain", "--untracked-files=no") else ""
    return f"{datetime.date.today().isoformat()} · commit {commit}{dirty} · {os.cpu_count()} vCPU"


def machine() -> str:
    """One line naming the machine, the software and the commit, for the top of each result."""
    import openai
    import streamlit

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kib = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    )
    chromium = _run(CHROMIUM, "--version").replace("Chromium ", "").split(" ")[0] or "?"
    return (
        f"{stamp()} {cpu} · "
        f"{memory_kib / 1024**2:.0f} GiB RAM · Python {platform.python_version()} · streamlit {streamlit.__version__}"
        f" · openai {openai.__version__} · Chromium {chromium} · load average {os.getloadavg()[0]:.2f}"
    )


# -- memory of a process ------------------------------------------------------------------------


def memory_mib(pid: int) -> dict[str, float]:
    """RSS (all resident pages), PSS and USS (pages only this process holds) of `pid`, in MiB.

    USS is what the process would give back if it exited: shared libraries mapped by other processes
    too are left out. Read from /proc/<pid>/status and /proc/<pid>/smaps_rollup (Linux).
    """
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    rss = int(next(line.split()[1] for line in status if line.startswith("VmRSS:")))
    rollup: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        rollup[name.rstrip(":")] = int(value)
    uss = rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)
    return {"rss": rss / 1024, "pss": rollup.get("Pss", 0) / 1024, "uss": uss / 1024}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_memory(pid: int, seconds: float = 6.0, reads: int = 4) -> dict[str, float]:
    """Memory: the median of a few reads spread over `seconds` (the app keeps ticking while pages are
    open); `cpu`: the share of one core the process used over those seconds, in percent."""
    samples = []
    cpu, started = cpu_seconds(pid), time.monotonic()
    for _ in range(reads):
        time.sleep(seconds / reads)
        samples.append(memory_mib(pid))
    busy = 100 * (cpu_seconds(pid) - cpu) / (time.monotonic() - started)
    return {**{k: statistics.median(s[k] for s in samples) for k in samples[0]}, "cpu": busy}


def slope(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """Least-squares line through the points: (slope, intercept)."""
    fit = statistics.linear_regression(xs, ys)
    return fit.slope, fit.intercept


# -- a log with long threads --------------------------------------------------------------------

USER = "Can you summarise the quarterly figures for the north region and flag anything unusual? "
REPLY = (
    "Here is the summary for the **north region**:\n\n- Revenue rose 4.2 % on the quarter.\n"
    "- Costs were flat, except logistics (+11 %).\n- Two stores missed target.\n\n"
    "The logistics jump is unusual: it follows a carrier change in August. "
)
TITLE = "Quarterly review"


def message(i: int) -> tuple[str, str]:
    """The i-th message of a seeded thread: (role, text)."""
    if i == 0:
        return "user", TITLE
    return ("user", USER + str(i)) if i % 2 == 0 else ("assistant", REPLY + str(i))


def seed(db: Path, messages: int, threads: int = 1) -> tuple[int, list[int]]:
    """A log with one assistant (version 1 saved) and `threads` threads of `messages` messages each.

    Returns (assistant id, thread ids). Every thread's first message is TITLE.
    """
    store = Store(db)
    assistant = store.create_assistant()
    config = AssistantConfig(name="Analyst", instructions="Summarise figures briefly.")
    store.save_draft(assistant.id, config)
    version, _ = store.save_version(assistant.id, config)
    thread_ids = []
    now = time.time()
    for _ in range(threads):
        thread = store.create_thread(assistant.id)
        store.add_message(thread.id, "user", TITLE, version_id=version.id)
        rows = [
            dict(zip(("thread_id", "role", "content", "version_id", "created_at"), row, strict=True))
            for row in ((thread.id, *message(i), version.id, now) for i in range(1, messages))
        ]
        with store.write() as database:  # a bulk insert: adding 5,000 rows one by one only slows the setup
            database.many(
                "INSERT INTO messages (thread_id, role, content, version_id, status, created_at) "
                "VALUES (:thread_id, :role, :content, :version_id, 'complete', :created_at)",
                rows,
            )
        thread_ids.append(thread.id)
    return assistant.id, thread_ids


# -- the browser side ---------------------------------------------------------------------------

# Notes, on the page's wall clock, when the text of window.__marker first shows up.
WATCH = """
window.__seen = {};
window.__marker = null;
new MutationObserver(records => {
  const marker = window.__marker;
  if (!marker || window.__seen[marker]) return;
  for (const r of records) {
    const node = r.target;
    if (node && node.textContent && node.textContent.includes(marker)) {
      window.__seen[marker] = performance.timeOrigin + performance.now();
      return;
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


class WireTap:
    """A loopback TCP proxy between Chromium and Streamlit that notes every chunk of the websocket.

    Its clock is this process's, independent of the browser's busy main thread, so the time from
    a request to the last byte of its answer is the server's (plus loopback), and the bytes are
    what crossed the wire. Set `watch` to some bytes to note (wall clock, in `seen_at`) when the
    server first sent them to the browser.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.frames: list[tuple[float, str, int]] = []
        self.watch: bytes | None = None
        self.seen_at: dict[bytes, float] = {}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            first = client.recv(65536)
            upstream.sendall(first)
            tapped = b"/_stcore/stream" in first.split(b"\r\n", 1)[0]
            threading.Thread(target=self._pump, args=(client, upstream, "out", tapped), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, "in", tapped), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, direction: str, tapped: bool) -> None:
        try:
            while data := source.recv(65536):
                if tapped:
                    self.frames.append((time.perf_counter() * 1000, direction, len(data)))
                    watch = self.watch
                    if direction == "in" and watch and watch not in self.seen_at and watch in data:
                        self.seen_at[watch] = time.time()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def clear(self) -> None:
        self.frames.clear()

    def close(self) -> None:
        self.listener.close()


def kind(payload: str | bytes) -> str:
    """What a frame Streamlit sent carries: an element by its type, a container, a reference to an
    element the browser holds already (cached by hash), or a message about the run itself."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    try:
        msg = ForwardMsg.FromString(payload if isinstance(payload, bytes) else payload.encode())
    except Exception:
        return "unreadable"
    if msg.ref_hash:
        return "reference to a cached element"
    what = msg.WhichOneof("type") or "empty"
    if what != "delta":
        return what
    delta = msg.delta.WhichOneof("type")
    if delta == "new_element":
        return f"element: {msg.delta.new_element.WhichOneof('type')}"
    return f"delta: {delta}"


class SocketBytes:
    """Counts the bytes of every websocket frame a page receives and sends (Streamlit's /_stcore/stream).

    Payload sizes as Chromium reports them; Streamlit's websocket compression is off by default, so
    they are what crossed the wire, less a few bytes of framing per frame.
    """

    def __init__(self, page: Any) -> None:
        self.received = 0
        self.sent = 0
        self.frames_received = 0
        self.frames_sent = 0
        self.kinds: Counter[str] = Counter()  # bytes received, by kind of ForwardMsg (see `kind`)
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        if "/_stcore/stream" in ws.url:
            ws.on("framereceived", self._in)
            ws.on("framesent", self._out)

    def _in(self, payload: str | bytes) -> None:
        self.received += len(payload)
        self.frames_received += 1
        self.kinds[kind(payload)] += len(payload)

    def _out(self, payload: str | bytes) -> None:
        self.sent += len(payload)
        self.frames_sent += 1

    def snapshot(self) -> tuple[int, int]:
        return self.received, self.frames_sent


# -- numbers and pictures -----------------------------------------------------------------------


def pct(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method), e.g. pct(v, 90)."""
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def figure(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """A matplotlib figure drawn off-screen (Agg), styled alike for every plot in docs/."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": 110})
    return plt.subplots(*args, **kwargs)


def save(fig: Any, name: str, note: str) -> Path:
    """Save `fig` as docs/<name>.png with a small footer saying where the figures came from."""
    fig.text(0.01, 0.005, note, fontsize=6.5, color="#666666", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    path = DOCS / f"{name}.png"
    fig.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
