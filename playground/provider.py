"""Which server the app talks to, which way it runs a turn there, and what that way can do.

Two ways of running a turn:

- `conversations`: OpenAI's Responses API with a server-side Conversation per thread. Only OpenAI
  (and some Azure resources) keep conversations.
- `chat`: Chat Completions, the API every OpenAI-compatible server speaks (Ollama, vLLM, LM Studio,
  llama.cpp, Gemini, OpenRouter, LiteLLM…). Nobody keeps the history there: the log does, and each
  turn resends it.

`PLAYGROUND_API` forces one. Unset, OpenAI's own host means `conversations`; for any other base URL
the first turn asks the server for a conversation (the probe): a 404, 405 or 501 means `chat`,
remembered per base URL and key for the life of the process; anything else (a 401, a 5xx, a refused
connection) is shown and nothing is remembered. A thread keeps the way it started with.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

WAYS = ("conversations", "chat")
API_ENV = "PLAYGROUND_API"


class NoConversations(Exception):
    """The server answered the probe with 404, 405 or 501: it keeps no conversations."""


class WayMismatch(Exception):
    """A turn that this way of running cannot take; the message says why and what to do."""


@dataclass(frozen=True)
class Capabilities:
    """What a way of running a turn can do, said before anything is sent."""

    keeps_history: bool  # upstream holds the thread (else the log resends it)
    hosted_tools: bool  # file search and the code interpreter run upstream

    def refusal(self, tool: str) -> str:
        return (
            f"{tool} runs only on OpenAI's Responses API; this server speaks Chat Completions, so turn "
            f"{tool.lower()} off for this assistant (or point OPENAI_BASE_URL at OpenAI)."
        )

    def refusal_for(self, config: Any) -> str | None:
        """Why a config (an AssistantConfig) cannot run this way: the first hosted tool it turns on
        that this way lacks; None when it can."""
        if self.hosted_tools:
            return None
        for tool, on in (
            ("File search", config.file_search.enabled),
            ("Code interpreter", config.code_interpreter.enabled),
        ):
            if on:
                return self.refusal(tool)
        return None


CAPABILITIES = {
    "conversations": Capabilities(keeps_history=True, hosted_tools=True),
    "chat": Capabilities(keeps_history=False, hosted_tools=False),
}


def forced_way() -> str | None:
    """`PLAYGROUND_API` when it names a way; None when unset. Raises ValueError for anything else."""
    value = os.environ.get(API_ENV, "").strip().lower()
    if not value:
        return None
    if value not in WAYS:
        raise ValueError(f"{API_ENV} is {value!r}; it takes conversations or chat.")
    return value


def is_openai(base_url: str | None) -> bool:
    """True for OpenAI's own host (also when no base URL is set)."""
    if not base_url:
        return True
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "api.openai.com"


_known: dict[tuple[str, str], str] = {}
_known_lock = threading.Lock()


def known_way(base_url: str | None, fingerprint: str) -> str | None:
    """The way already settled for this server and key: forced, OpenAI's host, or a probe's answer."""
    forced = forced_way()
    if forced:
        return forced
    if is_openai(base_url):
        return "conversations"
    with _known_lock:
        return _known.get((base_url or "", fingerprint))


def remember_way(base_url: str | None, fingerprint: str, way: str) -> None:
    """What the probe found, kept per base URL and key fingerprint (never the key) for this process."""
    with _known_lock:
        _known[(base_url or "", fingerprint)] = way


def forget_ways() -> None:
    with _known_lock:
        _known.clear()


# -- models ------------------------------------------------------------------------------------

# Ids that are not chat models: embeddings, speech, transcription, images, moderation, rerankers.
_NOT_CHAT = re.compile(
    r"(embed|whisper|tts|transcribe|dall-e|gpt-image|image-|moderation|rerank|davinci-00|babbage-00|sora)",
    re.IGNORECASE,
)


def chat_models(ids: list[str]) -> list[str]:
    """The ids a chat turn can use, in the server's order."""
    return [i for i in ids if not _NOT_CHAT.search(i)]


# OpenAI's families that do not reason: the API refuses reasoning effort for them.
_NO_REASONING = re.compile(r"^(gpt-3\.5|gpt-4o|gpt-4\.1|gpt-4(-|$)|chatgpt-)")
_REASONING = re.compile(r"^(o\d|gpt-5|gpt-oss)")


def takes_reasoning_effort(model: str) -> bool | None:
    """True for OpenAI's reasoning families, False for those known not to reason, None for a model
    the app cannot know (a local one): that one gets the setting, and a refusal names the field."""
    model = model.strip()
    if _NO_REASONING.match(model) or model.endswith("-chat-latest"):
        return False
    if _REASONING.match(model):
        return True
    return None


def runner(client: Any, base_url: str | None, fingerprint: str) -> Any:
    """The way to run turns on this server: the one already known, else Responses with the probe."""
    from playground.backend import ProbingBackend, ResponsesBackend  # they build on this module
    from playground.chat import ChatBackend

    way = known_way(base_url, fingerprint)
    if way == "chat":
        return ChatBackend(client)
    if way == "conversations":
        return ResponsesBackend(client)
    return ProbingBackend(client, base_url, fingerprint)
