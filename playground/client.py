"""Where the API key comes from, and the OpenAI client built from it.

The client is built per use and never cached across sessions: a cached client would hand one
user's key to everyone (reproduced in ../shared/notes/streamlit-1.67.md §0.4).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import openai

from playground import settings


@dataclass(frozen=True)
class ApiKey:
    value: str
    source: str  # "sidebar", "secrets" or "environment"

    def __repr__(self) -> str:  # never show the key in a traceback or a log line
        return f"ApiKey(source={self.source!r}, value='{mask(self.value)}')"

    @property
    def fingerprint(self) -> str:
        """A stable, non-reversible id for cache keys and per-user data; not the key."""
        return hashlib.sha256(self.value.encode()).hexdigest()[:16]


def resolve_key(typed: str | None = None, secrets: Mapping[str, Any] | None = None) -> ApiKey | None:
    """The key typed in the sidebar wins, then secrets.toml, then $OPENAI_API_KEY."""
    if typed and typed.strip():
        return ApiKey(typed.strip(), "sidebar")
    if secrets:
        value = secrets.get("OPENAI_API_KEY")
        if isinstance(value, str) and value.strip():
            return ApiKey(value.strip(), "secrets")
    env = os.environ.get("OPENAI_API_KEY", "").strip()
    return ApiKey(env, "environment") if env else None


def mask(key: str) -> str:
    return f"{key[:3]}…{key[-4:]}" if len(key) > 12 else "…"


def make_client(key: ApiKey, base_url: str | None = None, *, quick: bool = False) -> openai.OpenAI:
    """A client with a UI-sized timeout. `quick` is for calls that only decorate the page (the
    model list): no retries and a short timeout, so a broken endpoint never stalls a rerun."""
    return openai.OpenAI(
        api_key=key.value,
        base_url=base_url or settings.base_url(),
        timeout=settings.QUICK_TIMEOUT if quick else settings.REQUEST_TIMEOUT,
        max_retries=0 if quick else settings.MAX_RETRIES,
    )


def redact(text: str, *secrets: str) -> str:
    """Remove secrets from text that may reach a screen, a log or the database."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def owner_for(key: ApiKey | None, session: str | None = None) -> str:
    """Whose log rows a session sees.

    A key typed in the sidebar is a visitor's own, so their assistants and threads are theirs
    alone; a key from the environment or secrets belongs to the deployment and its team. With no
    key at all, a visitor's drafts belong to their browser session (`session`), so strangers on
    a public deployment never see each other's unfinished work; `Store.adopt` moves it into the
    key's log once they connect.
    """
    if key is not None and key.source == "sidebar":
        return f"key:{key.fingerprint}"
    if key is None and session:
        return f"session:{session}"
    return "local"
