"""File search and the code interpreter end to end through the turn engine, the real SDK and the log."""

from __future__ import annotations

import json

from playground import files, trace, turn
from playground.assistant import AssistantConfig
from tests.conftest import TEST_KEY

NOTES = b"Meeting notes: the launch moves to Friday. Budget approved.\n"


def test_upload_indexes_then_completes(store, backend, upstream):
    vs = files.create_vector_store(store, backend, "Docs")
    assert store.list_vector_stores()[0]["id"] == vs
    result = files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=vs)
    assert result.problem is None and result.file_id.startswith("file-")
    [row] = store.list_files("file_search", vs)
    assert (row.filename, row.bytes, row.status) == ("notes.txt", len(NOTES), "in_progress")
    seen = []
    for _ in range(5):
        rows = files.refresh(store, backend, vs)
        seen.append(rows[0].status)
        if not files.indexing(rows):
            break
    assert seen[-1] == "completed" and "in_progress" in seen


def test_a_file_that_fails_indexing_says_why(store, backend, upstream):
    upstream.indexing_polls = 0
    vs = files.create_vector_store(store, backend, "Docs")
    files.upload(store, backend, "corrupt.pdf", b"%PDF-broken", "file_search", vector_store_id=vs)
    [row] = files.refresh(store, backend, vs)
    assert (row.status, row.error) == ("failed", "The file could not be parsed.")


def test_bad_uploads_are_refused_before_any_request(store, backend, upstream):
    assert "does not take .exe" in files.upload(store, backend, "x.exe", b"MZ", "code_interpreter").problem
    assert "Pick or create a vector store" in files.upload(store, backend, "a.txt", b"a", "file_search").problem
    assert upstream.requests == [] and store.list_files() == []


def test_upload_failures_are_one_sentence_without_the_key(store, backend, upstream):
    upstream.script({"path": "/files", "status": 413, "error": {"message": f"Too big for {TEST_KEY}"}})
    result = files.upload(store, backend, "a.txt", b"abc", "code_interpreter", secrets=(TEST_KEY,))
    assert result.problem.startswith("Uploading a.txt failed:") and TEST_KEY not in result.problem
    assert store.list_files() == []


def test_remove_detaches_and_deletes(store, backend, upstream):
    vs = files.create_vector_store(store, backend, "Docs")
    files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=vs)
    [row] = store.list_files()
    assert files.remove(store, backend, row) is None
    assert store.list_files() == [] and upstream.files == {}
    # Already gone upstream: forgotten here too, without an error.
    files.upload(store, backend, "again.txt", NOTES, "code_interpreter")
    [row] = store.list_files()
    backend.delete_file(row.file_id)
    assert files.remove(store, backend, row) is None and store.list_files() == []


def test_a_file_search_turn_cites_files_by_name_with_a_quote(store, backend, upstream):
    upstream.indexing_polls = 0
    vs = files.create_vector_store(store, backend, "Docs")
    files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=vs)
    files.refresh(store, backend, vs)
    assistant = store.create_assistant()
    config = AssistantConfig.from_dict({"name": "Docs", "file_search": {"enabled": True, "vector_store_ids": [vs]}})
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    upstream.script({"text": "The launch moves to Friday.", "file_search": {"queries": ["launch date"]}})
    t = turn.start(store, backend, thread.id, version, "When is the launch?")
    list(t.events())
    assert t.result.status == "completed"
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["include"] == ["file_search_call.results"]
    run = store.get_run(t.run_id)
    [cited] = trace.citations(run.response, store.filenames())
    assert cited.filename == "notes.txt" and cited.quote.startswith("Meeting notes: the launch moves to Friday.")
    assert [s["step"] for s in trace.steps(run, [])] == ["file search", "message"]


