"""Shared fixtures: a fresh log per test, Streamlit caches cleared between tests."""

import pytest

from playground.store import Store


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "log.db")
