"""Run `streamlit run app.py` as a real server on a free port (browser tests and benchmarks)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# The flags this machine needs: no sandbox as root, and no background calls to a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class AppServer:
    url: str
    pid: int  # the `streamlit run` process itself (benchmarks read its memory)


@contextlib.contextmanager
def streamlit_server(
    script: Path,
    env: dict[str, str],
    log_path: Path,
    timeout: float = 60,
    args: Sequence[str] = (),
    port: int | None = None,
) -> Iterator[AppServer]:
    """Start `script` with Streamlit (plus extra `--option=value` args); yield it once /_stcore/health answers.
    A given `port` lets a test restart the server where an open tab will reconnect."""
    port = port or free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
        "--browser.gatherUsageStats=false", "--server.fileWatcherType=none", "--global.developmentMode=false",
        *args,
    ]  # fmt: skip
    with open(log_path, "ab") as log:
        # Unbuffered: tests read this log (the key must never be in it), so all of it must be on disk.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield AppServer(url, process.pid)
    finally:
        stop(process)


@contextlib.contextmanager
def streamlit_app(script: Path, env: dict[str, str], log_path: Path, timeout: float = 60) -> Iterator[str]:
    """Start `script` with Streamlit; yield its URL once /_stcore/health answers; stop it after."""
    with streamlit_server(script, env, log_path, timeout) as server:
        yield server.url


def wait_for_app(page) -> None:
    """Wait until the script run finished and the page is drawn (as Streamlit's own e2e suite does)."""
    page.wait_for_timeout(250)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(state="attached")
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached")
    page.wait_for_timeout(150)


def stop(process: subprocess.Popen) -> None:
    """End a server process the tests started: politely, then for sure."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