def test_a_code_interpreter_turn_keeps_its_code_image_and_files(store, backend, upstream):
    uploaded = files.upload(store, backend, "sales.csv", b"month,total\njan,3\n", "code_interpreter")
    assistant = store.create_assistant()
    config = AssistantConfig.from_dict(
        {"name": "Analyst", "code_interpreter": {"enabled": True, "file_ids": [uploaded.file_id]}}
    )
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    upstream.script(
        {
            "text": "Made a chart and a summary: sandbox:/mnt/data/summary.csv",
            "code_interpreter": {
                "code": "import pandas as pd\nprint(pd.read_csv('sales.csv').total.sum())",
                "logs": "3\n",
                "image": True,
                "files": [{"filename": "summary.csv", "content": "total\n3\n"}],
            },
        }
    )
    t = turn.start(store, backend, thread.id, version, "Chart the sales")
    list(t.events())
    assert t.result.status == "completed"
    assert t.requests == 2 + 2  # conversation + response, then the two generated files, once
    run = store.get_run(t.run_id)
    [code] = trace.code_runs(run.response)
    assert code.code.startswith("import pandas") and code.logs == ["3\n"]
    assert code.images and code.images[0].startswith(b"\x89PNG")
    made = store.run_files([run.id])
    assert sorted(f.filename for f in made) == ["plot.png", "summary.csv"]
    summary = next(f for f in made if f.filename == "summary.csv")
    assert store.run_file_content(summary.id) == b"total\n3\n"
    # The container went away upstream: the log still has the files.
    upstream.containers.clear()
    assert store.run_file_content(summary.id) == b"total\n3\n"


def test_a_generated_file_that_cannot_be_fetched_is_noted_not_fatal(store, backend, upstream):
    assistant = store.create_assistant()
    config = AssistantConfig.from_dict({"name": "A", "code_interpreter": {"enabled": True}})
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    upstream.script(
        {"text": "Here.", "code_interpreter": {"code": "x", "files": [{"filename": "a.txt", "content": "a"}]}},
        {"path": "/content", "status": 404, "error": {"message": "Container cntr_x has expired."}},
    )
    t = turn.start(store, backend, thread.id, version, "Make a file")
    list(t.events())
    assert t.result.status == "completed"
    [f] = store.run_files([t.run_id])
    assert f.size == 0 and f.error == "Not found (404): Container cntr_x has expired."


def test_upstream_stores_and_their_files_are_listed_named_and_detached(store, backend, upstream):
    # Made elsewhere (another tool, the dashboard): not in this log.
    upstream.indexing_polls = 0
    other = upstream.add_file("handbook.md", b"# Handbook\n")
    broken = upstream.add_file("corrupt.pdf", b"%PDF")
    made = upstream.create_vector_store("Team docs", [other["id"], broken["id"]])
    ours = files.create_vector_store(store, backend, "Mine")
    stores, problem = files.upstream_stores(backend)
    assert problem is None
    assert [(s["id"], s["name"], s["files"]) for s in stores] == [(ours, "Mine", 0), (made["id"], "Team docs", 2)]
    # A file this app uploaded into the store is tracked in the log, so it is not listed again.
    files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=made["id"])
    found, problem = files.upstream_files(store, backend, made["id"])
    assert problem is None
    assert sorted((f.filename, f.status, f.error) for f in found) == [
        ("corrupt.pdf", "failed", "The file could not be parsed."),
        ("handbook.md", "completed", None),
    ]
    handbook = next(f for f in found if f.filename == "handbook.md")
    assert files.detach(backend, made["id"], handbook) is None
    assert handbook.file_id not in upstream.vector_stores[made["id"]]["files"]
    assert handbook.file_id in upstream.files  # not ours to delete: only taken out of the store
    assert files.detach(backend, made["id"], handbook) is None  # already out: nothing to report


def test_listing_failures_are_one_redacted_sentence(store, backend, upstream):
    upstream.script({"path": "/vector_stores", "status": 403, "error": {"message": f"No access for {TEST_KEY}"}})
    stores, problem = files.upstream_stores(backend, secrets=(TEST_KEY,))
    assert stores == [] and problem.startswith("Could not list the vector stores: This key may not use")
    found, problem = files.upstream_files(store, backend, "vs_missing", secrets=(TEST_KEY,))
    assert found == [] and problem.startswith("Could not list the files of vs_missing: Not found (404)")
    assert TEST_KEY not in problem


def test_a_name_upstream_will_not_give_leaves_the_id(store, backend, upstream):
    upstream.indexing_polls = 0
    f = upstream.add_file("a.txt", b"a")
    vs = upstream.create_vector_store("S", [f["id"]])
    upstream.script({"path": f"/files/{f['id']}", "status": 404, "error": {"message": "gone"}})
    [found], _ = files.upstream_files(store, backend, vs["id"])
    assert (found.file_id, found.filename) == (f["id"], None)


