"""The file editors of the Tools section: files for file search (in vector stores) and for the code
interpreter. Layout and wiring only; checks, uploads and status live in `playground.files`."""

from __future__ import annotations

import time

import streamlit as st

from app_pages._common import Connection
from playground import editor, files, markup
from playground.errors import say
from playground.store import FileRow

ss = st.session_state
STATUS_ICONS = {
    "in_progress": ":material/progress_activity:",
    "completed": ":material/check_circle:",
    "failed": ":material/error:",
    "cancelled": ":material/cancel:",
    "uploaded": ":material/upload_file:",
}


def _ids(key: str) -> list[str]:
    return editor.split_ids(ss.get(key) or "")


def _set_ids(key: str, ids: list[str], on_edit) -> None:
    ss[key] = ", ".join(dict.fromkeys(ids))
    on_edit()


def _allowed(types: tuple[str, ...], what: str) -> None:
    # Streamlit's uploader refuses other types and bigger files in the browser with a hover-only
    # tooltip; this line says the rule where it can be read. `files.check_upload` is the backstop.
    st.caption(
        f":material/info: {what} takes {', '.join('.' + t for t in types)} files, up to {files.MAX_UPLOAD_MB} MB "
        "each. A file outside these is refused by the box above (marked red) and never uploaded."
    )


# -- file search ----------------------------------------------------------------------------


def file_search_files(conn: Connection, on_edit) -> None:
    """Pick, make or attach a vector store, upload into it, watch indexing, remove files."""
    store = conn.store
    known = {v["id"]: v["name"] for v in store.list_vector_stores()}
    upstream, listing_problem = _upstream_stores(conn)
    names = {**{s["id"]: s["name"] for s in upstream}, **known}
    counts = {s["id"]: s["files"] for s in upstream}
    chosen = _ids("cfg.vector_store_ids")
    options = list(dict.fromkeys([*chosen, *known, *(s["id"] for s in upstream)]))
    if ss.get("fs_target") not in (*options, None):
        ss.fs_target = options[0] if options else None  # e.g. a store deleted upstream

    def label(i: str) -> str:
        parts = [names.get(i) or "(no name)", i]
        if i in counts:
            parts.append(f"{counts[i]} file{'s' if counts[i] != 1 else ''}")
        return " · ".join(parts)

    left, reload = st.columns([8, 1], vertical_alignment="bottom")
    target = left.selectbox(
        "Vector store",
        options,
        index=0 if options else None,
        key="fs_target",
        format_func=label,
        placeholder="Create one first ↓",
        help="Stores made here and the ones your key's project already has upstream.",
    )
    reload.button(
        "",
        key="fs_reload",
        icon=":material/refresh:",
        help="Reload the vector stores and their files from the API",
        on_click=_forget_upstream,
    )
    unused = bool(target) and target not in chosen
    new, use = st.columns(2)
    new.button(
        "New vector store",
        key="fs_new_store",
        icon=":material/add:",
        width="stretch",
        on_click=_new_store,
        args=(conn, on_edit),
    )
    if unused:
        use.button(
            "Search this store",
            key="fs_use_store",
            icon=":material/link:",
            width="stretch",
            on_click=_use_store,
            args=(conn, target, names.get(target) or "", on_edit),
        )
    if listing_problem:
        st.warning(listing_problem, icon=":material/cloud_off:")
    if unused:
        st.caption(":material/info: This store is not searched until its id is in *Vector store ids* above.")

    round_ = ss.setdefault("fs_upload_round", 0)
    st.file_uploader(
        "Add files to search",
        type=list(files.FILE_SEARCH_TYPES),
        accept_multiple_files=True,
        key=f"fs_upload_{round_}",
        max_upload_size=files.MAX_UPLOAD_MB,
        on_change=_upload,
        args=(conn, f"fs_upload_{round_}", "file_search", target, on_edit),
        disabled=not target,
    )
    _allowed(files.FILE_SEARCH_TYPES, "File search")
    _problems("fs_problems")
    if not target:
        return
    rows = conn.store.list_files("file_search", target)
    poll = _poll(target) if files.indexing(rows) else None
    if poll is not None and poll.stopped is None:
        indexing_status(conn, target, on_edit)
    else:
        if poll is not None:
            stopped, again = st.columns([4, 1], vertical_alignment="center")
            stopped.warning(poll.stopped, icon=":material/hourglass_top:")
            again.button(
                "Check again", key="fs_check_again", icon=":material/refresh:", on_click=_check_again, args=(target,)
            )
        elif not rows and not _upstream_files(conn, target)[0]:
            st.caption("No files in this vector store yet.")
        for row in rows:
            _file_row(conn, row, "fs", on_edit)
    _other_files(conn, target)


