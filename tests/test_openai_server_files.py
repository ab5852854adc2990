"""The local OpenAI server's files, vector stores, containers and built-in tool calls, through the real SDK."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from openai.types import FileObject, VectorStore
from openai.types.containers import FileRetrieveResponse
from openai.types.responses import ResponseCodeInterpreterToolCall, ResponseFileSearchToolCall
from openai.types.vector_stores import VectorStoreFile

from tests.openai_server import Reply
from tests.openai_server.server import PNG

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOTES = b"Meeting notes: the launch moves to Friday. Budget approved.\n" * 3
RECIPES = b"Pancakes: flour, eggs, milk. Fry in butter.\n"

FILE_SEARCH_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.file_search_call.in_progress",
    "response.file_search_call.searching",
    "response.file_search_call.completed",
    "response.output_item.done",
    "response.output_item.added",
    "response.content_part.added",
]


def upload(client, name: str, content: bytes):
    return client.files.create(file=(name, content, "text/plain"), purpose="assistants")


def indexed_store(client, upstream, *files: tuple[str, bytes]) -> tuple[str, list[str]]:
    """A vector store whose files are all indexed already."""
    upstream.indexing_polls = 0
    ids = [upload(client, name, content).id for name, content in files]
    store = client.vector_stores.create(name="docs", file_ids=ids)
    return store.id, ids


# -- files ----------------------------------------------------------------------------------------


def test_upload_retrieve_content_list_and_delete(backend, upstream):
    client = backend.client
    created = upload(client, "notes.txt", NOTES)
    assert isinstance(created, FileObject)
    assert created.id.startswith("file-") and created.object == "file"
    assert (created.filename, created.bytes, created.purpose, created.status) == (
        "notes.txt",
        len(NOTES),
        "assistants",
        "processed",
    )
    assert created.created_at > 0
    assert client.files.retrieve(created.id) == created
    assert client.files.content(created.id).content == NOTES
    # The bytes come back exactly, whatever they are.
    binary = bytes(range(256)) * 4 + b"\r\n--boundary-like\r\n\r"
    other = client.files.create(file=("blob.bin", binary, "application/octet-stream"), purpose="user_data")
    assert client.files.content(other.id).read() == binary
    assert {f.id for f in client.files.list()} == {created.id, other.id}
    assert [f.id for f in client.files.list(purpose="user_data")] == [other.id]
    # Newest first by default, like upstream.
    assert [f.id for f in client.files.list(order="desc", limit=1).data] == [other.id]
    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created.id, "file", True)
    assert [f.id for f in client.files.list()] == [other.id]
    with pytest.raises(openai.NotFoundError, match=created.id):
        client.files.retrieve(created.id)
    # The request log keeps a summary of the multipart body, not the bytes.
    posted = [r for r in upstream.requests if r["method"] == "POST" and r["path"] == "/v1/files"]
    assert posted[0]["body"]["purpose"] == "assistants"
    assert posted[0]["body"]["file"] == {"filename": "notes.txt", "content_type": "text/plain", "bytes": len(NOTES)}


def test_a_scripted_error_answers_an_upload(backend, upstream):
    upstream.script({"path": "/files", "status": 413, "error": {"message": "File too large."}})
    with pytest.raises(openai.APIStatusError, match="File too large"):
        upload(backend.client, "big.txt", b"x")
    assert upstream.files == {}


def test_reset_forgets_files_stores_and_containers(backend, upstream):
    client = backend.client
    file = upload(client, "notes.txt", NOTES)
    client.vector_stores.create(name="docs", file_ids=[file.id])
    client.containers.create(name="box", file_ids=[file.id])
    upstream.indexing_polls = 5
    upstream.reset()
    assert (upstream.files, upstream.vector_stores, upstream.containers) == ({}, {}, {})
    assert upstream.indexing_polls == 2


# -- vector stores --------------------------------------------------------------------------------


def test_vector_store_files_index_as_they_are_polled(backend, upstream):
    client = backend.client
    notes, corrupt = upload(client, "notes.txt", NOTES), upload(client, "corrupt.pdf", b"%PDF-garbage")
    store = client.vector_stores.create(name="Docs", metadata={"team": "a"})
    assert isinstance(store, VectorStore)
    assert store.id.startswith("vs_") and store.object == "vector_store"
    assert (store.name, store.metadata, store.status) == ("Docs", {"team": "a"}, "completed")
    assert store.file_counts.total == 0 and store.usage_bytes == 0

    attached = client.vector_stores.files.create(store.id, file_id=notes.id)
    assert isinstance(attached, VectorStoreFile)
    assert (attached.id, attached.object, attached.vector_store_id) == (notes.id, "vector_store.file", store.id)
    assert attached.status == "in_progress" and attached.last_error is None

    # `indexing_polls` (2) reads say in_progress, then the file is completed.
    statuses = []
    while not statuses or statuses[-1] == "in_progress":
        statuses.append(client.vector_stores.files.retrieve(notes.id, vector_store_id=store.id).status)
        assert len(statuses) < 10
    assert statuses == ["in_progress", "in_progress", "completed"]
    done = client.vector_stores.files.retrieve(notes.id, vector_store_id=store.id)
    assert done.status == "completed" and done.usage_bytes == len(NOTES)

    # A corrupt file fails instead; the SDK's poll helper gets there fast (openai-poll-after-ms).
    client.vector_stores.files.create(store.id, file_id=corrupt.id)
    failed = client.vector_stores.files.poll(corrupt.id, vector_store_id=store.id, max_wait_seconds=5)
    assert failed.status == "failed"
    assert (failed.last_error.code, failed.last_error.message) == ("invalid_file", "The file could not be parsed.")

    listed = client.vector_stores.files.list(store.id)
    assert {(f.id, f.status) for f in listed} == {(notes.id, "completed"), (corrupt.id, "failed")}
    assert [f.id for f in client.vector_stores.files.list(store.id, filter="failed")] == [corrupt.id]
    store = client.vector_stores.retrieve(store.id)
    assert store.status == "completed" and store.usage_bytes == len(NOTES)
    assert store.file_counts.model_dump() == {
        "in_progress": 0,
        "completed": 1,
        "failed": 1,
        "cancelled": 0,
        "total": 2,
    }

    removed = client.vector_stores.files.delete(corrupt.id, vector_store_id=store.id)
    assert (removed.id, removed.object, removed.deleted) == (corrupt.id, "vector_store.file.deleted", True)
    assert [f.id for f in client.vector_stores.files.list(store.id)] == [notes.id]
    assert client.vector_stores.retrieve(store.id).file_counts.total == 1
    with pytest.raises(openai.NotFoundError, match=corrupt.id):
        client.vector_stores.files.retrieve(corrupt.id, vector_store_id=store.id)


def test_a_store_counts_its_files_while_they_index(backend, upstream):
    client = backend.client
    upstream.indexing_polls = 1
    ids = [upload(client, f"doc{i}.txt", b"text %d" % i).id for i in range(2)]
    store = client.vector_stores.create(name="two", file_ids=ids)
    assert store.status == "in_progress" and store.file_counts.in_progress == 2 and store.file_counts.total == 2
    # Looking at the store polls its files too, so a caller waiting on the store gets there.
    assert client.vector_stores.retrieve(store.id).status == "in_progress"
    again = client.vector_stores.retrieve(store.id)
    assert again.status == "completed" and again.file_counts.completed == 2


def test_list_retrieve_and_delete_vector_stores(backend, upstream):
    client = backend.client
    first = client.vector_stores.create(name="one")
    second = client.vector_stores.create(name="two")
    page = client.vector_stores.list(limit=1)
    assert [s.id for s in page.data] == [second.id] and page.has_more
    assert [s.name for s in client.vector_stores.list(order="asc")] == ["one", "two"]
    assert client.vector_stores.update(first.id, name="uno").name == "uno"
    deleted = client.vector_stores.delete(first.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (first.id, "vector_store.deleted", True)
    with pytest.raises(openai.NotFoundError, match=f"Vector store with id '{first.id}' not found"):
        client.vector_stores.retrieve(first.id)
    with pytest.raises(openai.NotFoundError, match="file-nope"):
        client.vector_stores.files.create(second.id, file_id="file-nope")


def test_upload_and_poll_a_batch(backend, upstream):
    client = backend.client
    store = client.vector_stores.create(name="batch")
    batch = client.vector_stores.file_batches.upload_and_poll(
        store.id, files=[("a.txt", io.BytesIO(b"alpha")), ("b.txt", io.BytesIO(b"beta"))], max_concurrency=2
    )
    assert batch.status == "completed" and batch.file_counts.completed == 2
    assert sorted(f.filename for f in client.files.list()) == ["a.txt", "b.txt"]
    assert client.vector_stores.retrieve(store.id).file_counts.completed == 2


def test_deleting_a_file_takes_it_out_of_its_stores(backend, upstream):
    client = backend.client
    file = upload(client, "notes.txt", NOTES)
    store = client.vector_stores.create(name="docs", file_ids=[file.id])
    client.files.delete(file.id)
    assert client.vector_stores.retrieve(store.id).file_counts.total == 0


# -- responses with file_search -------------------------------------------------------------------


def test_a_streamed_file_search_with_results_and_citations(backend, upstream):
    client = backend.client
    store_id, (notes_id, recipes_id) = indexed_store(client, upstream, ("notes.txt", NOTES), ("recipes.txt", RECIPES))
    upstream.script({"text": "The launch moved to Friday.", "file_search": {"queries": ["launch date"]}})
    stream = client.responses.create(
        model="gpt-4.1-mini",
        input="When is the launch?",
        tools=[{"type": "file_search", "vector_store_ids": [store_id]}],
        include=["file_search_call.results"],
        stream=True,
    )
    events = list(stream)
    kinds = [e.type for e in events]
    assert kinds[: len(FILE_SEARCH_EVENTS)] == FILE_SEARCH_EVENTS
    assert kinds[-6:] == [
        "response.output_text.annotation.added",
        "response.output_text.annotation.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))

    added = events[2]
    assert added.item.type == "file_search_call" and added.item.status == "in_progress" and added.output_index == 0
    assert {e.item_id for e in events[3:6]} == {added.item.id}
    call = events[6].item
    assert isinstance(call, ResponseFileSearchToolCall)
    assert call.id.startswith("fs_") and call.status == "completed" and call.queries == ["launch date"]
    # The file holding a query word ranks first; every indexed file is searched.
    assert [(r.file_id, r.filename) for r in call.results] == [(notes_id, "notes.txt"), (recipes_id, "recipes.txt")]
    assert 0 < call.results[1].score < call.results[0].score <= 1
    assert call.results[0].text == NOTES.decode()[:300]

    text = "The launch moved to Friday."
    annotated = [e for e in events if e.type == "response.output_text.annotation.added"]
    assert [e.annotation_index for e in annotated] == [0, 1]
    assert all(e.output_index == 1 and e.content_index == 0 for e in annotated)
    assert [(e.annotation.type, e.annotation.file_id) for e in annotated] == [
        ("file_citation", notes_id),
        ("file_citation", recipes_id),
    ]
    final = events[-1].response
    assert [o.type for o in final.output] == ["file_search_call", "message"]
    assert final.output_text == text
    citations = final.output[1].content[0].annotations
    assert [(a.type, a.file_id, a.filename, a.index) for a in citations] == [
        ("file_citation", notes_id, "notes.txt", len(text)),
        ("file_citation", recipes_id, "recipes.txt", len(text)),
    ]
    assert final.output[0].results[0].file_id == notes_id
    assert final.tools[0].type == "file_search" and final.tools[0].vector_store_ids == [store_id]


def test_file_search_results_are_null_unless_included(backend, upstream):
    client = backend.client
    store_id, (notes_id,) = indexed_store(client, upstream, ("notes.txt", NOTES))
    upstream.script({"file_search": {"queries": ["budget"]}, "text": "Approved."})
    tools = [{"type": "file_search", "vector_store_ids": [store_id]}]
    events = list(client.responses.create(model="gpt-4.1-mini", input="Budget?", tools=tools, stream=True))
    call = next(e.item for e in events if e.type == "response.output_item.done")
    assert call.type == "file_search_call" and call.results is None
    # The message still cites the file.
    annotation = events[-1].response.output[1].content[0].annotations[0]
    assert (annotation.file_id, annotation.filename) == (notes_id, "notes.txt")


def test_files_still_indexing_are_not_searched_and_scripted_results_win(backend, upstream):
    client = backend.client
    file = upload(client, "notes.txt", NOTES)
    store = client.vector_stores.create(name="docs", file_ids=[file.id])  # still in_progress
    tools = [{"type": "file_search", "vector_store_ids": [store.id]}]
    upstream.script({"file_search": {"queries": ["launch"]}, "text": "Nothing found."})
    response = client.responses.create(
        model="gpt-4.1-mini", input="x", tools=tools, include=["file_search_call.results"]
    )
    assert response.output[0].results == [] and response.output[1].content[0].annotations == []

    scripted = [{"file_id": file.id, "score": 0.42, "text": "launch on Friday"}]
    upstream.script({"file_search": {"queries": ["launch"], "results": scripted}, "text": "Friday."})
    response = client.responses.create(
        model="gpt-4.1-mini", input="x", tools=tools, include=["file_search_call.results"]
    )
    result = response.output[0].results[0]
    assert (result.file_id, result.filename, result.score) == (file.id, "notes.txt", 0.42)
    assert result.text == "launch on Friday"
    assert response.output[1].content[0].annotations[0].file_id == file.id


def test_a_non_streamed_file_search_in_a_conversation(backend, upstream):
    client = backend.client
    store_id, (notes_id,) = indexed_store(client, upstream, ("notes.txt", NOTES))
    conversation = client.conversations.create()
    upstream.script(
        {
            "file_search": {"queries": ["launch"]},
            "text": "Friday.",
            "function_calls": [{"name": "remember", "arguments": {"day": "Friday"}}],
        }
    )
    response = client.responses.create(
        model="gpt-4.1-mini",
        input="When?",
        conversation=conversation.id,
        tools=[
            {"type": "file_search", "vector_store_ids": [store_id], "max_num_results": 5},
            {"type": "function", "name": "remember", "parameters": {"type": "object"}, "strict": False},
        ],
        include=["file_search_call.results"],
    )
    assert [o.type for o in response.output] == ["file_search_call", "message", "function_call"]
    assert response.output[0].results[0].file_id == notes_id
    assert response.output[1].content[0].annotations[0].file_id == notes_id
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [i.type for i in items] == ["message", "file_search_call", "message", "function_call"]
    assert isinstance(items[1], ResponseFileSearchToolCall)


def test_search_a_vector_store_directly(backend, upstream):
    client = backend.client
    store_id, _ = indexed_store(client, upstream, ("notes.txt", NOTES), ("recipes.txt", RECIPES))
    hits = list(client.vector_stores.search(store_id, query="pancakes eggs", max_num_results=1))
    assert [(h.filename, h.content[0].text) for h in hits] == [("recipes.txt", RECIPES.decode())]
    assert hits[0].score == 1.0


def test_a_scripted_tool_call_needs_its_tool_in_the_request(backend, upstream):
    client = backend.client.with_options(max_retries=0)
    upstream.script({"file_search": {"queries": ["x"]}}, {"code_interpreter": {"code": "1"}})
    with pytest.raises(openai.BadRequestError, match="needs a file_search tool"):
        client.responses.create(model="gpt-4.1-mini", input="x")
    with pytest.raises(openai.BadRequestError, match="needs a code_interpreter tool"):
        client.responses.create(model="gpt-4.1-mini", input="x")


def test_an_unknown_vector_store_is_404(backend, upstream):
    upstream.script({"file_search": {"queries": ["x"]}})
    with pytest.raises(openai.NotFoundError, match="vs_nope"):
        backend.client.responses.create(
            model="gpt-4.1-mini", input="x", tools=[{"type": "file_search", "vector_store_ids": ["vs_nope"]}]
        )


# -- responses with code_interpreter --------------------------------------------------------------


def test_a_streamed_code_interpreter_call_with_outputs_and_files(backend, upstream):
    client = backend.client
    data = upload(client, "data.csv", b"x,y\n1,2\n3,4\n")
    code = "import pandas as pd\ndf = pd.read_csv('/mnt/data/data.csv')\nprint(df.sum())\ndf.to_csv('out.csv')\n"
    text = "Totals in [out.csv](sandbox:/mnt/data/out.csv), and a chart."
    upstream.script(
        {
            "text": text,
            "code_interpreter": {
                "code": code,
                "logs": "x    4\ny    6",
                "image": True,
                "files": [{"filename": "out.csv", "content": "x,y\n4,6\n"}],
            },
        }
    )
    events = list(
        client.responses.create(
            model="gpt-4.1-mini",
            input="Sum the columns",
            tools=[{"type": "code_interpreter", "container": {"type": "auto", "file_ids": [data.id]}}],
            include=["code_interpreter_call.outputs"],
            stream=True,
        )
    )
    kinds = [e.type for e in events]
    deltas = [e for e in events if e.type == "response.code_interpreter_call_code.delta"]
    assert 1 <= len(deltas) <= 2 and "".join(d.delta for d in deltas) == code
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[3 : 4 + len(deltas) + 4] == [
        "response.code_interpreter_call.in_progress",
        *["response.code_interpreter_call_code.delta"] * len(deltas),
        "response.code_interpreter_call_code.done",
        "response.code_interpreter_call.interpreting",
        "response.code_interpreter_call.completed",
        "response.output_item.done",
    ]
    assert kinds[-6:] == [
        "response.output_text.annotation.added",
        "response.output_text.annotation.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    code_done = next(e for e in events if e.type == "response.code_interpreter_call_code.done")
    assert code_done.code == code and code_done.output_index == 0

    call = next(e.item for e in events if e.type == "response.output_item.done")
    assert isinstance(call, ResponseCodeInterpreterToolCall)
    assert call.id.startswith("ci_") and call.status == "completed" and call.code == code
    container_id = call.container_id
    assert container_id.startswith("cntr_")
    logs, image = call.outputs
    assert (logs.type, logs.logs) == ("logs", "x    4\ny    6")
    assert image.type == "image" and image.url.startswith("data:image/png;base64,")
    png = base64.b64decode(image.url.split(",", 1)[1])
    assert png.startswith(PNG_SIGNATURE)

    # The uploaded file was copied in (source "user"); the outputs are the assistant's.
    files = {f.path: f for f in client.containers.files.list(container_id)}
    assert set(files) == {"/mnt/data/data.csv", "/mnt/data/out.csv", "/mnt/data/plot.png"}
    assert files["/mnt/data/data.csv"].source == "user" and files["/mnt/data/plot.png"].source == "assistant"
    assert all(f.object == "container.file" and f.container_id == container_id for f in files.values())

    final = events[-1].response
    assert [o.type for o in final.output] == ["code_interpreter_call", "message"]
    assert final.output_text == text
    citations = final.output[1].content[0].annotations
    assert [(a.type, a.container_id, a.filename) for a in citations] == [
        ("container_file_citation", container_id, "out.csv"),
        ("container_file_citation", container_id, "plot.png"),
    ]
    link = "sandbox:/mnt/data/out.csv"
    assert text[citations[0].start_index : citations[0].end_index] == link
    streamed = [e.annotation for e in events if e.type == "response.output_text.annotation.added"]
    assert [a.file_id for a in streamed] == [a.file_id for a in citations]

    downloads = {}
    for annotation in citations:
        info = client.containers.files.retrieve(annotation.file_id, container_id=container_id)
        assert isinstance(info, FileRetrieveResponse) and info.id == annotation.file_id
        content = client.containers.files.content.retrieve(annotation.file_id, container_id=container_id)
        downloads[annotation.filename] = content.read()
        assert info.bytes == len(downloads[annotation.filename])
    assert downloads == {"out.csv": b"x,y\n4,6\n", "plot.png": png}
    assert png == PNG


def test_png_is_a_real_image():
    from PIL import Image

    with Image.open(io.BytesIO(PNG)) as image:
        image.load()
        assert image.size == (2, 2) and image.format == "PNG"


def test_code_interpreter_outputs_are_null_unless_included_and_a_named_container_is_reused(backend, upstream):
    client = backend.client
    container = client.containers.create(name="mine")
    upstream.script({"code_interpreter": {"code": "print(1)", "logs": "1"}, "text": "One."})
    response = client.responses.create(
        model="gpt-4.1-mini", input="x", tools=[{"type": "code_interpreter", "container": container.id}]
    )
    call = response.output[0]
    assert call.container_id == container.id and call.outputs is None and call.code == "print(1)"
    assert response.output[1].content[0].annotations == []
    assert client.containers.files.list(container.id).data == []
    with pytest.raises(openai.NotFoundError, match="cntr_nope"):
        upstream.script({"code_interpreter": {"code": "1"}})
        client.responses.create(
            model="gpt-4.1-mini", input="x", tools=[{"type": "code_interpreter", "container": "cntr_nope"}]
        )


def test_both_tools_together_in_a_streamed_conversation(backend, upstream):
    client = backend.client
    store_id, (notes_id,) = indexed_store(client, upstream, ("notes.txt", NOTES))
    conversation = client.conversations.create()
    upstream.script(
        {
            "chunks": ["Charted ", "plot.png ", "from notes."],
            "file_search": {"queries": ["budget"]},
            "code_interpreter": {"code": "plot()", "image": True},
        }
    )
    with client.responses.stream(
        model="gpt-4.1-mini",
        input="Chart the budget",
        conversation=conversation.id,
        tools=[
            {"type": "file_search", "vector_store_ids": [store_id]},
            {"type": "code_interpreter", "container": {"type": "auto"}},
        ],
    ) as stream:
        final = stream.get_final_response()
    assert [o.type for o in final.output] == ["file_search_call", "code_interpreter_call", "message"]
    annotations = final.output[2].content[0].annotations
    assert [a.type for a in annotations] == ["file_citation", "container_file_citation"]
    assert annotations[0].file_id == notes_id
    assert final.output_text[annotations[1].start_index : annotations[1].end_index] == "plot.png"
    items = client.conversations.items.list(conversation.id, order="asc").data
    assert [i.type for i in items] == ["message", "file_search_call", "code_interpreter_call", "message"]


def test_tool_reply_keys_are_checked():
    with pytest.raises(ValueError, match="unknown code_interpreter keys"):
        Reply.of({"code_interpreter": {"cod": "x"}})
    with pytest.raises(ValueError, match="unknown file_search keys"):
        Reply.of({"file_search": {"query": ["x"]}})
    reply = Reply.of({"file_search": {"queries": ["q"]}, "code_interpreter": {"code": "1", "image": True}})
    assert reply.file_search == {"queries": ["q"]} and reply.code_interpreter["image"] is True


def test_list_queries_are_checked_against_the_spec(backend, upstream):
    client = backend.client
    store = client.vector_stores.create(name="docs")
    assert client.vector_stores.list(limit=100, order="desc").data[0].id == store.id
    assert client.vector_stores.files.list(store.id, limit=1, filter="completed").data == []
    with pytest.raises(openai.BadRequestError, match="limit: '0' is not an integer between 1 and 100"):
        client.vector_stores.list(limit=0)
    with pytest.raises(openai.BadRequestError, match="limit: '101'"):
        client.vector_stores.files.list(store.id, limit=101)
    if upstream.spec_loaded:
        with pytest.raises(openai.BadRequestError, match="order: 'sideways' is not one of"):
            client.vector_stores.list(order="sideways")  # type: ignore[arg-type]
        with pytest.raises(openai.BadRequestError, match="filter: 'done' is not one of"):
            client.vector_stores.files.list(store.id, filter="done")  # type: ignore[arg-type]
    assert upstream.violations and all(v.startswith("GET /v1/vector_stores") for v in upstream.violations)
    upstream.violations.clear()  # refused on purpose