def test_removal_and_indexing_errors_never_show_the_key(store, backend, upstream):
    vs = files.create_vector_store(store, backend, "Docs")
    files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=vs)
    [row] = store.list_files()
    # 409 is retried by the SDK: answer all three attempts.
    upstream.script(
        {"path": f"/files/{row.file_id}", "status": 409, "error": {"message": f"Locked by {TEST_KEY}"}, "times": 3}
    )
    problem = files.remove(store, backend, row, secrets=(TEST_KEY,))
    assert problem.startswith("Removing notes.txt failed:") and "Locked by [redacted]" in problem
    assert store.list_files() == [row]  # kept: it is still upstream
    upstream.script({"path": f"/files/{row.file_id}", "status": 400, "error": {"message": f"Bad {TEST_KEY}"}})
    files.refresh(store, backend, vs, secrets=(TEST_KEY,))
    [row] = store.list_files()
    assert row.error.startswith("Could not check notes.txt:") and "Bad [redacted]" in row.error
    assert TEST_KEY not in json.dumps(store.dump(), default=str)


def status_checks(upstream):
    return [r for r in upstream.requests if r["method"] == "GET" and "/files/" in r["path"]]


def test_indexing_is_followed_with_backoff_and_a_cap(store, backend, upstream):
    upstream.indexing_polls = 10_000  # never finishes
    vs = files.create_vector_store(store, backend, "Docs")
    files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=vs)
    assert [files.poll_gap(n) for n in (0, 9, 10, 11, 12)] == [0.0, 0.0, 1.5, 2.25, 3.375]
    assert files.poll_gap(100) == files.POLL_MAX_GAP_S
    poll = files.Poll(started=0.0)
    ticks = [t * 1.0 for t in range(int(files.POLL_GIVE_UP_S) + 5)]  # the page ticks once a second
    for now in ticks:
        rows = files.follow(store, backend, vs, poll, now)
        if poll.stopped:
            break
    assert files.indexing(rows) and poll.stopped.startswith("Still indexing after 10 minutes.")
    # Once a second at first, then further apart: far fewer than one request per tick.
    assert files.POLL_FAST < len(status_checks(upstream)) < 50
    before = len(status_checks(upstream))
    files.follow(store, backend, vs, poll, now + 100)
    assert len(status_checks(upstream)) == before  # stopped means stopped


def test_indexing_checks_that_keep_failing_stop_with_the_reason(store, backend, upstream):
    vs = files.create_vector_store(store, backend, "Docs")
    files.upload(store, backend, "notes.txt", NOTES, "file_search", vector_store_id=vs)
    [row] = store.list_files()
    path = f"/vector_stores/{vs}/files/{row.file_id}"
    upstream.script({"path": path, "status": 400, "error": {"message": "Nope."}, "times": files.POLL_MAX_ERRORS})
    poll = files.Poll(started=0.0)
    for now in range(files.POLL_MAX_ERRORS - 1):
        files.follow(store, backend, vs, poll, float(now))
    assert poll.stopped is None and poll.errors == files.POLL_MAX_ERRORS - 1
    files.follow(store, backend, vs, poll, 10.0)
    assert poll.stopped == (
        f"Stopped checking the indexing after {files.POLL_MAX_ERRORS} failed attempts. "
        "Could not check notes.txt: The request was refused (400): Nope."
    )
    # A check that works again clears the note on the file and the count.
    retry = files.Poll(started=20.0)
    [row] = files.follow(store, backend, vs, retry, 20.0)
    assert (row.status, row.error, retry.errors) == ("in_progress", None, 0)


def test_a_file_that_could_not_be_fetched_can_be_fetched_again(store, backend, upstream):
    assistant = store.create_assistant()
    config = AssistantConfig.from_dict({"name": "A", "code_interpreter": {"enabled": True}})
    version, _ = store.save_version(assistant.id, config)
    thread = store.create_thread(assistant.id)
    upstream.script(
        {"text": "Here.", "code_interpreter": {"code": "x", "files": [{"filename": "a.txt", "content": "abc"}]}},
        {"path": "/content", "status": 503, "error": {"message": "busy"}, "times": 3},
    )
    t = turn.start(store, backend, thread.id, version, "Make a file")
    list(t.events())
    [missing] = store.run_files([t.run_id])
    assert missing.error and missing.size == 0
    assert files.fetch_again(store, backend, missing) is None
    kept = [f for f in store.run_files([t.run_id]) if not f.error]
    assert [(f.filename, f.file_id) for f in kept] == [("a.txt", missing.file_id)]
    assert store.run_file_content(kept[0].id) == b"abc"
    # Once the container has expired, the sentence says what to do instead.
    upstream.containers.clear()
    problem = files.fetch_again(store, backend, missing)
    assert problem.startswith("a.txt is gone upstream") and problem.endswith("Ask the assistant to make it again.")
