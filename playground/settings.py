"""Settings read from the environment, with defaults that work on a laptop and on Community Cloud."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import platformdirs

APP_NAME = "assistant-playground"
DEFAULT_MODEL = "gpt-4.1-mini"
# Shown when the models endpoint cannot be reached; the user may also type any id. Models the SDK
# lists as current, without an announced shutdown before 2027 (openai 3.54's model docstrings).
FALLBACK_MODELS = ["gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini"]

# The read timeout bounds the gap between two streamed chunks, not the whole reply. A reasoning
# model at high effort can think for minutes before its first token, so the gap allowed is long;
# the user sees the wait counting up and can Stop at any moment.
REQUEST_TIMEOUT = httpx2.Timeout(300.0, connect=5.0)
MAX_RETRIES = 2
QUICK_TIMEOUT = httpx2.Timeout(10.0, connect=3.0)

# A draft becomes a new version after this many seconds without edits.
AUTOSAVE_DELAY_S = 3.0
# How often a streaming reply is checkpointed to the log: a killed process loses at most this much.
CHECKPOINT_EVERY_S = 1.0


def db_path() -> Path:
    """Where the SQLite log lives: $PLAYGROUND_DB, else the user's data dir (never the repo)."""
    configured = os.environ.get("PLAYGROUND_DB")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path(APP_NAME) / "playground.db"


def base_url() -> str | None:
    """An OpenAI-compatible server to talk to instead of api.openai.com (tests, proxies)."""
    return os.environ.get("OPENAI_BASE_URL") or None
