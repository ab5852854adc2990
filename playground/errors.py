"""Turn the SDK's exceptions into one short, specific sentence a person can act on."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2
import openai

from playground.client import redact


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str

    def told(self, *secrets: str, before: str = "") -> str:
        """The sentence as a person reads it (screen, log, database): every secret cut out."""
        return redact(before + self.message, *secrets)


def say(exc: BaseException, *secrets: str, before: str = "") -> str:
    """A failure in one sentence, ready to show or keep: `describe`, then the secrets cut out."""
    return describe(exc).told(*secrets, before=before)


def describe(exc: BaseException) -> Problem:
    """One sentence per failure class. The key is never part of it (see `client.redact`)."""
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
