"""Turn the SDK's exceptions, and the log's, into one short, specific sentence a person can act on."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2
import openai

from playground import provider
from playground.client import first_byte_wait, redact


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str

    def told(self, *secrets: str, before: str = "") -> str:
        """The sentence as a person reads it (screen, log, database): every secret cut out."""
        return redact(before + self.message, *secrets)


class LogError(Exception):
    """The SQLite log refused an operation; `problem` says why in one sentence naming the file."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class LimitReached(Exception):
    """A request the deployment's spending limits refuse (playground/limits.py); `problem` says which
    limit and when it resets, in one sentence."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


# The log's failures by SQLite's primary result code (the low byte of the extended one).
_SQLITE_KINDS = {5: "db_locked", 6: "db_locked", 8: "db_read_only", 13: "db_full", 11: "db_corrupt", 26: "db_corrupt"}
_SQLITE_KINDS |= {14: "db_unreachable", 10: "db_io", 3: "db_read_only"}  # CANTOPEN, IOERR, PERM
_OS_KINDS = {errno.ENOSPC: "db_full", errno.EDQUOT: "db_full", errno.EROFS: "db_read_only"}
_OS_KINDS |= {errno.EACCES: "db_read_only", errno.EPERM: "db_read_only"}


def log_problem(exc: BaseException, path: str | Path, *, waited: float | None = None) -> Problem | None:
    """The log's failure in one sentence, naming the file and what to do; None when it is not one
    (a bug, such as a constraint or a syntax error, stays an exception)."""
    kind = None
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        kind = _SQLITE_KINDS.get(code & 0xFF) if isinstance(code, int) else None
    elif isinstance(exc, OSError):
        kind = _OS_KINDS.get(exc.errno or 0, "db_unreachable")
    if kind is None:
        return None
    where = f"The log at {path}"
    sentences = {
        "db_locked": f"{where} is locked by another program (waited {waited or 0:g} s), so nothing was saved: "
        "try again in a moment, or close the other program.",
        "db_full": f"{where} is full (no space left on its disk, or the PLAYGROUND_DB_MAX_MB cap), so nothing "
        "was saved: free some space, then try again.",
        "db_read_only": f"{where} is read-only, so nothing can be saved: make the file and its folder writable "
        "(or point PLAYGROUND_DB at a writable file) and reload.",
        "db_corrupt": f"{where} is damaged or not a SQLite database: move it aside (or point PLAYGROUND_DB at "
        "another file) and reload.",
        "db_unreachable": f"{where} cannot be opened ({_reason(exc)}): point PLAYGROUND_DB at a file in a "
        "writable folder and reload.",
        "db_io": f"{where} could not be read or written (a disk error), so nothing was saved: check the disk, "
        "then try again.",
    }
    return Problem(kind, sentences[kind])


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def opened_for_reading(kind: str, path: str | Path, *, by_setting: bool = False) -> Problem:
    """Why the log was opened for reading only, and what to do: shown above every page."""
    where = f"The log at {path}"
    if kind == "db_locked":
        return Problem(
            kind,
            f"{where} is locked by another program, so it is shown for reading and what you change now may "
            "not be saved: close the other program, or reload in a moment.",
        )
    why = " (PLAYGROUND_DB_READ_ONLY is set)" if by_setting else ""
    todo = "unset PLAYGROUND_DB_READ_ONLY" if by_setting else "make the file and its folder writable"
    return Problem(
        "db_read_only",
        f"{where} is read-only{why}, so it is shown for reading and nothing can be saved: {todo} and reload.",
    )


def needs_upgrade(path: str | Path, pending: Sequence[str], cause: Problem) -> Problem:
    """A log too old for this app that cannot be upgraded now (read-only or locked); `pending` names
    the migrations it still needs, oldest first."""
    state = "locked by another program" if cause.kind == "db_locked" else "read-only"
    named = ", ".join(pending[:3]) + (f" and {len(pending) - 3} more" if len(pending) > 3 else "")
    return Problem(
        cause.kind,
        f"The log at {path} needs upgrading (pending migrations {named}) but is {state}: "
        "make it writable (or close the other program) and reload.",
    )


# An endpoint a server lacks (most servers other than OpenAI's have no Conversations, many no Responses).
_APIS = {
    "/conversations": "Conversations",
    "/responses": "Responses",
    "/models": "model list",
}


def _missing_api(exc: openai.NotFoundError) -> str | None:
    """The sentence for a 404 on a whole API (not on one id), naming the setting to change."""
    try:
        path = exc.request.url.path.rstrip("/")
    except Exception:
        return None
    # A 404 about a resource (a model that does not exist) carries its own message; a route the server
    # lacks answers "Not Found" (FastAPI), "404 page not found" (Go) or OpenAI's "Invalid URL (…)".
    body = exc.body if isinstance(exc.body, dict) else {}
    said = str(body.get("message") or body.get("detail") or body.get("error") or exc.body or "").strip().lower()
    if said and said not in ("not found", "404 page not found") and not said.startswith("invalid url"):
        return None
    for suffix, name in _APIS.items():
        if path.endswith(suffix):
            if name == "model list":
                return "This server does not list its models (404 on /models): type the model id in the picker."
            return (
                f"This server has no {name} API (404 on {suffix}), which this app needs to run a turn: it "
                "probably speaks only Chat Completions (as Ollama, vLLM, LM Studio and llama.cpp do). Point "
                "OPENAI_BASE_URL at a server with Responses and Conversations, such as OpenAI's."
            )
    return None


def say(exc: BaseException, *secrets: str, before: str = "") -> str:
    """A failure in one sentence, ready to show or keep: `describe`, then the secrets cut out."""
    return describe(exc).told(*secrets, before=before)


def describe(exc: BaseException) -> Problem:
    """One sentence per failure class. The key is never part of it (see `client.redact`)."""
    if isinstance(exc, LogError | LimitReached):
        return exc.problem
    if isinstance(exc, provider.WayMismatch):
        return Problem("way", str(exc))
    # Order matters: subclasses before their parents (APITimeoutError is an APIConnectionError).
    if isinstance(exc, openai.AuthenticationError):
        return Problem("auth", "The API key was rejected (401). Check it in the sidebar.")
    if isinstance(exc, openai.PermissionDeniedError):
        return Problem(
            "permission",
            "This key may not use that model or resource (403). Pick another model or check the "
            "key's project permissions.",
        )
    if isinstance(exc, openai.NotFoundError):
        if "conversation" in _text(exc).lower():
            return Problem(
                "conversation_gone",
                "This thread's conversation no longer exists upstream (404). Start a new thread.",
            )
        missing = _missing_api(exc)
        if missing:
            return Problem("api_missing", missing)
        return Problem("not_found", f"Not found (404): {_text(exc)}")
    if isinstance(exc, openai.BadRequestError):
        param = getattr(exc, "param", None)
        where = f" in `{param}`" if param else ""
        return Problem("bad_request", f"The request was refused{where} (400): {_text(exc)}")
    if isinstance(exc, openai.RateLimitError):
        if getattr(exc, "code", None) == "insufficient_quota":
            return Problem("quota", "This key has run out of quota (429). Check billing.")
        return Problem("rate_limit", "Rate limited (429) after retrying. Wait a moment and retry.")
    if isinstance(exc, openai.InternalServerError):
        return Problem("server", f"The API had an error ({exc.status_code}) after retrying. Retry shortly.")
    if isinstance(exc, openai.APIStatusError):
        return Problem("status", f"The API answered {exc.status_code}: {_text(exc)}")
    if isinstance(exc, openai.APITimeoutError):
        waited = first_byte_wait(exc)  # no response headers in time: a hung upstream
        if waited is not None:
            return Problem("timeout", waited.sentence())
        return Problem("timeout", "The API did not answer in time. Retry, or pick a faster model.")
    if isinstance(exc, (openai.APIConnectionError, httpx2.TransportError)):
        return Problem("connection", "Could not reach the API (connection lost). Check the base URL and retry.")
    if isinstance(exc, ValueError) and "json" in type(exc).__name__.lower():
        return Problem("malformed", "The API sent a reply the app could not read (malformed stream). Retry.")
    if isinstance(exc, openai.OpenAIError):
        return Problem("api", f"The API reported an error: {_text(exc)}")
    return Problem("internal", f"Something went wrong in the app: {type(exc).__name__}.")


def _text(exc: BaseException) -> str:
    """The upstream's own message, without the SDK's "Error code: N - {...}" wrapping."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    message = getattr(exc, "message", None) or str(exc)
    return message