@st.fragment(run_every=1.0)
def indexing_status(conn: Connection, vector_store_id: str, on_edit) -> None:
    """Drawn only while files index. Ticks every second; asks upstream on the schedule of
    `files.follow` (every tick at first, then backing off), and stops when it says so."""
    poll = _poll(vector_store_id)
    rows = files.follow(conn.store, conn.hosted(), vector_store_id, poll, time.time(), secrets=conn.secrets)
    if not files.indexing(rows) or poll.stopped:
        if not files.indexing(rows):
            ss.get("fs_polls", {}).pop(vector_store_id, None)
        st.rerun()  # all settled, or polling gave up: the static list takes over and the ticking stops
    done = sum(r.status in ("completed", "failed", "cancelled") for r in rows)
    st.progress(done / len(rows), text=f"Indexing… {done} of {len(rows)} files ready")
    for row in rows:
        _file_row(conn, row, "fs", on_edit)


def _poll(vector_store_id: str) -> files.Poll:
    polls: dict[str, files.Poll] = ss.setdefault("fs_polls", {})
    if vector_store_id not in polls:
        polls[vector_store_id] = files.Poll(started=time.time())
    return polls[vector_store_id]


def _check_again(vector_store_id: str) -> None:
    ss.setdefault("fs_polls", {})[vector_store_id] = files.Poll(started=time.time())


def _upstream_stores(conn: Connection) -> tuple[list[dict], str | None]:
    """The key's vector stores upstream, asked once per session (and on Reload), not per rerun."""
    cache = _upstream_cache(conn)
    if "stores" not in cache:
        cache["stores"] = files.upstream_stores(conn.hosted(), conn.secrets)
    return cache["stores"]


def _upstream_files(conn: Connection, vector_store_id: str) -> tuple[list[files.UpstreamFile], str | None]:
    cache = _upstream_cache(conn).setdefault("files", {})
    if vector_store_id not in cache:
        cache[vector_store_id] = files.upstream_files(conn.store, conn.hosted(), vector_store_id, conn.secrets)
    return cache[vector_store_id]


def _upstream_cache(conn: Connection) -> dict:
    # Tied to the key and base URL: a different key in the sidebar sees its own stores.
    who = (conn.key.fingerprint if conn.key else None, conn.base_url)
    cache = ss.get("fs_upstream")
    if not cache or cache.get("who") != who:
        cache = ss.fs_upstream = {"who": who}
    return cache


def _forget_upstream() -> None:
    ss.pop("fs_upstream", None)


def _other_files(conn: Connection, vector_store_id: str) -> None:
    """Files in the store that were not uploaded here (another tool, the dashboard)."""
    found, problem = _upstream_files(conn, vector_store_id)
    if problem:
        st.warning(markup.literal(problem), icon=":material/cloud_off:")
    if not found:
        return
    st.caption(f"Also in this store, added outside this app ({len(found)}):")
    if any(f.status == "in_progress" for f in found):
        # Not followed like uploads made here: one listing, refreshed on demand.
        st.caption(":material/info: Some of these were still indexing when listed; ↻ above shows their status now.")
    for f in found:
        name, status, remove = st.columns([5, 3, 1], vertical_alignment="center")
        name.markdown(
            f"{STATUS_ICONS.get(f.status, '')} {markup.literal(f.filename or '(name unknown)')}  \n"
            f":gray[{markup.literal(f.file_id)}]"
        )
        label = {"in_progress": "indexing"}.get(f.status, f.status)
        status.caption(label if not f.error else f"{label}: {markup.literal(f.error)}")
        remove.button(
            "",
            key=f"fs_detach_{vector_store_id}_{f.file_id}",
            icon=":material/link_off:",
            help=f"Take {markup.literal(f.filename or f.file_id)} out of this store (the file itself is kept)",
            on_click=_detach,
            args=(conn, vector_store_id, f),
        )


def _detach(conn: Connection, vector_store_id: str, f: files.UpstreamFile) -> None:
    problem = files.detach(conn.hosted(), vector_store_id, f, conn.secrets)
    ss.fs_problems = [problem] if problem else []
    _upstream_cache(conn).get("files", {}).pop(vector_store_id, None)


