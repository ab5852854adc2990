"""The upstream API behind a small interface, so other backends can come without touching pages.

Today there is one: `ResponsesBackend` (Responses + Conversations). A backend shapes the request
for a turn (`request`, kept in the trace as sent) and streams the reply as the few neutral events
below, so the turn engine and the pages never see an API's own event types. A Chat-Completions
backend (keeping the history itself) or a legacy Assistants-v2 one for compatible servers would
implement the same calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import openai
import pydantic
from openai.types import conversations, responses

from playground import provider
from playground import request as request_map
from playground.assistant import AssistantConfig

# -- what a stream yields -------------------------------------------------------------------------


@dataclass
class Created:
    """Upstream accepted the request and named its response."""

    response_id: str


@dataclass
class Delta:
    """Text of the reply (or of a refusal)."""

    text: str


@dataclass
class Call:
    """A function call the model made, complete with its arguments."""

    call_id: str
    name: str
    arguments: str


@dataclass
class Finished:
    """The response ended: completed, incomplete (`reason`), or failed (`reason`)."""

    status: str
    response_id: str
    usage: dict[str, int]
    last_item_id: str | None
    record: str  # the whole response as JSON, for the trace
    reason: str | None = None


@dataclass
class StreamError:
    """The stream reported an error in-band (the SDK does not raise it: openai-python #2487)."""

    message: str


UpstreamEvent = Created | Delta | Call | Finished | StreamError


@dataclass
class StreamHandle:
    """An open upstream stream: its events, the upstream request id, and a way to stop it."""

    events: Iterator[UpstreamEvent]
    request_id: str | None = None
    _close: Any = field(default=None, repr=False)

    def close(self) -> None:
        if self._close is not None:
            self._close()


class Runner(Protocol):
    """What a turn needs of a way of running it (`ResponsesBackend`, `chat.ChatBackend`)."""

    way: str
    capabilities: provider.Capabilities
    client: openai.OpenAI

    def request(
        self,
        config: AssistantConfig,
        conversation_id: str,
        *,
        text: str | None = None,
        outputs: dict[str, str] | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]: ...

    def stream(self, request: dict[str, Any]) -> StreamHandle: ...


class Backend(Runner, Protocol):
    """The Responses way, with conversations and the hosted files it administers."""

    def list_models(self) -> dict[str, str | None]: ...

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str: ...

    def delete_conversation_items(self, conversation_id: str, item_ids: list[str]) -> None: ...

    def recent_items(self, conversation_id: str, limit: int = 10) -> list[Any]: ...

    def upload_file(self, filename: str, data: bytes, mime: str | None = None) -> str: ...

    def delete_file(self, file_id: str) -> None: ...

    def create_vector_store(self, name: str) -> str: ...

    def attach_file(self, vector_store_id: str, file_id: str) -> tuple[str, str | None]: ...

    def file_status(self, vector_store_id: str, file_id: str) -> tuple[str, str | None]: ...

    def detach_file(self, vector_store_id: str, file_id: str) -> None: ...

    def container_file(self, container_id: str, file_id: str) -> bytes: ...

    def list_vector_stores(self, limit: int = 100) -> list[dict[str, Any]]: ...

    def list_vector_store_files(self, vector_store_id: str, limit: int = 100) -> list[dict[str, Any]]: ...

    def file_name(self, file_id: str) -> str: ...


_built = threading.Event()
_build_lock = threading.Lock()


def build_sdk_models() -> None:
    """Build the SDK's Responses and Conversations models once per process, under a lock.

    The SDK defers building its pydantic models to first use. Two sessions streaming for the first
    time at once can read a half-built schema, and the SDK then hands back plain dicts instead of
    events (seen in tests/test_durability.py with 8 concurrent sessions). Building them up front,
    once, costs about 0.3 s.
    """
    if _built.is_set():
        return
    with _build_lock:
        if _built.is_set():
            return
        for module in (responses, conversations):
            for name in dir(module):
                model = getattr(module, name)
                if isinstance(model, type) and issubclass(model, pydantic.BaseModel):
                    model.model_rebuild()
        _built.set()


class ResponsesBackend:
    way = "conversations"
    capabilities = provider.CAPABILITIES["conversations"]

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client
        build_sdk_models()

    def list_models(self) -> dict[str, str | None]:
        """Model ids, sorted, each with its announced shutdown date (None when none is)."""
        return {m.id: m.shutdown_date for m in sorted(self.client.models.list(), key=lambda m: m.id)}

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str:
        return self.client.conversations.create(metadata=metadata or {}).id

    def request(
        self,
        config: AssistantConfig,
        conversation_id: str,
        *,
        text: str | None = None,
        outputs: dict[str, str] | None = None,
        history: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The Responses body for one turn: the user's text, or the outputs of the model's calls.
        Upstream keeps the thread, so `history` holds only what it has not been given yet (messages
        placed by hand, as input items): sent before the text, or after the outputs, which must
        answer the calls first."""
        if outputs:
            items = [{"type": "function_call_output", "call_id": c, "output": o} for c, o in outputs.items()]
            items += history or []
        else:
            items = [*(history or []), *request_map.user_message(text or "")]
        return request_map.build(config, input=items, conversation_id=conversation_id)

    def stream(self, request: dict[str, Any]) -> StreamHandle:
        stream = self.client.responses.create(**{**request, "stream": True})
        return StreamHandle(_events(stream), stream.response.headers.get("x-request-id"), stream.close)

    def recent_items(self, conversation_id: str, limit: int = 10) -> list[Any]:
        page = self.client.conversations.items.list(conversation_id, order="desc", limit=limit)
        return list(page.data)

    def delete_conversation_items(self, conversation_id: str, item_ids: list[str]) -> None:
        for item_id in item_ids:
            self.client.conversations.items.delete(item_id, conversation_id=conversation_id)

    # -- files, vector stores, containers -----------------------------------------------------

    def upload_file(self, filename: str, data: bytes, mime: str | None = None) -> str:
        upload = (filename, data, mime) if mime else (filename, data)
        return self.client.files.create(file=upload, purpose="assistants").id

    def delete_file(self, file_id: str) -> None:
        self.client.files.delete(file_id)

    def create_vector_store(self, name: str) -> str:
        return self.client.vector_stores.create(name=name).id

    def attach_file(self, vector_store_id: str, file_id: str) -> tuple[str, str | None]:
        f = self.client.vector_stores.files.create(vector_store_id=vector_store_id, file_id=file_id)
        return f.status, getattr(f.last_error, "message", None)

    def file_status(self, vector_store_id: str, file_id: str) -> tuple[str, str | None]:
        f = self.client.vector_stores.files.retrieve(file_id, vector_store_id=vector_store_id)
        return f.status, getattr(f.last_error, "message", None)

    def detach_file(self, vector_store_id: str, file_id: str) -> None:
        self.client.vector_stores.files.delete(file_id, vector_store_id=vector_store_id)

    def container_file(self, container_id: str, file_id: str) -> bytes:
        return self.client.containers.files.content.retrieve(file_id, container_id=container_id).read()

    def list_vector_stores(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` vector stores of the key's project: id, name, status, file count."""
        page = self.client.vector_stores.list(limit=limit, order="desc")
        return [
            {"id": s.id, "name": s.name or "", "status": s.status, "files": s.file_counts.total}
            for s in page.data  # one page: enough to pick from, and one request
        ]

    def list_vector_store_files(self, vector_store_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The newest `limit` files of a vector store: file id, status, and the indexing error if any."""
        page = self.client.vector_stores.files.list(vector_store_id, limit=limit, order="desc")
        return [
            {"file_id": f.id, "status": f.status, "error": getattr(f.last_error, "message", None)} for f in page.data
        ]

    def file_name(self, file_id: str) -> str:
        return self.client.files.retrieve(file_id).filename


def _events(stream: Any) -> Iterator[UpstreamEvent]:
    """The Responses stream as neutral events; events a turn has no use for are skipped."""
    for event in stream:
        kind = getattr(event, "type", None)
        if kind in ("response.output_text.delta", "response.refusal.delta"):
            yield Delta(event.delta)
        elif kind == "response.created":
            yield Created(event.response.id)
        elif kind == "response.output_item.done" and event.item.type == "function_call":
            yield Call(event.item.call_id, event.item.name, event.item.arguments)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            yield _finished(event.response)
        elif kind == "error":
            yield StreamError(event.message)
            return


def _finished(response: Any) -> Finished:
    usage = response.usage
    reason = None
    if response.status == "incomplete":
        reason = getattr(response.incomplete_details, "reason", None) or "unknown"
    elif response.status != "completed":
        reason = getattr(response.error, "message", None) or "no reason given"
    return Finished(
        status=response.status if response.status in ("completed", "incomplete") else "failed",
        response_id=response.id,
        usage={
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "total_tokens": usage.total_tokens,
        }
        if usage is not None
        else {},
        last_item_id=response.output[-1].id if response.output else None,
        record=response.model_dump_json(exclude_none=True),
        reason=reason,
    )


class ProbingBackend(ResponsesBackend):
    """The Responses way on a server not yet known to keep conversations: its first conversation
    create is the probe. A 404, 405 or 501 means the server has none (most servers other than
    OpenAI's), which is remembered for this base URL and key, and `provider.NoConversations` tells
    the turn to run over Chat Completions instead; a success means conversations, and that
    conversation is the thread's."""

    def __init__(self, client: openai.OpenAI, base_url: str | None, fingerprint: str) -> None:
        super().__init__(client)
        self._server = (base_url, fingerprint)

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str:
        try:
            conversation = super().create_conversation(metadata)
        except openai.APIStatusError as exc:
            if exc.status_code in (404, 405, 501):
                provider.remember_way(*self._server, "chat")
                raise provider.NoConversations() from exc
            raise  # a 401, a 5xx: said as it is, and nothing is remembered
        provider.remember_way(*self._server, "conversations")
        return conversation
