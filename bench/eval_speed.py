"""How fast an evaluation run goes with cases in parallel, and whether its memory stays flat.

    python bench/eval_speed.py [--cases 200] [--concurrency 1,8] [--ttft 0.3]

The local OpenAI server (tests/openai_server) runs in a process of its own, every reply waiting
`--ttft` seconds before its first token, as a real model does. A test set of `--cases` cases with a
regex grader runs on one saved version through the app's own path (`evaluation.start`: the turn
worker's threads, every turn logged, every case graded), once per concurrency. Printed: wall time,
cases per second, the speed-up over the first concurrency, and this process's resident memory
sampled as the run goes (at each quarter of the cases), so growth with the number of cases shows.
Raw figures: bench/results/eval_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import RESULTS_DIR, machine, memory_mib
from playground import evaluation
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend
from playground.client import ApiKey, make_client
from playground.store import Store

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-bench-0123456789abcdef"
GRADERS = [{"type": "regex", "name": "says four", "pattern": r"\b4\b"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, ttft: float) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.openai_server", "--port", str(port), "--no-validate"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            ready = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {KEY}"}
            )
            urllib.request.urlopen(ready, timeout=1).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                raise
            time.sleep(0.1)
    reply = {"text": "The answer is 4, as asked.", "ttft": ttft, "times": 1_000_000}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_control/script",
        data=json.dumps(reply).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()
    return server


def one_run(base_url: str, cases: int, concurrency: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "log.db")
        assistant = store.create_assistant()
        version, _ = store.save_version(
            assistant.id, AssistantConfig(name="Counter", model="gpt-5", instructions="Answer with a number.")
        )
        set_id = store.create_test_set("bench", [f"What is 2 + 2? (case {i})" for i in range(cases)])
        store.set_graders(set_id, json.dumps(GRADERS))
        client = make_client(ApiKey(KEY, "environment"), base_url)
        pid = os.getpid()
        before = memory_mib(pid)["rss"]
        started = time.perf_counter()
        run = evaluation.start(store, lambda: ResponsesBackend(client), set_id, version, concurrency=concurrency)
        marks = [cases * q // 4 for q in (1, 2, 3, 4)]
        memory: list[float] = []
        while not run.wait(0.05):
            if marks and run.progress().done >= marks[0]:
                memory.append(memory_mib(pid)["rss"])
                marks.pop(0)
        wall = time.perf_counter() - started
        while marks:
            memory.append(memory_mib(pid)["rss"])
            marks.pop(0)
        progress = run.progress()
        return {
            "concurrency": concurrency,
            "cases": cases,
            "wall_s": wall,
            "cases_per_s": cases / wall,
            "done": progress.done,
            "passed": progress.passed,
            "ungraded": progress.ungraded,
            "rss_before_mib": before,
            "rss_at_quarters_mib": memory,
            "error": run.error,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--concurrency", default="1,8", help="comma-separated")
    parser.add_argument("--ttft", type=float, default=0.3, help="seconds before each reply's first token")
    args = parser.parse_args()
    port = free_port()
    server = start_server(port, args.ttft)
    try:
        runs = [one_run(f"http://127.0.0.1:{port}/v1", args.cases, int(c)) for c in args.concurrency.split(",")]
    finally:
        server.terminate()
        server.wait(10)
    first = runs[0]["wall_s"]
    print(f"{args.cases} cases, a regex grader, the local server in its own process, {args.ttft:g} s to first token\n")
    header = "| concurrency | wall s | cases/s | speed-up | done | passed | ungraded | RSS before MiB "
    print(header + "| RSS at ¼, ½, ¾, all MiB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in runs:
        quarters = ", ".join(f"{m:.0f}" for m in r["rss_at_quarters_mib"])  # type: ignore[attr-defined]
        print(
            f"| {r['concurrency']} | {r['wall_s']:.1f} | {r['cases_per_s']:.1f} | {first / r['wall_s']:.1f}× "  # type: ignore[operator]
            f"| {r['done']} | {r['passed']} | {r['ungraded']} | {r['rss_before_mib']:.0f} | {quarters} |"
        )
    where = machine()
    print(f"\nMachine: {where}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "eval_speed.json").write_text(json.dumps({"machine": where, "ttft": args.ttft, "runs": runs}))


if __name__ == "__main__":
    main()
