"""Browser tests: the real app (`streamlit run app.py`) against the local OpenAI server, in Debian Chromium.

They run by default. Without /usr/bin/chromium they fail (so a missing install step can never turn
into a silently green run), unless PLAYGROUND_SKIP_BROWSER=1 is set by hand on a laptop.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from playwright.sync_api import expect

from playground.store import Store
from tests.app_process import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_app, wait_for_app
from tests.openai_server import OpenAIServer

E2E_KEY = "sk-e2e-0123456789abcdefSECRET"

# expect() waits 5 s by default, apart from the page's 20 s action timeout; on a busy 2-core
# machine a Streamlit rerun can take longer than 5 s, and the assertion would fail a working app.
expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _chromium_present():
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("PLAYGROUND_SKIP_BROWSER") == "1":
            pytest.skip(message)
        pytest.fail(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def upstream():
    server = OpenAIServer()
    server.start()
    yield server
    server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(upstream, tmp_path_factory):
    """`streamlit run app.py` on a free port, its log kept to check what it printed."""
    workdir = tmp_path_factory.mktemp("app")
    db_path = workdir / "log.db"
    log_path = workdir / "streamlit.log"
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": E2E_KEY, "PLAYGROUND_DB": str(db_path)}
    try:
        with streamlit_app(ROOT / "app.py", env, log_path) as url:
            yield {"url": url, "db": db_path, "log": log_path}
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def app(page, app_server, upstream):
    upstream.reset()
    page.set_default_timeout(20_000)
    page.goto(app_server["url"])
    wait_for_app(page)
    return page


@pytest.fixture
def log_store(app_server):
    return Store(app_server["db"])
