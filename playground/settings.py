"""Settings read from the environment, with defaults that work on a laptop and on Community Cloud."""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import httpx2
import platformdirs

logger = logging.getLogger(__name__)

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
# Response headers come before the model thinks (upstream sends them, and `response.created`, at
# once), so a request still without them after this long is hung: waiting the 300 s gap, on each of
# the SDK's 3 attempts, took 15 minutes to say so. $PLAYGROUND_FIRST_BYTE_TIMEOUT raises it (a local
# server may load a model before it answers).
FIRST_BYTE_TIMEOUT_S = 60.0
FIRST_BYTE_TIMEOUT_ENV = "PLAYGROUND_FIRST_BYTE_TIMEOUT"
QUICK_TIMEOUT = httpx2.Timeout(10.0, connect=3.0)

# How often a streaming reply is checkpointed to the log: a killed process loses at most this much.
CHECKPOINT_EVERY_S = 1.0


def db_path() -> Path:
    """Where the SQLite log lives: $PLAYGROUND_DB, else the user's data dir (never the repo)."""
    configured = os.environ.get("PLAYGROUND_DB")
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path(APP_NAME) / "playground.db"


def first_byte_timeout() -> float:
    """Seconds to wait for a request's response headers: $PLAYGROUND_FIRST_BYTE_TIMEOUT, else 60."""
    configured = os.environ.get(FIRST_BYTE_TIMEOUT_ENV, "").strip()
    if not configured:
        return FIRST_BYTE_TIMEOUT_S
    try:
        seconds = float(configured)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        logger.warning(
            "%s=%r is not a number of seconds above 0; using %g",
            FIRST_BYTE_TIMEOUT_ENV,
            configured,
            FIRST_BYTE_TIMEOUT_S,
        )
        return FIRST_BYTE_TIMEOUT_S
    return seconds


# How long a write waits for another writer before it gives up and says so. Short, because a user's
# click waits on it: a write is a few milliseconds, so a lock held for seconds is a stuck program.
DB_BUSY_TIMEOUT_S = 5.0


def db_busy_timeout() -> float:
    """Seconds a write waits for the log's lock: $PLAYGROUND_DB_BUSY_TIMEOUT, else 5."""
    value = _number("PLAYGROUND_DB_BUSY_TIMEOUT")
    return DB_BUSY_TIMEOUT_S if value is None else value


def db_read_only() -> bool:
    """$PLAYGROUND_DB_READ_ONLY=1 opens the log for reading only (someone else's copy, an archive)."""
    return os.environ.get("PLAYGROUND_DB_READ_ONLY", "").strip().lower() in ("1", "true", "yes")


def db_max_mb() -> float | None:
    """$PLAYGROUND_DB_MAX_MB caps the log's size (a small shared disk); past it, writes are refused."""
    return _number("PLAYGROUND_DB_MAX_MB")


# A turn in progress holds a lease on its run, renewed every third of this while the turn runs (with
# or without text arriving). A run whose lease ran out lost its process, and whichever app process on
# the log sweeps next recovers it; a live turn of another process is never touched.
RUN_LEASE_S = 30.0


def run_lease_s() -> float:
    """Seconds a turn's lease on its run lasts: $PLAYGROUND_RUN_LEASE_S (a finite number above 0), else 30."""
    value = _number("PLAYGROUND_RUN_LEASE_S")
    return value if value and math.isfinite(value) else RUN_LEASE_S


def _number(name: str) -> float | None:
    try:
        value = float(os.environ[name])
    except (KeyError, ValueError):
        return None
    return value if value >= 0 else None  # also refuses NaN


def base_url() -> str | None:
    """An OpenAI-compatible server to talk to instead of api.openai.com (tests, proxies)."""
    return os.environ.get("OPENAI_BASE_URL") or None
