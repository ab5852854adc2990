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

import httpx2
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


def make_client(
    key: ApiKey, base_url: str | None = None, *, quick: bool = False, first_byte_timeout: float | None = None
) -> openai.OpenAI:
    """A client with a UI-sized timeout. `quick` is for calls that only decorate the page (the
    model list): no retries and a short timeout, so a broken endpoint never stalls a rerun.

    Otherwise each request waits `first_byte_timeout` seconds (default `settings.first_byte_timeout()`)
    for its response headers, then the read timeout (300 s) between chunks of the body.
    """
    if quick:
        return openai.OpenAI(
            api_key=key.value,
            base_url=base_url or settings.base_url(),
            timeout=settings.QUICK_TIMEOUT,
            max_retries=0,
        )
    return openai.OpenAI(
        api_key=key.value,
        base_url=base_url or settings.base_url(),
        timeout=settings.REQUEST_TIMEOUT,
        max_retries=settings.MAX_RETRIES,
        http_client=_first_byte_client(first_byte_timeout or settings.first_byte_timeout()),
    )


# The request extension that holds a request's first-byte timeout until its headers arrive.
_FIRST_BYTE = "playground.first_byte_timeout"
_GAP = "playground.read_timeout"


def _first_byte_client(seconds: float) -> httpx2.Client:
    """An HTTP client whose requests wait `seconds` for response headers, then the usual read timeout.

    httpx has one read timeout for both, and the SDK's is the 300 s gap allowed between streamed
    chunks. The transport reads the timeout from the request's extensions at each read, so a hook
    sets it before the request is sent and puts the gap back once the headers are in.
    """

    def before(request: httpx2.Request) -> None:
        timeouts = request.extensions.get("timeout")
        if isinstance(timeouts, dict):
            request.extensions.setdefault(_GAP, timeouts.get("read"))
            request.extensions[_FIRST_BYTE] = seconds
            timeouts["read"] = seconds

    def after(response: httpx2.Response) -> None:
        extensions = response.request.extensions
        if extensions.pop(_FIRST_BYTE, None) is not None:
            extensions["timeout"]["read"] = extensions.pop(_GAP)

    return _HttpClient(event_hooks={"request": [before], "response": [after]})


class _HttpClient(openai.DefaultHttpxClient):
    """The SDK's default HTTP client, closed when dropped as the SDK closes its own: a client is
    built per use, and its pooled connections must not wait for the process to end."""

    def __del__(self) -> None:
        try:
            if not self.is_closed:
                self.close()
        except Exception:
            pass


@dataclass(frozen=True)
class FirstByteWait:
    """How long a request that never got its response headers waited, per attempt and in all."""

    seconds: float
    attempts: int

    def sentence(self) -> str:
        tries = f" on any of {self.attempts} attempts (about {_duration(self.seconds * self.attempts)} in all)"
        return (
            f"The API did not answer within {_duration(self.seconds)}{tries if self.attempts > 1 else ''}; "
            f"if it needs longer to start, as a local server loading a model may, raise "
            f"{settings.FIRST_BYTE_TIMEOUT_ENV}."
        )


def first_byte_wait(exc: BaseException) -> FirstByteWait | None:
    """What `exc` waited for, when it is the SDK giving up on a request that got no response headers."""
    if not isinstance(exc, openai.APITimeoutError) or not isinstance(exc.__cause__, httpx2.ReadTimeout):
        return None
    request = exc.request  # the last attempt's; its extensions lose the mark once headers arrive
    seconds = request.extensions.get(_FIRST_BYTE)
    if not isinstance(seconds, (int, float)):
        return None
    try:
        retries = int(request.headers.get("x-stainless-retry-count") or 0)
    except ValueError:
        retries = 0
    return FirstByteWait(float(seconds), retries + 1)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.3g} min" if seconds >= 120 else f"{seconds:.3g} s"


def redact(text: str, *secrets: str) -> str:
    """Remove secrets from text that may reach a screen, a log or the database."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return text


def owner_for(key: ApiKey | None, session: str | None = None, person: str | None = None) -> str:
    """Whose log rows a session sees.

    A person signed in (`person`: their email, as the sign-in gate admitted it, access.decide) owns
    what they make, whatever key they chat with: a deployment key, a key they typed (it does not
    change whose rows they see) or none. Nobody signed in: a key typed in the sidebar is a visitor's
    own, so their assistants and threads are theirs alone; a key from the environment or secrets
    belongs to the deployment and its team. With no key at all, a visitor's drafts belong to their
    browser session (`session`), so strangers on a public deployment never see each other's
    unfinished work; `Store.adopt` moves it into the key's log once they connect.
    """
    if person:
        return person.strip().lower()
    if key is not None and key.source == "sidebar":
        return f"key:{key.fingerprint}"
    if key is None and session:
        return f"session:{session}"
    return "local"
