"""Files: upload for file search (into a vector store) or for the code interpreter, and follow indexing.

Every upload is checked here first (name, type, size) so a bad file gets a sentence, not a request.
What was uploaded is kept in the log with its name, because the API's vector-store files and some
citations carry only ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from playground.backend import Backend
from playground.client import redact
from playground.errors import describe, say
from playground.store import FileRow, RunFile, Store

# Kept well under the API's 512 MB: uploads pass through a Streamlit server's memory.
MAX_UPLOAD_MB = 20
# The types file search indexes (OpenAI's file search guide).
FILE_SEARCH_TYPES = (
    *("c", "cpp", "cs", "css", "doc", "docx", "go", "html", "java", "js", "json", "md"),
    *("pdf", "php", "pptx", "py", "rb", "sh", "tex", "ts", "txt"),
)
# The code interpreter also reads data and images.
CODE_TYPES = tuple(
    sorted({*FILE_SEARCH_TYPES, "csv", "tsv", "xlsx", "xls", "xml", "jpg", "jpeg", "png", "gif", "zip", "tar", "pkl"})
)
PURPOSES = ("file_search", "code_interpreter")


@dataclass(frozen=True)
class UploadResult:
    row_id: int | None
    file_id: str | None
    problem: str | None  # a sentence for the user when the upload was refused or failed


def check_upload(filename: str, size: int, purpose: str) -> str | None:
    """Why this file cannot be uploaded for `purpose`, or None when it can."""
    name = PurePath(filename or "").name
    if not name:
        return "The file has no name."
    suffix = PurePath(name).suffix.lower().lstrip(".")
    allowed = FILE_SEARCH_TYPES if purpose == "file_search" else CODE_TYPES
    if suffix not in allowed:
        what = "File search" if purpose == "file_search" else "The code interpreter"
        kind = f".{suffix}" if suffix else "files without an extension"
        return f"{what} does not take {kind} files. Allowed: {', '.join('.' + t for t in allowed)}."
    if size <= 0:
        return f"{name} is empty."
    if size > MAX_UPLOAD_MB * 1024 * 1024:
        return f"{name} is {size / 1024 / 1024:.1f} MB; the limit here is {MAX_UPLOAD_MB} MB."
    return None


def upload(
    store: Store,
    backend: Backend,
    filename: str,
    data: bytes,
    purpose: str,
    *,
    vector_store_id: str | None = None,
    mime: str | None = None,
    secrets: tuple[str, ...] = (),
) -> UploadResult:
    """Check, upload, and (for file search) attach to the vector store. Logged whatever happens."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}")
    problem = check_upload(filename, len(data), purpose)
    if problem:
        return UploadResult(None, None, problem)
    if purpose == "file_search" and not vector_store_id:
        return UploadResult(None, None, "Pick or create a vector store first.")
    name = PurePath(filename).name
    try:
        file_id = backend.upload_file(name, data, mime)
    except Exception as exc:
        return UploadResult(None, None, say(exc, *secrets, before=f"Uploading {name} failed: "))
    row_id = store.add_file(file_id, name, len(data), purpose, vector_store_id=vector_store_id)
    if purpose == "file_search":
        assert vector_store_id is not None
        try:
            status, error = backend.attach_file(vector_store_id, file_id)
        except Exception as exc:
            message = say(exc, *secrets, before=f"Adding {name} to the vector store failed: ")
            store.set_file_status(row_id, "failed", message)
            return UploadResult(row_id, file_id, message)
        store.set_file_status(row_id, status, redact(error, *secrets) if error else None)
    return UploadResult(row_id, file_id, None)


def refresh(store: Store, backend: Backend, vector_store_id: str, secrets: tuple[str, ...] = ()) -> list[FileRow]:
    """Ask upstream about files still indexing; returns the store's files with their status now."""
    return _refresh(store, backend, vector_store_id, secrets)[0]


def _refresh(
    store: Store, backend: Backend, vector_store_id: str, secrets: tuple[str, ...] = ()
) -> tuple[list[FileRow], str | None]:
    """As `refresh`, plus the sentence of the last failed status request (None when all answered)."""
    problem = None
    for f in store.list_files("file_search", vector_store_id):
        if f.status != "in_progress":
            continue
        try:
            status, error = backend.file_status(vector_store_id, f.file_id)
        except Exception as exc:
            problem = say(exc, *secrets, before=f"Could not check {f.filename}: ")
            store.set_file_status(f.id, "in_progress", problem)
            continue
        error = redact(error, *secrets) if error else None
        if status != f.status or error != f.error:  # also clears a stale "could not check" note
            store.set_file_status(f.id, status, error)
    return store.list_files("file_search", vector_store_id), problem


# Following indexing: the first polls go at the page's tick (about once a second), then the gap
# grows by half each time up to POLL_MAX_GAP_S; after POLL_GIVE_UP_S, or POLL_MAX_ERRORS failed
# checks in a row, polling stops and the user is asked to check again.
POLL_FAST = 10
POLL_MAX_GAP_S = 30.0
POLL_GIVE_UP_S = 600.0
POLL_MAX_ERRORS = 5


@dataclass
class Poll:
    """Where following one vector store's indexing stands (kept in the browser session)."""

    started: float
    polls: int = 0
    errors: int = 0  # failed checks in a row
    next_at: float = 0.0
    stopped: str | None = None  # why polling stopped; None while it goes on

    def due(self, now: float) -> bool:
        return self.stopped is None and now >= self.next_at


