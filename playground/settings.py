"""Settings read from the environment, with defaults that work on a laptop and on Community Cloud."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import platformdirs

APP_NAME = "assistant-playground"
DEFAULT_MODEL = "gpt-4.1-mini"
# Shown when the models endpoint cannot be reached; the user may also type any id.
FALLBACK_MODELS = ["gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "gpt-5", "gpt-5-mini", "o3"]

# A chat UI should fail within a minute, not the SDK's 10-minute default. The read timeout
# bounds the gap between two streamed chunks, not the whole reply.
REQUEST_TIMEOUT = httpx2.Timeout(60.0, connect=5.0)
MAX_RETRIES = 2

# A draft becomes a new version after this many seconds without edits.
AUTOSAVE_DELAY_S = 3.0


def db_path() -> Path:
    """Where the SQLite log lives: $PLAYGROUND_DB, else the user's data dir (never the repo)."""
    configured = os.environ.get("PLAYGROUND_DB")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path(APP_NAME) / "playground.db"


def base_url() -> str | None:
    """An OpenAI-compatible server to talk to instead of api.openai.com (tests, proxies)."""
    return os.environ.get("OPENAI_BASE_URL") or None
