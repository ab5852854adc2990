"""Messages placed into a thread by hand (`Store.place_message`): which of them a turn sends.

A placed message sets up a situation (a question the user did not type as a turn, or an answer the
model never gave) and goes upstream with the next turn, as history:

- the `chat` way resends the whole thread from the log every turn, so placed messages simply sit in
  it in order (`chat.history`);
- the `conversations` way keeps the thread upstream, so a turn sends only the placed messages
  upstream has not been given yet, as message items before the user's text.

"Not given yet" means placed after the newest message of the last accepted turn (completed, or ended
with function calls). A failed attempt does not count: a retry first deletes what it left upstream
(`Turn._forget_failed_attempt`) and so sends its placed messages again, and a new turn after a
failure sends them again rather than risk losing them (as everywhere here, a repeat is better than a
loss). A placed message never comes between a turn's function calls and their outputs, nor after a
failed message that is then retried: `Store.place_message` and `turn.retry` refuse those.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from playground.store import Message, Run, Store

ACCEPTED = ("completed", "requires_action")


def carried_through(messages: list[Message], runs: list[Run], before_run: int | None = None) -> int:
    """The id of the newest message upstream holds from accepted turns (those before run `before_run`,
    when given): the user message or reply of the last accepted turn; 0 when there is none."""
    accepted = {r.id: r for r in runs if r.status in ACCEPTED and (before_run is None or r.id < before_run)}
    ids = [r.user_message_id for r in accepted.values() if r.user_message_id is not None]
    ids += [m.id for m in messages if m.role == "assistant" and m.run_id in accepted]
    return max(ids, default=0)


def not_carried(store: Store, thread_id: int, before_message_id: int) -> list[Message]:
    """The placed messages a `conversations` turn for message `before_message_id` must send: placed
    before it and after everything the accepted turns carried upstream, oldest first."""
    messages = store.list_messages(thread_id)
    done = carried_through(messages, store.list_runs(thread_id, bodies=False))
    return [m for m in messages if m.placed and done < m.id < before_message_id]


def input_items(messages: list[Message]) -> list[dict[str, Any]]:
    """Placed messages as Responses input items. An assistant message's content is plain text (an
    `EasyInputMessage`): the API reads it as the model's earlier output, and refuses `input_text`
    parts on the assistant role."""
    items: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "assistant":
            items.append({"type": "message", "role": "assistant", "content": m.content})
        else:
            items.append({"type": "message", "role": m.role, "content": [{"type": "input_text", "text": m.content}]})
    return items


def sent_with(run: Run, messages: list[Message], runs: list[Run]) -> list[Message]:
    """The placed messages this run's request carried (for its trace), read back from the log and
    checked against the request as it was sent: on the `chat` way every placed message before the
    turn (unless the server's full context left its turn out), on the `conversations` way those
    upstream did not have yet."""
    if run.user_message_id is None or not run.request:
        return []
    try:
        request = json.loads(run.request)
    except ValueError:
        return []
    if not isinstance(request, dict):
        return []
    candidates = [m for m in messages if m.placed and m.id < run.user_message_id]
    if "input" in request:
        done = carried_through(messages, runs, before_run=run.id)
        candidates = [m for m in candidates if m.id > done]
        sent = Counter(_texts(request.get("input")))
    else:
        sent = Counter(_texts(request.get("messages")))
    out = []
    for m in candidates:
        if sent[(m.role, m.content)] > 0:
            sent[(m.role, m.content)] -= 1
            out.append(m)
    return out


def _texts(items: Any) -> list[tuple[str, str]]:
    """(role, text) of each message in a request's `input` or `messages`."""
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if not isinstance(item, dict) or item.get("type", "message") != "message" or "role" not in item:
            continue
        content = item.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text") or "" for p in content if isinstance(p, dict))
        if isinstance(content, str):
            out.append((str(item["role"]), content))
    return out
