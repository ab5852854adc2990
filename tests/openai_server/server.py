"""A local OpenAI-compatible server: the part of the API the app uses, over real HTTP.

Tests point the real `openai` SDK at it with `base_url`, script its replies (text, timing, function
calls, file_search and code_interpreter calls) and inject faults (status codes, timeouts, a cut stream,
an `error` event, `response.failed`, `response.incomplete`, malformed SSE). It also keeps files, vector
stores (whose files go `in_progress` -> `completed`/`failed` as they are polled) and code interpreter
containers in memory. Each JSON request body is checked against the official
OpenAPI spec when ../shared/spec is present; a body that breaks it is refused with 400 and kept in
`violations`, so the test that sent it fails.

Run it by hand to try the app without a key: `python -m tests.openai_server --port 8765`.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import itertools
import json
import mimetypes
import re
import socket
import struct
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.openai_server import chat
from tests.openai_server import spec as spec_module

# Each with its announced shutdown date, as upstream's model list gives it (dates from openai 3.54).
MODELS = {
    "gpt-4.1": "2027-01-14",
    "gpt-4.1-mini": "2027-01-14",
    "gpt-4.1-nano": "2026-10-23",
    "gpt-4o": "2027-01-14",
    "gpt-4o-mini": "2027-01-14",
    "gpt-5": "2026-12-11",
    "gpt-5-mini": "2026-12-11",
    "gpt-5.4-mini": None,
    "gpt-5.5": None,
    "o3": "2026-12-11",
    "o4-mini": "2026-10-23",
}
# What a local server (Ollama here) lists: no shutdown dates, and an embedding model among the chat ones.
LOCAL_MODELS = {"llama3.2:3b": None, "qwen2.5:7b-instruct": None, "nomic-embed-text:latest": None}
# The ways a server can speak: "all" is OpenAI's; "chat" is Chat Completions only (no Responses, no
# Conversations), as Ollama, vLLM, LM Studio, llama.cpp and Gemini's endpoint are for this app.
APIS = ("all", "chat")


@dataclass
class Reply:
    """One scripted answer to the next `POST /v1/responses` (or to `path`, when given).

    Text: `text` (split into word chunks) or `chunks`; timing: `delay` before the response headers
    (a hung upstream; with `times`, on each of the SDK's retries too),
    `ttft` before the first delta, `gap` between deltas. `function_calls`: [{name, arguments}].
    Faults: `status` + `error` (an HTTP error, repeated for `times` requests, so SDK retries see it
    too); `cut_after`, `error_event_after`, `fail_after`, `incomplete_after`, `malformed_after`:
    after that many deltas, cut the connection / send an `error` event / `response.failed` /
    `response.incomplete` / a line that is not JSON.
    `match`: answer only a request whose JSON body holds this text (e.g. one case's input), so replies
    can be scripted per case when requests run in parallel and arrive in any order.

    Built-in tools, each an output item before the message (file_search first), then the message:
    `file_search`: {queries: [str], results?: [{file_id, filename, score, text}]}; without `results`
    the request's file_search vector stores are searched. The message cites each result's file.
    `code_interpreter`: {code: str, logs?: str, image?: bool, files?: [{filename, content}]}; the
    files (and `plot.png` when `image`) land in the call's container and the message cites them.
    """

    text: str | None = None
    chunks: list[str] | None = None
    function_calls: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    ttft: float = 0.0
    gap: float = 0.0
    usage: dict[str, int] | None = None
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    cut_after: int | None = None
    error_event_after: int | None = None
    fail_after: int | None = None
    incomplete_after: int | None = None
    malformed_after: int | None = None
    path: str = "/responses"
    match: str | None = None
    file_search: dict[str, Any] | None = None
    code_interpreter: dict[str, Any] | None = None

    @classmethod
    def of(cls, value: Reply | dict[str, Any]) -> Reply:
        if isinstance(value, Reply):
            return value
        known = {f.name for f in fields(cls)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown reply keys: {sorted(unknown)}")
        for name, allowed in _TOOL_KEYS.items():
            spec = value.get(name)
            if spec is None:
                continue
            if not isinstance(spec, dict):
                raise ValueError(f"reply key {name!r} takes a dict, not {type(spec).__name__}")
            if set(spec) - allowed:
                raise ValueError(f"unknown {name} keys: {sorted(set(spec) - allowed)}")
        return cls(**value)


_TOOL_KEYS = {"file_search": {"queries", "results"}, "code_interpreter": {"code", "logs", "image", "files"}}


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _png() -> bytes:
    """A real 2x2 RGB PNG: what a code interpreter plot is downloaded as."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    pixels = b"".join(b"\x00" + b"\x1f\x77\xb4\xff\x7f\x0e" for _ in range(2))  # filter byte + 2 pixels
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


PNG = _png()
CORRUPT_ERROR = {"code": "invalid_file", "message": "The file could not be parsed."}
STATIC_CHUNKING = {"type": "static", "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}}


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+\s*", text) or [text]


class OpenAIServer:
    """Start with `.start()` (or as a context manager); `.base_url` ends in /v1."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        validate: bool = True,
        indexing_polls: int = 2,
        api: str = "all",
        models: dict[str, str | None] | None = None,
    ) -> None:
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}, not {api!r}")
        self.host = host
        self.port = port
        self.api = api
        self.models = models if models is not None else (LOCAL_MODELS if api == "chat" else MODELS)
        self._indexing_polls = indexing_polls
        self._spec = spec_module.load() if validate else None
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def spec_loaded(self) -> bool:
        return self._spec is not None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> OpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = _QuietServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="openai-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests use -----------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.requests: list[dict[str, Any]] = []
            self.violations: list[str] = []
            self.first_delta_at: list[float] = []  # when each reply's first text delta was written
            self.conversations: dict[str, dict[str, Any]] = {}
            self.responses: dict[str, dict[str, Any]] = {}
            # Uploaded files: the FileObject fields plus `content` (the bytes).
            self.files: dict[str, dict[str, Any]] = {}
            # Vector stores: their fields plus `files` {file_id: record}; a record counts its `reads`.
            self.vector_stores: dict[str, dict[str, Any]] = {}
            self.file_batches: dict[str, dict[str, Any]] = {}
            # Containers: their fields plus `files` {cfile id: container file fields plus `content`}.
            self.containers: dict[str, dict[str, Any]] = {}
            # A vector-store file reads `in_progress` this many times (GETs of it, of a list, store or
            # batch holding it), then `completed` (`failed` when its filename contains "corrupt").
            self.indexing_polls = self._indexing_polls
            # Sent as `openai-poll-after-ms`, so the SDK's *_and_poll helpers poll fast.
            self.poll_after_ms = 10
            # Chat Completions: whether a stream ends with the usage chunk `include_usage` asks for
            # (llama.cpp and some gateways never send one).
            self.sends_usage = True
            # Chat Completions: the model's context, in characters of `messages` (4 to a token); longer
            # requests are refused as upstream refuses them. None: no limit.
            self.context_chars: int | None = None
            # Turn requests (POST /responses, /chat/completions) being answered now, and the most at once.
            self.in_flight = 0
            self.max_in_flight = 0
            self._generation = getattr(self, "_generation", 0) + 1  # a request from before a reset counts in none
            self._script: deque[Reply] = deque()
            self._seq = itertools.count(1)

    def script(self, *replies: Reply | dict[str, Any]) -> None:
        """Queue replies; each answers the next request to its path (default: POST /v1/responses)."""
        with self._lock:
            self._script.extend(Reply.of(r) for r in replies)

    def next_reply(self, method: str, path: str, body: Any = None) -> Reply | None:
        with self._lock:
            for reply in self._script:
                # A reply for /responses answers the next turn, whichever API the client speaks.
                turn = reply.path == "/responses" and path.endswith("/chat/completions")
                if reply.match is not None and reply.match not in json.dumps(body, ensure_ascii=False):
                    continue
                if (path.endswith(reply.path) or turn) and (method == "POST" or reply.path != "/responses"):
                    reply.times -= 1
                    if reply.times <= 0:
                        self._script.remove(reply)
                    return reply
            return None

    def items(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.conversations[conversation_id]["items"])

    # -- files, vector stores, containers (also for tests to seed state without HTTP) ------------

    def add_file(self, filename: str, content: bytes, purpose: str = "assistants") -> dict[str, Any]:
        now = int(time.time())
        record = {
            "id": "file-" + uuid.uuid4().hex[:22],
            "object": "file",
            "bytes": len(content),
            "created_at": now,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "content": content,
        }
        with self._lock:
            self.files[record["id"]] = record
        return record

    def file(self, file_id: str) -> dict[str, Any]:
        record = self.files.get(file_id)
        if record is None:
            raise _NotFound(f"No such File object: {file_id}")
        return record

    def vector_store(self, vector_store_id: str) -> dict[str, Any]:
        store = self.vector_stores.get(vector_store_id)
        if store is None:
            raise _NotFound(f"Vector store with id '{vector_store_id}' not found.")
        return store

    def container(self, container_id: str) -> dict[str, Any]:
        container = self.containers.get(container_id)
        if container is None:
            raise _NotFound(f"Container with id '{container_id}' not found.")
        return container

    def create_vector_store(self, name: str = "", file_ids: Sequence[str] = (), **fields_: Any) -> dict[str, Any]:
        with self._lock:
            for file_id in file_ids:
                self.file(file_id)
            now = int(time.time())
            store = {
                "id": _id("vs"),
                "object": "vector_store",
                "created_at": now,
                "name": name,
                "metadata": fields_.get("metadata") or {},
                "expires_after": fields_.get("expires_after"),
                "last_active_at": now,
                "files": {},
            }
            for file_id in file_ids:
                self.attach(store, file_id, chunking_strategy=fields_.get("chunking_strategy"))
            self.vector_stores[store["id"]] = store
            return store

    def attach(
        self,
        store: dict[str, Any],
        file_id: str,
        attributes: dict[str, Any] | None = None,
        chunking_strategy: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            file = self.file(file_id)
            if file_id in store["files"]:
                return store["files"][file_id]
            if chunking_strategy and chunking_strategy.get("type") == "static":
                chunking = chunking_strategy
            else:
                chunking = STATIC_CHUNKING
            record = {
                "id": file_id,
                "object": "vector_store.file",
                "created_at": int(time.time()),
                "vector_store_id": store["id"],
                "attributes": attributes or {},
                "chunking_strategy": chunking,
                "reads": 0,
                "outcome": "failed" if "corrupt" in file["filename"].lower() else "completed",
            }
            store["files"][file_id] = record
            store["last_active_at"] = int(time.time())
            return record

    def file_status(self, record: dict[str, Any], read: bool = False) -> str:
        """A vector-store file's status now; `read` counts this look as one of its polls."""
        with self._lock:
            status = record["outcome"] if record["reads"] >= self.indexing_polls else "in_progress"
            if read:
                record["reads"] += 1
            return status

    def vector_store_file_view(self, record: dict[str, Any], read: bool = False) -> dict[str, Any]:
        status = self.file_status(record, read)
        size = self.files[record["id"]]["bytes"] if record["id"] in self.files else 0
        return {
            "id": record["id"],
            "object": "vector_store.file",
            "created_at": record["created_at"],
            "vector_store_id": record["vector_store_id"],
            "status": status,
            "usage_bytes": size if status == "completed" else 0,
            "last_error": dict(CORRUPT_ERROR) if status == "failed" else None,
            "attributes": record["attributes"],
            "chunking_strategy": record["chunking_strategy"],
        }

    def vector_store_view(self, store: dict[str, Any], read: bool = False) -> dict[str, Any]:
        with self._lock:
            views = [self.vector_store_file_view(r, read) for r in store["files"].values()]
        counts = _file_counts(views)
        expires = store.get("expires_after")
        view = {
            "id": store["id"],
            "object": "vector_store",
            "created_at": store["created_at"],
            "name": store["name"],
            "usage_bytes": sum(v["usage_bytes"] for v in views),
            "file_counts": counts,
            "status": "in_progress" if counts["in_progress"] else "completed",
            "expires_at": store["last_active_at"] + expires["days"] * 86400 if expires else None,
            "last_active_at": store["last_active_at"],
            "metadata": store["metadata"],
        }
        if expires:
            view["expires_after"] = expires
        return view

    def search(
        self,
        vector_store_ids: list[str],
        queries: list[str],
        max_num_results: int | None = None,
        score_threshold: float = 0.0,
    ) -> list[dict[str, Any]]:
        """The `completed` files of these stores, files holding a query word first (score 0..1)."""
        words = {w.lower() for q in queries for w in re.findall(r"\w+", q)}
        results: list[dict[str, Any]] = []
        seen: set[str] = set()
        with self._lock:
            stores = [self.vector_store(i) for i in vector_store_ids]
            for store in stores:
                store["last_active_at"] = int(time.time())
                for record in store["files"].values():
                    if record["id"] in seen or record["id"] not in self.files:
                        continue
                    if self.file_status(record) != "completed":
                        continue
                    seen.add(record["id"])
                    file = self.files[record["id"]]
                    text = file["content"].decode("utf-8", errors="ignore")
                    found = words & {w.lower() for w in re.findall(r"\w+", text)}
                    score = 0.5 + 0.5 * len(found) / len(words) if found else 0.1
                    results.append(
                        {
                            "file_id": file["id"],
                            "filename": file["filename"],
                            "score": round(score, 4),
                            "text": text[:300],
                            "attributes": record["attributes"],
                        }
                    )
        results.sort(key=lambda r: -r["score"])  # stable: attach order among equals
        results = [r for r in results if r["score"] >= score_threshold]
        return results[:max_num_results] if max_num_results else results

    def create_container(
        self, name: str, file_ids: Sequence[str] = (), memory_limit: str | None = None, **fields_: Any
    ) -> dict[str, Any]:
        with self._lock:
            files = [self.file(i) for i in file_ids]
            now = int(time.time())
            container = {
                "id": "cntr_" + uuid.uuid4().hex,
                "object": "container",
                "name": name,
                "created_at": now,
                "status": "running",
                "expires_after": fields_.get("expires_after") or {"anchor": "last_active_at", "minutes": 20},
                "last_active_at": now,
                "memory_limit": memory_limit or "1g",
                "files": {},
            }
            self.containers[container["id"]] = container
            for file in files:
                self.add_container_file(container, file["filename"], file["content"], "user")
            return container

    def add_container_file(
        self, container: dict[str, Any], filename: str, content: bytes, source: str
    ) -> dict[str, Any]:
        record = {
            "id": "cfile_" + uuid.uuid4().hex,
            "object": "container.file",
            "container_id": container["id"],
            "bytes": len(content),
            "created_at": int(time.time()),
            "path": filename if filename.startswith("/") else f"/mnt/data/{filename}",
            "source": source,
            "content": content,
        }
        with self._lock:
            container["files"][record["id"]] = record
            container["last_active_at"] = int(time.time())
        return record


class _Handler(BaseHTTPRequestHandler):
    owner: OpenAIServer
    protocol_version = "HTTP/1.1"  # keep-alive, and chunked streams whose cut the client can see

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read `requests` instead
        pass

    # -- plumbing -----------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        form: dict[str, Any] | None = None
        content_type = self.headers.get("Content-Type") or ""
        if url.path.startswith("/_control/"):
            # Read as JSON whatever the header says: `curl -d` sends a form content type.
            try:
                body = json.loads(raw) if raw.strip() else None
            except ValueError as exc:
                return self._error(400, f"The control body is not JSON ({exc}); send a reply object or a list.")
            return self._control(method, url.path, body)
        if raw and "json" in content_type:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._error(400, "We could not parse the JSON body of your request.")
        elif raw and content_type.startswith("multipart/form-data"):
            form = _parse_form(content_type, raw)
            if form is None:
                return self._error(400, "We could not parse the multipart/form-data body of your request.")
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path
        owner = self.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        with owner._lock:
            logged = body if form is None else {k: _form_summary(v) for k, v in form.items()}
            owner.requests.append({"method": method, "path": path, "query": query, "headers": headers, "body": logged})
        if not path.startswith("/v1/"):
            return self._error(404, f"Unknown path {path}.")
        api_path = path[3:]
        if owner._spec is not None and body is not None:
            problems = owner._spec.problems(method, api_path, body)
            if problems:
                with owner._lock:
                    owner.violations.extend(problems)
                return self._error(400, "Request does not match the OpenAI spec: " + "; ".join(problems[:3]))
        if not (self.headers.get("Authorization") or "").startswith("Bearer "):
            return self._error(401, "You didn't provide an API key.", code="missing_api_key")
        reply = owner.next_reply(method, api_path, body)
        turn = method == "POST" and api_path in ("/responses", "/chat/completions")
        if turn:
            with owner._lock:
                generation = owner._generation
                owner.in_flight += 1
                owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            if reply is not None and reply.delay:
                time.sleep(reply.delay)
            if reply is not None and reply.status >= 400:
                error = {"message": "error", "type": "invalid_request_error", "param": None, "code": None}
                error.update(reply.error or {})
                headers = {"retry-after-ms": "10", **reply.headers}
                return self._json(reply.status, {"error": error}, headers)
            try:
                self._route(method, api_path, query, form if form is not None else body or {}, reply)
            except _NotFound as exc:
                self._error(404, str(exc))
            except _BadRequest as exc:
                self._error(400, str(exc), code=exc.code, param=exc.param)
        finally:
            if turn:
                with owner._lock:
                    if owner._generation == generation:
                        owner.in_flight -= 1

    def _route(self, method: str, path: str, query: dict[str, str], body: dict, reply: Reply | None) -> None:
        parts = path.strip("/").split("/")
        if parts[0] in ("assistants", "threads"):
            raise _NotFound("The Assistants API was shut down on 2026-08-26. Use Responses and Conversations.")
        if parts == ["models"] and method == "GET":
            now = int(time.time())
            data = [
                {"id": m, "object": "model", "created": now, "owned_by": "openai", "shutdown_date": shutdown}
                for m, shutdown in self.owner.models.items()
            ]
            return self._json(200, {"object": "list", "data": data})
        if parts == ["chat", "completions"] and method == "POST":
            try:
                chat.refuse_what_upstream_refuses(body, self.owner.context_chars)
            except chat.ChatRefusal as exc:
                raise _BadRequest(str(exc), param=exc.param, code=exc.code) from None
            return chat.complete(self, body, reply or Reply(), _id("req"))
        if self.owner.api == "chat" and parts[0] in (
            "conversations",
            "responses",
            "files",
            "vector_stores",
            "containers",
        ):
            # What a FastAPI server such as vLLM answers for a route it does not have.
            return self._json(404, {"detail": "Not Found"})
        if parts[0] == "conversations":
            return self._conversations(method, parts[1:], query, body)
        if parts == ["responses"] and method == "POST":
            return self._responses(body, reply or Reply())
        if parts[0] == "files":
            return self._files(method, parts[1:], query, body)
        if parts[0] == "vector_stores":
            return self._vector_stores(method, parts[1:], query, body)
        if parts[0] == "containers":
            return self._containers(method, parts[1:], query, body)
        raise _NotFound(f"Invalid URL ({method} /v1{path})")

    # -- conversations ------------------------------------------------------------------------

    def _conversation(self, conversation_id: str) -> dict[str, Any]:
        conversation = self.owner.conversations.get(conversation_id)
        if conversation is None:
            raise _NotFound(f"Conversation with id '{conversation_id}' not found.")
        return conversation

    def _conversations(self, method: str, parts: list[str], query: dict[str, str], body: dict) -> None:
        owner = self.owner
        with owner._lock:
            if not parts and method == "POST":
                conversation = {
                    "id": _id("conv"),
                    "object": "conversation",
                    "created_at": int(time.time()),
                    "metadata": body.get("metadata") or {},
                    "items": [],
                }
                conversation["items"] += [_stored_item(i) for i in body.get("items") or []]
                owner.conversations[conversation["id"]] = conversation
                return self._json(200, _public(conversation))
            conversation = self._conversation(parts[0])
            if len(parts) == 1:
                if method == "GET":
                    return self._json(200, _public(conversation))
                if method == "DELETE":
                    del owner.conversations[parts[0]]
                    return self._json(200, {"id": parts[0], "object": "conversation.deleted", "deleted": True})
                if method == "POST":
                    conversation["metadata"] = body.get("metadata") or {}
                    return self._json(200, _public(conversation))
            if len(parts) >= 2 and parts[1] == "items":
                items = conversation["items"]
                if len(parts) == 2 and method == "POST":
                    added = [_stored_item(i) for i in body.get("items") or []]
                    items.extend(added)
                    return self._json(200, _page(added, has_more=False))
                if len(parts) == 2 and method == "GET":
                    return self._json(200, _list_page(items, query))
                if len(parts) == 3:
                    match = [i for i in items if i["id"] == parts[2]]
                    if not match:
                        raise _NotFound(f"Item with id '{parts[2]}' not found.")
                    if method == "GET":
                        return self._json(200, match[0])
                    if method == "DELETE":
                        items.remove(match[0])
                        return self._json(200, _public(conversation))
        raise _NotFound(f"Invalid URL ({method} /v1/conversations/{'/'.join(parts)})")

    # -- responses ----------------------------------------------------------------------------

    def _responses(self, body: dict, reply: Reply) -> None:
        owner = self.owner
        conversation_ref = body.get("conversation")
        conversation_id = conversation_ref.get("id") if isinstance(conversation_ref, dict) else conversation_ref
        inputs = body.get("input")
        input_items = [_stored_item(i) for i in _as_items(inputs)]
        tools = [t for t in body.get("tools") or [] if isinstance(t, dict)]
        include = set(body.get("include") or [])
        # Built-in tool calls, each (its final output item, the citations the message makes of it).
        calls: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        with owner._lock:
            if conversation_id:
                self._conversation(conversation_id)
            _refuse_what_upstream_refuses(body, input_items, owner.conversations.get(conversation_id or ""))
            if reply.file_search is not None:
                calls.append(self._file_search_call(reply.file_search, tools, include, input_items))
            if reply.code_interpreter is not None:
                calls.append(self._code_interpreter_call(reply.code_interpreter, tools, include))
        text = reply.text if reply.text is not None else _default_text(input_items)
        chunks = list(reply.chunks) if reply.chunks is not None else (_words(text) if text else [])
        annotations = _annotations("".join(chunks), [c for _, cited in calls for c in cited])
        response = {
            "id": _id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "in_progress",
            "model": body.get("model"),
            "instructions": body.get("instructions"),
            "output": [],
            "tools": body.get("tools") or [],
            "tool_choice": body.get("tool_choice", "auto"),
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "temperature": body.get("temperature", 1.0),
            "top_p": body.get("top_p", 1.0),
            "max_output_tokens": body.get("max_output_tokens"),
            "metadata": body.get("metadata") or {},
            "text": body.get("text") or {"format": {"type": "text"}},
            "reasoning": body.get("reasoning"),
            "conversation": {"id": conversation_id} if conversation_id else None,
            "error": None,
            "incomplete_details": None,
            "usage": None,
        }
        request_id = _id("req")
        if body.get("stream"):
            made = [item for item, _ in calls]
            self._stream(response, chunks, reply, body, input_items, conversation_id, request_id, made, annotations)
        else:
            output = _message_item("".join(chunks), "completed", annotations=annotations) if chunks else None
            response["output"] = (
                [item for item, _ in calls]
                + ([output] if output else [])
                + [_call_item(c, "completed") for c in reply.function_calls]
            )
            self._complete(response, body, input_items, conversation_id, reply, "".join(chunks))
            self._json(200, response, {"x-request-id": request_id})

    def _complete(
        self,
        response: dict,
        body: dict,
        input_items: list[dict],
        conversation_id: str | None,
        reply: Reply,
        text: str,
        status: str = "completed",
    ) -> None:
        response["status"] = status
        response["usage"] = _usage(body, text, reply.usage)
        with self.owner._lock:
            self.owner.responses[response["id"]] = response
            # Only a finished response is appended to its conversation, as upstream does.
            if conversation_id and conversation_id in self.owner.conversations:
                self.owner.conversations[conversation_id]["items"] += input_items + response["output"]

    def _stream(
        self,
        response: dict,
        chunks: list[str],
        reply: Reply,
        body: dict,
        input_items: list[dict],
        conversation_id: str | None,
        request_id: str,
        tool_items: Sequence[dict[str, Any]] = (),
        annotations: Sequence[dict[str, Any]] = (),
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("x-request-id", request_id)
        self.end_headers()
        seq = itertools.count()

        def send(event: dict[str, Any]) -> None:
            event = {**event, "sequence_number": next(seq)}
            self._chunk(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())

        def snapshot() -> dict:
            return json.loads(json.dumps(response))

        try:
            send({"type": "response.created", "response": snapshot()})
            send({"type": "response.in_progress", "response": snapshot()})
            for item in tool_items:
                self._stream_tool_call(item, len(response["output"]), send)
                response["output"].append(item)
            if reply.ttft:
                time.sleep(reply.ttft)
            text = ""
            if chunks:
                item = _message_item("", "in_progress")
                index = len(response["output"])
                send({"type": "response.output_item.added", "output_index": index, "item": item})
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                where = {"item_id": item["id"], "output_index": index, "content_index": 0}
                send({"type": "response.content_part.added", **where, "part": part})
                for n, delta in enumerate(chunks):
                    if self._fault(reply, n, response, body, text, send):
                        return
                    if n and reply.gap:
                        time.sleep(reply.gap)
                    text += delta
                    send({"type": "response.output_text.delta", **where, "delta": delta, "logprobs": []})
                    if n == 0:  # wall clock, for benchmarks comparing with the browser's clock
                        with self.owner._lock:
                            self.owner.first_delta_at.append(time.time())
                if self._fault(reply, len(chunks), response, body, text, send):
                    return
                for n, annotation in enumerate(annotations):
                    send(
                        {
                            "type": "response.output_text.annotation.added",
                            **where,
                            "annotation_index": n,
                            "annotation": annotation,
                        }
                    )
                send({"type": "response.output_text.done", **where, "text": text, "logprobs": []})
                part = {**part, "text": text, "annotations": list(annotations)}
                send({"type": "response.content_part.done", **where, "part": part})
                item = _message_item(text, "completed", item["id"], list(annotations))
                response["output"].append(item)
                send({"type": "response.output_item.done", "output_index": index, "item": item})
            elif self._fault(reply, 0, response, body, text, send):
                return
            for call in reply.function_calls:
                item = _call_item(call, "in_progress")
                index = len(response["output"])
                send({"type": "response.output_item.added", "output_index": index, "item": {**item, "arguments": ""}})
                where = {"item_id": item["id"], "output_index": index}
                send({"type": "response.function_call_arguments.delta", **where, "delta": item["arguments"]})
                send({"type": "response.function_call_arguments.done", **where, "arguments": item["arguments"]})
                item = {**item, "status": "completed"}
                response["output"].append(item)
                send({"type": "response.output_item.done", "output_index": index, "item": item})
            self._complete(response, body, input_items, conversation_id, reply, text)
            send({"type": "response.completed", "response": snapshot()})
            self._end_chunks()
        except (BrokenPipeError, ConnectionResetError):
            # The client went away (Stop, a closed page): nothing is appended to the conversation.
            self.close_connection = True

    def _stream_tool_call(self, item: dict[str, Any], index: int, send: Any) -> None:
        """A built-in tool call's events, as upstream sends them; `item` is the finished call."""
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "file_search_call":
            added = {**item, "status": "in_progress", "queries": [], "results": None}
            send({"type": "response.output_item.added", "output_index": index, "item": added})
            for phase in ("in_progress", "searching", "completed"):
                send({"type": f"response.file_search_call.{phase}", **where})
        else:
            added = {**item, "status": "in_progress", "code": "", "outputs": None}
            send({"type": "response.output_item.added", "output_index": index, "item": added})
            send({"type": "response.code_interpreter_call.in_progress", **where})
            code = item["code"] or ""
            cut = code.find("\n", len(code) // 2) + 1 or len(code)  # two pieces, split at a line end
            for piece in (code[:cut], code[cut:]):
                if piece:
                    send({"type": "response.code_interpreter_call_code.delta", **where, "delta": piece})
            send({"type": "response.code_interpreter_call_code.done", **where, "code": code})
            send({"type": "response.code_interpreter_call.interpreting", **where})
            send({"type": "response.code_interpreter_call.completed", **where})
        send({"type": "response.output_item.done", "output_index": index, "item": item})

    def _file_search_call(
        self, spec: dict[str, Any], tools: list[dict], include: set[str], input_items: list[dict]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        owner = self.owner
        queries = [str(q) for q in spec.get("queries") or [_user_text(input_items)]]
        if spec.get("results") is not None:
            results = [self._scripted_result(r) for r in spec["results"]]
        else:
            tool = next((t for t in tools if t.get("type") == "file_search"), None)
            if tool is None:
                raise _BadRequest("A scripted file_search needs a file_search tool (or scripted results).")
            threshold = (tool.get("ranking_options") or {}).get("score_threshold") or 0.0
            results = owner.search(tool.get("vector_store_ids") or [], queries, tool.get("max_num_results"), threshold)
        item = {
            "id": _id("fs"),
            "type": "file_search_call",
            "status": "completed",
            "queries": queries,
            "results": results if "file_search_call.results" in include else None,
        }
        cited: dict[str, dict[str, Any]] = {}
        for r in results:
            if r.get("file_id") and r["file_id"] not in cited:
                filename = r.get("filename") or ""
                cited[r["file_id"]] = {"type": "file_citation", "file_id": r["file_id"], "filename": filename}
        return item, list(cited.values())

    def _scripted_result(self, result: dict[str, Any]) -> dict[str, Any]:
        file = self.owner.files.get(result.get("file_id") or "")
        text = file["content"].decode("utf-8", errors="ignore")[:300] if file else ""
        return {
            "file_id": result.get("file_id"),
            "filename": result.get("filename") or (file["filename"] if file else None),
            "score": result.get("score", 1.0),
            "text": result.get("text", text),
            "attributes": result.get("attributes", {}),
        }

    def _code_interpreter_call(
        self, spec: dict[str, Any], tools: list[dict], include: set[str]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        owner = self.owner
        tool = next((t for t in tools if t.get("type") == "code_interpreter"), None)
        if tool is None:
            raise _BadRequest("A scripted code_interpreter needs a code_interpreter tool in the request.")
        ref = tool.get("container") or {"type": "auto"}
        if isinstance(ref, str):
            container = owner.container(ref)
        else:
            container = owner.create_container(
                "Code Interpreter container", ref.get("file_ids") or [], ref.get("memory_limit")
            )
        outputs: list[dict[str, Any]] = []
        if spec.get("logs") is not None:
            outputs.append({"type": "logs", "logs": str(spec["logs"])})
        made = []
        for f in spec.get("files") or []:
            content = f.get("content", "")
            data = content.encode() if isinstance(content, str) else bytes(content)
            made.append(owner.add_container_file(container, f["filename"], data, "assistant"))
        if spec.get("image"):
            outputs.append({"type": "image", "url": "data:image/png;base64," + base64.b64encode(PNG).decode()})
            made.append(owner.add_container_file(container, "plot.png", PNG, "assistant"))
        item = {
            "id": _id("ci"),
            "type": "code_interpreter_call",
            "status": "completed",
            "code": spec.get("code", ""),
            "container_id": container["id"],
            "outputs": outputs if "code_interpreter_call.outputs" in include else None,
        }
        cited = [
            {
                "type": "container_file_citation",
                "container_id": container["id"],
                "file_id": f["id"],
                "filename": f["path"].rsplit("/", 1)[-1],
            }
            for f in made
        ]
        return item, cited

    # -- files, vector stores, containers -----------------------------------------------------

    def _files(self, method: str, parts: list[str], query: dict[str, str], body: dict) -> None:
        owner = self.owner
        with owner._lock:
            if not parts and method == "POST":
                upload = body.get("file")
                if not isinstance(upload, _Upload):
                    raise _BadRequest("Missing required parameter: 'file' (send multipart/form-data).")
                if not body.get("purpose"):
                    raise _BadRequest("Missing required parameter: 'purpose'.")
                record = owner.add_file(upload.filename, upload.data, str(body["purpose"]))
                seconds = body.get("expires_after[seconds]")
                if seconds:
                    record["expires_at"] = record["created_at"] + int(seconds)
                return self._json(200, _without(record, "content"))
            if not parts and method == "GET":
                files = [f for f in owner.files.values() if query.get("purpose") in (None, f["purpose"])]
                page = _list_page(files, query, default_limit=10000)
                page["data"] = [_without(f, "content") for f in page["data"]]
                return self._json(200, page)
            if len(parts) in (1, 2):
                record = owner.file(parts[0])
                if len(parts) == 2 and parts[1] == "content" and method == "GET":
                    kind = mimetypes.guess_type(record["filename"])[0] or "application/octet-stream"
                    return self._raw(record["content"], kind)
                if len(parts) == 1 and method == "GET":
                    return self._json(200, _without(record, "content"))
                if len(parts) == 1 and method == "DELETE":
                    del owner.files[parts[0]]
                    for store in owner.vector_stores.values():  # deleting a file takes it out of every store
                        store["files"].pop(parts[0], None)
                    return self._json(200, {"id": parts[0], "object": "file", "deleted": True})
        raise _NotFound(f"Invalid URL ({method} /v1/files/{'/'.join(parts)})")

    def _vector_stores(self, method: str, parts: list[str], query: dict[str, str], body: dict) -> None:
        owner = self.owner
        poll = {"openai-poll-after-ms": str(owner.poll_after_ms)}
        with owner._lock:
            if not parts and method == "POST":
                extra = {k: body.get(k) for k in ("metadata", "expires_after", "chunking_strategy")}
                store = owner.create_vector_store(body.get("name") or "", body.get("file_ids") or [], **extra)
                return self._json(200, owner.vector_store_view(store))
            if not parts and method == "GET":
                self._check_list_query("/vector_stores", query)
                page = _list_page(list(owner.vector_stores.values()), query)
                page["data"] = [owner.vector_store_view(s) for s in page["data"]]
                return self._json(200, page)
            store = owner.vector_store(parts[0])
            if len(parts) == 1:
                if method == "GET":  # a look at the store is a poll of its files too
                    return self._json(200, owner.vector_store_view(store, read=True), poll)
                if method == "POST":
                    for key in ("name", "metadata", "expires_after"):
                        if key in body:
                            store[key] = body[key] if key != "name" else body[key] or ""
                    return self._json(200, owner.vector_store_view(store))
                if method == "DELETE":
                    del owner.vector_stores[parts[0]]
                    return self._json(200, {"id": parts[0], "object": "vector_store.deleted", "deleted": True})
            if parts[1:] == ["search"] and method == "POST":
                query_value = body.get("query") or ""
                queries = [query_value] if isinstance(query_value, str) else list(query_value)
                threshold = (body.get("ranking_options") or {}).get("score_threshold") or 0.0
                found = owner.search([store["id"]], queries, body.get("max_num_results") or 10, threshold)
                data = [{**_without(r, "text"), "content": [{"type": "text", "text": r["text"]}]} for r in found]
                page = {"object": "vector_store.search_results.page", "search_query": queries, "data": data}
                return self._json(200, {**page, "has_more": False, "next_page": None})
            if parts[1] == "files":
                return self._vector_store_files(method, store, parts[2:], query, body, poll)
            if parts[1] == "file_batches":
                return self._file_batches(method, store, parts[2:], query, body, poll)
        raise _NotFound(f"Invalid URL ({method} /v1/vector_stores/{'/'.join(parts)})")

    def _vector_store_files(
        self, method: str, store: dict, parts: list[str], query: dict[str, str], body: dict, poll: dict
    ) -> None:
        owner = self.owner
        if not parts and method == "POST":
            file_id = body.get("file_id") or ""
            record = owner.attach(store, file_id, body.get("attributes"), body.get("chunking_strategy"))
            return self._json(200, owner.vector_store_file_view(record))
        if not parts and method == "GET":
            self._check_list_query("/vector_stores/{vector_store_id}/files", query)
            return self._json(200, self._file_page(list(store["files"].values()), query), poll)
        if len(parts) == 1:
            record = store["files"].get(parts[0])
            if record is None:
                raise _NotFound(f"No file with id '{parts[0]}' in vector store '{store['id']}'.")
            if method == "GET":
                return self._json(200, owner.vector_store_file_view(record, read=True), poll)
            if method == "POST":
                record["attributes"] = body.get("attributes") or {}
                return self._json(200, owner.vector_store_file_view(record))
            if method == "DELETE":
                del store["files"][parts[0]]
                return self._json(200, {"id": parts[0], "object": "vector_store.file.deleted", "deleted": True})
        raise _NotFound(f"Invalid URL ({method} /v1/vector_stores/{store['id']}/files/{'/'.join(parts)})")

    def _check_list_query(self, template: str, query: dict[str, str]) -> None:
        """A list's query parameters against the spec's enums and the documented 1..100 limit; a
        request that breaks them is refused with 400 and kept in `violations`, like a bad body."""
        owner = self.owner
        problems = []
        if "limit" in query:
            try:
                limit = int(query["limit"])
            except ValueError:
                limit = None
            if limit is None or not 1 <= limit <= 100:
                problems.append(f"limit: {query['limit']!r} is not an integer between 1 and 100")
        if owner._spec is not None:
            operation = owner._spec.document.get("paths", {}).get(template, {}).get("get", {})
            for param in operation.get("parameters", []):
                name, enum = param.get("name"), (param.get("schema") or {}).get("enum")
                if param.get("in") == "query" and enum and name in query and query[name] not in enum:
                    problems.append(f"{name}: {query[name]!r} is not one of {enum}")
        if problems:
            with owner._lock:
                owner.violations.extend(f"GET /v1{template}: {p}" for p in problems)
            raise _BadRequest("Request does not match the OpenAI spec: " + "; ".join(problems))

    def _file_page(self, records: list[dict], query: dict[str, str]) -> dict[str, Any]:
        """A page of vector-store files; each file on it is read (polled) once."""
        owner = self.owner
        wanted = query.get("filter")
        records = [r for r in records if wanted in (None, owner.file_status(r))]
        page = _list_page(records, query)
        page["data"] = [owner.vector_store_file_view(r, read=True) for r in page["data"]]
        return page

    def _file_batches(
        self, method: str, store: dict, parts: list[str], query: dict[str, str], body: dict, poll: dict
    ) -> None:
        owner = self.owner
        if not parts and method == "POST":
            entries = body.get("files") or [{"file_id": i} for i in body.get("file_ids") or []]
            for entry in entries:
                owner.file(entry.get("file_id") or "")
            for entry in entries:
                chunking = entry.get("chunking_strategy") or body.get("chunking_strategy")
                owner.attach(store, entry["file_id"], entry.get("attributes") or body.get("attributes"), chunking)
            batch = {
                "id": _id("vsfb"),
                "object": "vector_store.files_batch",
                "created_at": int(time.time()),
                "vector_store_id": store["id"],
                "file_ids": [e["file_id"] for e in entries],
                "cancelled": False,
            }
            owner.file_batches[batch["id"]] = batch
            return self._json(200, self._batch_view(store, batch))
        batch = owner.file_batches.get(parts[0]) if parts else None
        if batch is None or batch["vector_store_id"] != store["id"]:
            raise _NotFound(f"Vector store file batch with id '{parts[0] if parts else ''}' not found.")
        if len(parts) == 1 and method == "GET":
            return self._json(200, self._batch_view(store, batch, read=True), poll)
        if parts[1:] == ["cancel"] and method == "POST":
            batch["cancelled"] = True
            for file_id in batch["file_ids"]:
                record = store["files"].get(file_id)
                if record is not None and owner.file_status(record) == "in_progress":
                    record["outcome"], record["reads"] = "cancelled", max(record["reads"], owner.indexing_polls)
            return self._json(200, self._batch_view(store, batch))
        if parts[1:] == ["files"] and method == "GET":
            records = [store["files"][i] for i in batch["file_ids"] if i in store["files"]]
            return self._json(200, self._file_page(records, query), poll)
        raise _NotFound(f"Invalid URL ({method} /v1/vector_stores/{store['id']}/file_batches/{'/'.join(parts)})")

    def _batch_view(self, store: dict, batch: dict, read: bool = False) -> dict[str, Any]:
        owner = self.owner
        records = [store["files"][i] for i in batch["file_ids"] if i in store["files"]]
        counts = _file_counts([owner.vector_store_file_view(r, read) for r in records])
        status = "cancelled" if batch["cancelled"] else "in_progress" if counts["in_progress"] else "completed"
        return {**_without(batch, "file_ids", "cancelled"), "status": status, "file_counts": counts}

    def _containers(self, method: str, parts: list[str], query: dict[str, str], body: dict) -> None:
        owner = self.owner
        with owner._lock:
            if not parts and method == "POST":
                extra = {"expires_after": body.get("expires_after")}
                container = owner.create_container(
                    body.get("name") or "", body.get("file_ids") or [], body.get("memory_limit"), **extra
                )
                return self._json(200, _without(container, "files"))
            if not parts and method == "GET":
                page = _list_page(list(owner.containers.values()), query)
                page["data"] = [_without(c, "files") for c in page["data"]]
                return self._json(200, page)
            container = owner.container(parts[0])
            if len(parts) == 1 and method == "GET":
                return self._json(200, _without(container, "files"))
            if len(parts) == 1 and method == "DELETE":
                del owner.containers[parts[0]]
                return self._json(200, {"id": parts[0], "object": "container.deleted", "deleted": True})
            if len(parts) >= 2 and parts[1] == "files":
                files = container["files"]
                if len(parts) == 2 and method == "POST":
                    upload = body.get("file")
                    if isinstance(upload, _Upload):
                        record = owner.add_container_file(container, upload.filename, upload.data, "user")
                    elif body.get("file_id"):
                        file = owner.file(body["file_id"])
                        record = owner.add_container_file(container, file["filename"], file["content"], "user")
                    else:
                        raise _BadRequest("Send either 'file' (multipart/form-data) or 'file_id'.")
                    return self._json(200, _without(record, "content"))
                if len(parts) == 2 and method == "GET":
                    page = _list_page(list(files.values()), query)
                    page["data"] = [_without(f, "content") for f in page["data"]]
                    return self._json(200, page)
                record = files.get(parts[2]) if len(parts) > 2 else None
                if record is None:
                    raise _NotFound(f"Container file with id '{parts[2]}' not found in container '{parts[0]}'.")
                if len(parts) == 3 and method == "GET":
                    return self._json(200, _without(record, "content"))
                if len(parts) == 3 and method == "DELETE":
                    del files[parts[2]]
                    return self._json(200, {"id": parts[2], "object": "container.file.deleted", "deleted": True})
                if parts[3:] == ["content"] and method == "GET":
                    kind = mimetypes.guess_type(record["path"])[0] or "application/octet-stream"
                    return self._raw(record["content"], kind)
        raise _NotFound(f"Invalid URL ({method} /v1/containers/{'/'.join(parts)})")

    def _fault(self, reply: Reply, n: int, response: dict, body: dict, text: str, send: Any) -> bool:
        """Inject the scripted fault due after `n` deltas; True when the stream is over."""
        if reply.cut_after == n:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: the client sees a cut
            self.close_connection = True
            return True
        if reply.error_event_after == n:
            send({"type": "error", "code": "server_error", "message": "The server had an error.", "param": None})
            self._end_chunks()
            return True
        if reply.fail_after == n:
            response["status"] = "failed"
            response["error"] = {"code": "server_error", "message": "The model failed to generate a reply."}
            response["usage"] = _usage(body, text, reply.usage)
            send({"type": "response.failed", "response": response})
            self._end_chunks()
            return True
        if reply.incomplete_after == n:
            if text:
                response["output"].append(_message_item(text, "incomplete"))
            response["incomplete_details"] = {"reason": "max_output_tokens"}
            response["status"] = "incomplete"
            response["usage"] = _usage(body, text, reply.usage)
            conversation = (response.get("conversation") or {}).get("id")
            with self.owner._lock:
                self.owner.responses[response["id"]] = response
                # Upstream keeps an incomplete response, and its input, in the conversation.
                if conversation in self.owner.conversations:
                    self.owner.conversations[conversation]["items"] += [
                        _stored_item(i) for i in _as_items(body.get("input"))
                    ] + response["output"]
            send({"type": "response.incomplete", "response": response})
            self._end_chunks()
            return True
        if reply.malformed_after == n:
            self._chunk(b"event: response.output_text.delta\ndata: {not json\n\n")
            self._end_chunks()
            return True
        return False

    # -- control (for a server started by hand) -----------------------------------------------

    def _control(self, method: str, path: str, body: Any) -> None:
        owner = self.owner
        if path == "/_control/script" and method == "POST":
            if body is None:
                return self._error(400, "POST /_control/script needs a JSON body: a reply object or a list of them.")
            replies = body if isinstance(body, list) else [body]
            if not all(isinstance(r, dict) for r in replies):
                return self._error(400, "Each reply is a JSON object (see `Reply` in tests/openai_server/server.py).")
            try:
                owner.script(*replies)
            except (TypeError, ValueError) as exc:
                return self._error(400, str(exc))
            return self._json(200, {"queued": len(owner._script)})
        if path == "/_control/reset" and method == "POST":
            owner.reset()
            return self._json(200, {"reset": True})
        if path == "/_control/requests" and method == "GET":
            return self._json(200, {"requests": owner.requests, "violations": owner.violations})
        self._error(404, f"Unknown control path {path}.")

    # -- writing ------------------------------------------------------------------------------

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", (headers or {}).get("x-request-id") or _id("req"))
        for name, value in (headers or {}).items():
            if name != "x-request-id":
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _raw(self, data: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", _id("req"))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None = None, param: str | None = None) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        self._json(status, {"error": {"message": message, "type": kind, "param": param, "code": code}})

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _NotFound(Exception):
    pass


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


@dataclass
class _Upload:
    """A file part of a multipart/form-data body."""

    filename: str
    content_type: str
    data: bytes


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-stream (Stop, a timeout, a scripted cut) is normal here.
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


# -- shapes -------------------------------------------------------------------------------------


def _public(conversation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in conversation.items() if k != "items"}


def _without(record: dict[str, Any], *hidden: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in hidden}


def _parse_form(content_type: str, raw: bytes) -> dict[str, Any] | None:
    """A multipart/form-data body: text fields as str, file fields as `_Upload`; None if unreadable."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        return None
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            form[str(name)] = _Upload(filename, part.get_content_type(), data)
        else:
            form[str(name)] = data.decode("utf-8", errors="replace")
    return form


def _form_summary(value: Any) -> Any:
    if isinstance(value, _Upload):
        return {"filename": value.filename, "content_type": value.content_type, "bytes": len(value.data)}
    return value


def _list_page(records: list[dict[str, Any]], query: dict[str, str], default_limit: int = 20) -> dict[str, Any]:
    """A cursor page over `records` (oldest first), with `order` (default desc), `after`, `before`, `limit`."""
    ordered = list(records) if query.get("order") == "asc" else list(records)[::-1]
    ids = [r["id"] for r in ordered]
    if query.get("after") in ids:
        ordered = ordered[ids.index(query["after"]) + 1 :]
        ids = [r["id"] for r in ordered]
    if query.get("before") in ids:
        ordered = ordered[: ids.index(query["before"])]
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        raise _BadRequest(f"Invalid 'limit': {query['limit']!r} is not an integer.") from None
    return _page(ordered[:limit], has_more=len(ordered) > limit)


def _file_counts(views: list[dict[str, Any]]) -> dict[str, int]:
    counts = {s: sum(v["status"] == s for v in views) for s in ("in_progress", "completed", "failed", "cancelled")}
    return {**counts, "total": len(views)}


def _annotations(text: str, citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Place citations in the message text: file citations at its end, a container file citation on
    the file's sandbox link or name when the text mentions it (else empty, at the end)."""
    if not text:
        return []
    placed = []
    for citation in citations:
        if citation["type"] == "file_citation":
            placed.append({**citation, "index": len(text)})
            continue
        name = citation["filename"]
        start, end = len(text), len(text)
        for needle in (f"sandbox:/mnt/data/{name}", f"/mnt/data/{name}", name):
            found = text.find(needle)
            if found >= 0:
                start, end = found, found + len(needle)
                break
        placed.append({**citation, "start_index": start, "end_index": end})
    return placed


def _page(items: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": items,
        "first_id": items[0]["id"] if items else None,
        "last_id": items[-1]["id"] if items else None,
        "has_more": has_more,
    }


_SAMPLING_REFUSED = re.compile(r"^(o\d|gpt-5(?![.\d]))")
_SAMPLING_UNLESS_NO_REASONING = re.compile(r"^gpt-(5\.[1-9]|[6-9])")
# OpenAI's families that do not reason: Responses refuses `reasoning.effort` for them.
_NO_REASONING = re.compile(r"^(gpt-4\.1|gpt-4o|gpt-3\.5|chatgpt-)")


def _refuse_what_upstream_refuses(body: dict, input_items: list[dict], conversation: dict | None) -> None:
    """The rules the real API enforces beyond the spec's schema, each as the 400 it answers."""
    if body.get("conversation") and body.get("previous_response_id"):
        raise _BadRequest(
            "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or "
            "'conversation'.",
            param="conversation",
            code="mutually_exclusive_parameters",
        )
    for n, tool in enumerate(body.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") == "function":
            refuse_bad_function_name(tool.get("name"), f"tools[{n}].name")
    model = str(body.get("model") or "")
    effort = (body.get("reasoning") or {}).get("effort")
    reasoning = "-chat" not in model and (
        _SAMPLING_REFUSED.match(model) or (_SAMPLING_UNLESS_NO_REASONING.match(model) and effort not in (None, "none"))
    )
    for name in ("temperature", "top_p"):
        if reasoning and body.get(name) is not None:
            raise _BadRequest(
                f"Unsupported parameter: '{name}' is not supported with this model.",
                param=name,
                code="unsupported_parameter",
            )
    if effort is not None and _NO_REASONING.match(model):
        raise _BadRequest(
            "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
            param="reasoning.effort",
            code="unsupported_parameter",
        )
    history = (conversation or {}).get("items") or []
    calls = {i["call_id"] for i in [*history, *input_items] if i.get("type") == "function_call"}
    answered = {i["call_id"] for i in [*history, *input_items] if i.get("type") == "function_call_output"}
    for item in input_items:
        if item.get("type") == "function_call_output" and item.get("call_id") not in calls:
            raise _BadRequest(
                f"No tool call found for function call output with call_id {item.get('call_id')}.", param="input"
            )
    waiting = sorted(calls - answered)
    if waiting:
        raise _BadRequest(f"No tool output found for function call {waiting[0]}.", param="input")
    # An assistant message in the input is the model's earlier output: plain text, or output parts.
    for n, item in enumerate(_as_items(body.get("input"))):
        content = item.get("content")
        if item.get("type", "message") != "message" or item.get("role") != "assistant" or not isinstance(content, list):
            continue
        for k, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") not in ("output_text", "refusal"):
                raise _BadRequest(
                    f"Invalid value: '{part.get('type')}'. Supported values are: 'output_text' and 'refusal'.",
                    param=f"input[{n}].content[{k}]",
                    code="invalid_value",
                )


_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def refuse_bad_function_name(name: Any, param: str) -> None:
    """The spec's pattern check passes `name\\n` (a regex `$` matches before a final newline); the API does not."""
    if isinstance(name, str) and not _FUNCTION_NAME.fullmatch(name):
        raise _BadRequest(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the pattern "
            "'^[a-zA-Z0-9_-]+$'.",
            param=param,
            code="invalid_value",
        )


def _as_items(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return [i for i in value or [] if isinstance(i, dict)]


def _stored_item(item: dict[str, Any]) -> dict[str, Any]:
    """An input item as the conversation keeps it: with an id, content as typed parts."""
    kind = item.get("type", "message")
    if kind == "message":
        content = item.get("content")
        if isinstance(content, str):
            part = "input_text" if item.get("role") in ("user", "system", "developer") else "output_text"
            content = [{"type": part, "text": content}]
        return {
            "type": "message",
            "id": _id("msg"),
            "status": "completed",
            "role": item.get("role"),
            "content": content,
        }
    if kind == "function_call_output":
        return {**item, "id": item.get("id") or _id("fco"), "status": "completed"}
    return {**item, "id": item.get("id") or _id("item")}


def _message_item(
    text: str, status: str, item_id: str | None = None, annotations: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": list(annotations or []), "logprobs": []}
    return {
        "type": "message",
        "id": item_id or _id("msg"),
        "status": status,
        "role": "assistant",
        "content": [part] if text else [],
    }


def _call_item(call: dict[str, Any], status: str) -> dict[str, Any]:
    arguments = call.get("arguments", "{}")
    return {
        "type": "function_call",
        "id": _id("fc"),
        "call_id": call.get("call_id") or _id("call"),
        "name": call["name"],
        "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
        "status": status,
    }


def _user_text(items: list[dict[str, Any]]) -> str:
    """The text of the last user message ("" when there is none)."""
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            return " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict) and p.get("text"))
    return ""


def _default_text(items: list[dict[str, Any]]) -> str:
    """Echo the last user message; after function outputs, report what the functions returned."""
    outputs = [i.get("output") for i in items if i.get("type") == "function_call_output"]
    if outputs:
        return "The function returned: " + "; ".join(str(o) for o in outputs)
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            texts = [p.get("text", "") for p in item.get("content") or [] if isinstance(p, dict)]
            return "Echo: " + " ".join(texts)
    return "Hello."


def _usage(body: dict, text: str, scripted: dict[str, int] | None) -> dict[str, Any]:
    if scripted:
        usage = dict(scripted)
        usage.setdefault("total_tokens", usage.get("input_tokens", 0) + usage.get("output_tokens", 0))
    else:
        # Roughly a token per 4 characters, like the real tokenizer on English text.
        size = len(json.dumps(body.get("input"))) + len(body.get("instructions") or "")
        usage = {"input_tokens": max(1, size // 4), "output_tokens": max(1, len(text) // 4)}
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return {
        **usage,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def as_dict(reply: Reply) -> dict[str, Any]:
    return asdict(reply)