def _new_store(conn: Connection, on_edit) -> None:
    name = (ss.get("cfg.name") or "Playground").strip() + " files"
    try:
        new_id = files.create_vector_store(conn.store, conn.hosted(), name)
    except Exception as exc:
        ss.fs_problems = [f"Could not create a vector store: {_sentence(exc, conn)}"]
        return
    ss.fs_problems = []
    _set_ids("cfg.vector_store_ids", [*_ids("cfg.vector_store_ids"), new_id], on_edit)
    ss.fs_target = new_id


def _use_store(conn: Connection, vector_store_id: str, name: str, on_edit) -> None:
    conn.store.add_vector_store(vector_store_id, name)  # its name is kept in the log from now on
    _set_ids("cfg.vector_store_ids", [*_ids("cfg.vector_store_ids"), vector_store_id], on_edit)


# -- code interpreter -----------------------------------------------------------------------


def code_files(conn: Connection, on_edit) -> None:
    round_ = ss.setdefault("ci_upload_round", 0)
    st.file_uploader(
        "Files for the code interpreter",
        type=list(files.CODE_TYPES),
        accept_multiple_files=True,
        key=f"ci_upload_{round_}",
        max_upload_size=files.MAX_UPLOAD_MB,
        on_change=_upload,
        args=(conn, f"ci_upload_{round_}", "code_interpreter", None, on_edit),
        help="They are put in the container the code runs in.",
    )
    _allowed(files.CODE_TYPES, "The code interpreter")
    _problems("ci_problems")
    attached = set(_ids("cfg.code_file_ids"))
    for row in conn.store.list_files("code_interpreter"):
        if row.file_id in attached:
            _file_row(conn, row, "ci", on_edit)


# -- shared ---------------------------------------------------------------------------------


def _file_row(conn: Connection, row: FileRow, prefix: str, on_edit) -> None:
    name, status, remove = st.columns([5, 3, 1], vertical_alignment="center")
    name.markdown(
        f"{STATUS_ICONS.get(row.status, '')} {markup.literal(row.filename)}  \n:gray[{row.bytes / 1024:,.1f} KB]"
    )
    label = {"in_progress": "indexing", "uploaded": "ready"}.get(row.status, row.status)
    status.caption(label if not row.error else f"{label}: {markup.literal(row.error)}")
    remove.button(
        "",
        key=f"{prefix}_remove_{row.id}",
        icon=":material/delete:",
        help=f"Remove {markup.literal(row.filename)}",
        on_click=_remove,
        args=(conn, row, prefix, on_edit),
    )


def _upload(conn: Connection, key: str, purpose: str, vector_store_id: str | None, on_edit) -> None:
    # A ticking fragment can deliver the same widget value again after the key has rotated; each
    # browser upload has its own file_id, so one seen before is skipped instead of uploaded twice.
    done: set[str] = ss.setdefault("uploads_done", set())
    uploads = [up for up in ss.get(key) or [] if getattr(up, "file_id", None) not in done]
    if not uploads:
        return
    done.update(up.file_id for up in uploads if getattr(up, "file_id", None))
    problems: list[str] = []
    added: list[str] = []
    backend = conn.hosted()
    for up in uploads:
        result = files.upload(
            conn.store,
            backend,
            up.name,
            up.getvalue(),
            purpose,
            vector_store_id=vector_store_id,
            mime=up.type,
            secrets=conn.secrets,
        )
        if result.problem:
            problems.append(result.problem)
        elif result.file_id:
            added.append(result.file_id)
    prefix = "fs" if purpose == "file_search" else "ci"
    ss[f"{prefix}_problems"] = problems
    ss[f"{prefix}_upload_round"] = ss.get(f"{prefix}_upload_round", 0) + 1  # a fresh, empty uploader
    if purpose == "file_search" and vector_store_id and added:
        _check_again(vector_store_id)  # new files: follow their indexing from the start
    if purpose == "code_interpreter" and added:
        _set_ids("cfg.code_file_ids", [*_ids("cfg.code_file_ids"), *added], on_edit)


def _remove(conn: Connection, row: FileRow, prefix: str, on_edit) -> None:
    problem = files.remove(conn.store, conn.hosted(), row, secrets=conn.secrets)
    ss[f"{prefix}_problems"] = [problem] if problem else []
    if not problem and row.purpose == "code_interpreter":
        _set_ids("cfg.code_file_ids", [i for i in _ids("cfg.code_file_ids") if i != row.file_id], on_edit)


def _problems(key: str) -> None:
    for problem in ss.get(key) or []:
        st.error(markup.literal(problem), icon=":material/error:")


def _sentence(exc: Exception, conn: Connection) -> str:
    return say(exc, *conn.secrets)