def poll_gap(polls: int) -> float:
    """Seconds to wait after `polls` checks (0: the next tick)."""
    if polls < POLL_FAST:
        return 0.0
    return min(POLL_MAX_GAP_S, 1.5 ** (polls - POLL_FAST + 1))


def follow(
    store: Store, backend: Backend, vector_store_id: str, poll: Poll, now: float, secrets: tuple[str, ...] = ()
) -> list[FileRow]:
    """One tick of following indexing: ask upstream when due, then back off, or stop with a reason."""
    overdue = poll.stopped is None and now - poll.started >= POLL_GIVE_UP_S  # one last look, then stop
    if not (poll.due(now) or overdue):
        return store.list_files("file_search", vector_store_id)
    rows, problem = _refresh(store, backend, vector_store_id, secrets)
    poll.polls += 1
    poll.errors = poll.errors + 1 if problem else 0
    if not indexing(rows):
        return rows
    if poll.errors >= POLL_MAX_ERRORS:
        poll.stopped = f"Stopped checking the indexing after {poll.errors} failed attempts. {problem}"
    elif now - poll.started >= POLL_GIVE_UP_S:
        minutes = round((now - poll.started) / 60)
        poll.stopped = f"Still indexing after {minutes} minutes. Large files can take longer; check again later."
    else:
        poll.next_at = now + poll_gap(poll.polls)
    return rows


def indexing(files: list[FileRow]) -> bool:
    return any(f.status == "in_progress" for f in files)


def create_vector_store(store: Store, backend: Backend, name: str) -> str:
    name = name.strip() or "Playground files"
    vector_store_id = backend.create_vector_store(name)
    store.add_vector_store(vector_store_id, name)
    return vector_store_id


def remove(store: Store, backend: Backend, row: FileRow, secrets: tuple[str, ...] = ()) -> str | None:
    """Take a file out of its vector store (or the code interpreter's list) and delete it upstream."""
    try:
        if row.vector_store_id:
            backend.detach_file(row.vector_store_id, row.file_id)
        backend.delete_file(row.file_id)
    except Exception as exc:
        problem = describe(exc)
        if problem.kind != "not_found":  # already gone upstream: forget it here too
            return problem.told(*secrets, before=f"Removing {row.filename} failed: ")
    store.remove_file(row.id)
    return None


# -- vector stores and files that exist upstream, whoever made them ---------------------------


@dataclass(frozen=True)
class UpstreamFile:
    """A file in a vector store upstream that this log did not upload (so it only tracks it here)."""

    file_id: str
    filename: str | None  # None when upstream would not say
    status: str
    error: str | None


NAME_LOOKUPS = 20  # names fetched one request each; more files than this show their ids


def upstream_stores(backend: Backend, secrets: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], str | None]:
    """The key's vector stores upstream (newest first), or why they could not be listed."""
    try:
        return backend.list_vector_stores(), None
    except Exception as exc:
        return [], say(exc, *secrets, before="Could not list the vector stores: ")


def upstream_files(
    store: Store, backend: Backend, vector_store_id: str, secrets: tuple[str, ...] = ()
) -> tuple[list[UpstreamFile], str | None]:
    """The files of a vector store that this log does not track, named where possible."""
    try:
        listed = backend.list_vector_store_files(vector_store_id)
    except Exception as exc:
        return [], say(exc, *secrets, before=f"Could not list the files of {vector_store_id}: ")
    tracked = {f.file_id for f in store.list_files("file_search", vector_store_id)}
    names = store.filenames()
    out: list[UpstreamFile] = []
    lookups = 0
    for f in listed:
        file_id = f["file_id"]
        if file_id in tracked:
            continue
        name = names.get(file_id)
        if name is None and lookups < NAME_LOOKUPS:
            lookups += 1
            try:
                name = backend.file_name(file_id)
            except Exception:  # the id still identifies it; a name is a nicety
                name = None
        error = redact(f["error"], *secrets) if f.get("error") else None
        out.append(UpstreamFile(file_id, name, f["status"], error))
    return out, None


def detach(backend: Backend, vector_store_id: str, file: UpstreamFile, secrets: tuple[str, ...] = ()) -> str | None:
    """Take a file this app did not upload out of a vector store. The file itself is left alone:
    other stores or tools may use it."""
    try:
        backend.detach_file(vector_store_id, file.file_id)
    except Exception as exc:
        problem = describe(exc)
        if problem.kind != "not_found":
            return problem.told(*secrets, before=f"Removing {file.filename or file.file_id} failed: ")
    return None


def fetch_again(store: Store, backend: Backend, missing: RunFile, secrets: tuple[str, ...] = ()) -> str | None:
    """Try once more to keep a generated file that could not be fetched when its turn ended (a
    network blip, say). Kept as a new row of the run's files; None on success, else a sentence."""
    if not missing.container_id:
        return f"{missing.filename} cannot be fetched: the reply gave no container for it."
    try:
        data = backend.container_file(missing.container_id, missing.file_id)
    except Exception as exc:
        problem = describe(exc)
        if problem.kind == "not_found":
            return (
                f"{missing.filename} is gone upstream (its container expires after a short idle time). "
                "Ask the assistant to make it again."
            )
        return problem.told(*secrets, before=f"Fetching {missing.filename} failed: ")
    store.add_run_files(missing.run_id, [(missing.container_id, missing.file_id, missing.filename, data, None)])
    return None
