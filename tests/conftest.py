"""Shared fixtures: a fresh log per test, the local OpenAI server, a real SDK client pointed at it."""

from __future__ import annotations

import os
from typing import Any

import pytest
import streamlit as st
from hypothesis import settings
from streamlit.testing.v1 import AppTest

from playground import engine, provider
from playground.assistant import AssistantConfig
from playground.backend import ResponsesBackend, StreamHandle
from playground.client import ApiKey, make_client
from playground.store import Store
from tests.openai_server import OpenAIServer
from tests.pages import APP

TEST_KEY = "sk-test-0123456789abcdefSECRETKEY"

# Locally hypothesis explores new examples on every run; CI replays a fixed set (seeded per test), so
# a landing never hangs on a first-time find. What a local run finds becomes an explicit test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


class ScriptedBackend:
    """A way of running turns that replies from scripts (lists of neutral events), one per turn, and
    knows nothing of the SDK: the engine tests' one mock upstream. `way="conversations"` keeps a
    history per conversation as Responses does; `way="chat"` is handed the thread from the log."""

    def __init__(self, *scripts: list[Any], way: str = "conversations") -> None:
        self.scripts = list(scripts)
        self.way = way
        self.capabilities = provider.CAPABILITIES[way]
        self.client = None
        self.conversations = 0
        self.sent: list[dict[str, Any]] = []

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str:
        self.conversations += 1
        return f"local-{self.conversations}"

    def request(self, config, conversation_id, *, text=None, outputs=None, history=None) -> dict[str, Any]:
        body = {"model": config.model, "thread": conversation_id, "text": text, "outputs": outputs}
        return body if history is None else {**body, "history": history}

    def stream(self, request: dict[str, Any]) -> StreamHandle:
        self.sent.append(request)
        return StreamHandle(iter(self.scripts.pop(0)), request_id="local-request")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "log.db")


@pytest.fixture(scope="session")
def _server():
    server = OpenAIServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def local():
    """A Chat-Completions-only server (as Ollama or vLLM), fresh per test; a request that breaks the
    spec fails the test."""
    with OpenAIServer(api="chat") as server:
        yield server
        assert server.violations == []


@pytest.fixture
def upstream(_server):
    """The local OpenAI server, reset for this test. A request that breaks the spec fails the test."""
    _server.reset()
    yield _server
    assert _server.violations == [], "requests that do not match the OpenAI spec"


@pytest.fixture
def key():
    return ApiKey(TEST_KEY, "environment")


@pytest.fixture
def backend(upstream, key):
    return ResponsesBackend(make_client(key, upstream.base_url))


@pytest.fixture
def version(store):
    """A saved assistant version to run turns with, and a thread for it."""
    assistant = store.create_assistant()
    config = AssistantConfig(name="Tester", instructions="Be brief.", model="gpt-4.1-mini")
    v, _ = store.save_version(assistant.id, config)
    return v


@pytest.fixture
def thread(store, version):
    return store.create_thread(version.assistant_id)


@pytest.fixture(autouse=True)
def _close_pools():
    # Each test's log gets its own pool of connections; closing them keeps a long run's open files few.
    yield
    engine.dispose()


@pytest.fixture(autouse=True)
def _isolate_streamlit_caches():
    # AppTest shares caches across instances in one process; a leak between tests would hide bugs.
    # So is the way each server runs turns, found by a probe and kept for the process.
    st.cache_data.clear()
    st.cache_resource.clear()
    provider.forget_ways()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
    provider.forget_ways()


# -- the pages, with AppTest ------------------------------------------------------------------


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    path = tmp_path / "log.db"
    monkeypatch.setenv("PLAYGROUND_DB", str(path))
    return path


@pytest.fixture
def app(upstream, db_path, monkeypatch):
    """The app, first page drawn, talking to the local server with the deployment's key."""
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    at = AppTest.from_file(APP, default_timeout=30)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def log(db_path):
    return Store(db_path)
