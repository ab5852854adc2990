"""The upstream API behind a small interface, so other backends can come without touching pages.

Today there is one: `ResponsesBackend` (Responses + Conversations). A Chat-Completions backend or a
legacy Assistants-v2 one for compatible servers would implement the same three calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import openai


@dataclass
class StreamHandle:
    """An open upstream stream: its events, the upstream request id, and a way to stop it."""

    events: Iterator[Any]
    request_id: str | None = None
    _close: Any = field(default=None, repr=False)

    def close(self) -> None:
        if self._close is not None:
            self._close()


class Backend(Protocol):
    def list_models(self) -> list[str]: ...

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str: ...

    def stream(self, request: dict[str, Any]) -> StreamHandle: ...

    def delete_conversation_items(self, conversation_id: str, item_ids: list[str]) -> None: ...

    def recent_items(self, conversation_id: str, limit: int = 10) -> list[Any]: ...


class ResponsesBackend:
    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client

    def list_models(self) -> list[str]:
        return sorted(m.id for m in self.client.models.list())

    def create_conversation(self, metadata: dict[str, str] | None = None) -> str:
        return self.client.conversations.create(metadata=metadata or {}).id

    def stream(self, request: dict[str, Any]) -> StreamHandle:
        stream = self.client.responses.create(**{**request, "stream": True})
        return StreamHandle(iter(stream), stream.response.headers.get("x-request-id"), stream.close)

    def recent_items(self, conversation_id: str, limit: int = 10) -> list[Any]:
        page = self.client.conversations.items.list(conversation_id, order="desc", limit=limit)
        return list(page.data)

    def delete_conversation_items(self, conversation_id: str, item_ids: list[str]) -> None:
        for item_id in item_ids:
            self.client.conversations.items.delete(item_id, conversation_id=conversation_id)
