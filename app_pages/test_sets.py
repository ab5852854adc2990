"""Test sets: cases with expected outputs, graders, runs on any version in the background, and results.

Layout and wiring only: the cases and graders live in the log (`playground.store`, read and written as
files by `playground.cases`), runs are `playground.evaluation`'s (on background threads, so leaving the
page does not stop them) and the figures are `playground.results`'. Model output, graders' reasons and
case text are data: they are drawn in dataframes, text areas or through `markup.literal`, never as
markdown of their own.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
import streamlit as st

from app_pages._common import assistant_names, current, guarded_write, setup_panel
from app_pages._sharing import mine, whose
from playground import cases, editor, evaluation, markup, replay, results, usage
from playground.errors import LogError
from playground.graders import GraderError
from playground.store import Version

conn = current()
store = conn.store
ss = st.session_state
tz = st.context.timezone

PAGE_SIZE = 50  # cases per page of the editor
UPLOAD_MB = 50  # the server's own ceiling (.streamlit/config.toml)
DRAFT = 0  # the version picker's option for an assistant's unsaved draft
VERDICTS = {True: "pass", False: "fail", None: "ungraded"}  # a case's `passed` as a table shows it
OUTPUT = "{{sample.output_text}}"
# Quick-add buttons: a label, and the grader each appends (its name made unique among those there).
QUICK_GRADERS: dict[str, dict[str, Any]] = {
    "Regex on the output": {"type": "regex", "name": "regex", "input": OUTPUT, "pattern": "."},
    "Equals expected": {
        "type": "string_check",
        "name": "equals expected",
        "input": OUTPUT,
        "reference": "{{item.expected}}",
        "operation": "eq",
    },
    "Contains expected": {
        "type": "string_check",
        "name": "contains expected",
        "input": OUTPUT,
        "reference": "{{item.expected}}",
        "operation": "ilike",
    },
    "Valid JSON": {"type": "valid_json", "name": "valid JSON", "input": OUTPUT},
}


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def say(problem: object) -> str:
    """An exception or message as one sentence drawn as written."""
    text = str(problem.problem.message) if isinstance(problem, LogError) else str(problem)
    return markup.literal(text.strip() or type(problem).__name__)


# -- files ------------------------------------------------------------------------------------------


def read_upload(upload: Any) -> list[dict[str, Any]]:
    """The cases of an uploaded CSV or JSONL file, every row read and checked before anything is kept.
    Raises CasesError (one sentence) when the file cannot be used."""
    name = (upload.name or "").lower()
    upload.seek(0)  # the same upload may be read again on a later run
    if name.endswith(".csv"):
        read = cases.read_csv
    elif name.endswith((".jsonl", ".json", ".ndjson")):
        read = cases.read_jsonl
    else:
        raise cases.CasesError("Upload a .csv or .jsonl file.")
    found = [{"input": c.input, "expected": c.expected, "variables": c.variables, "tags": c.tags} for c in read(upload)]
    if not found:
        raise cases.CasesError("The file holds no cases.")
    return found


def as_cases(rows: list[dict[str, Any]]) -> list[cases.Case]:
    return [cases.Case(r["input"], r["expected"], dict(r["variables"]), list(r["tags"])) for r in rows]


def uploader(label: str, key: str) -> Any:
    """A file uploader whose key turns over after each import, so a kept file is never imported twice."""
    upload = st.file_uploader(
        label, type=["csv", "jsonl"], key=f"{key}.{ss.get(key + '_gen', 0)}", max_upload_size=UPLOAD_MB
    )
    st.caption(
        "CSV: an `input` column, optional `expected` and `tags` columns; every other column is a variable. "
        f'JSONL: one object a line, flat or OpenAI Evals\' `{{"item": {{…}}}}` rows. Up to {UPLOAD_MB} MB.'
    )
    return upload


def uploaded(key: str) -> None:
    ss[key + "_gen"] = ss.get(key + "_gen", 0) + 1


# -- a new test set ---------------------------------------------------------------------------------

st.title("Test sets")
if toast := ss.pop("ts_toast", None):  # said by the run after the one that saved
    st.toast(toast, icon=":material/save:")
st.caption(
    "Cases with what you expect, graders that check each output, and runs on any version: "
    "see what passes, what changed against an earlier run, and how versions compare."
)
with st.expander("New test set", icon=":material/add:", expanded=not store.list_test_sets()):
    name = st.text_input("Name", key="ts_name", placeholder="Refund questions")
    source = st.radio(
        "Cases", ["From conversations", "Written by hand", "From a file"], horizontal=True, key="ts_source"
    )
    upload = None
    inputs: list[str] = []
    sources: list[int] | None = None
    mode = "separate"
    if source == "From conversations":
        threads = store.conversations(limit=200)
        titles = {t["id"]: f"#{t['id']} · {t['title'] or '(untitled)'} · {t['assistant']}" for t in threads}
        thread_ids = st.multiselect(
            "Conversations",
            list(titles),
            default=list(titles)[:1],
            format_func=titles.get,
            key="ts_threads",
            help="The newest 200. To pick from a search or filters, use “Save as test set” on the Conversations page.",
        )
        inputs, sources = replay.from_threads(store, thread_ids)
        mode = (
            "conversation"
            if st.toggle("Replay each conversation in order, on a thread of its own", True, key="ts_mode")
            else "separate"
        )
        st.caption(
            f"{plural(len(inputs), 'user turn')} from {len(thread_ids)} "
            f"conversation{'s' if len(thread_ids) != 1 else ''}."
        )
    elif source == "Written by hand":
        text = st.text_area("Inputs, separated by a line with only ---", key="ts_inputs", height=160)
        inputs = replay.parse_inputs(text)
        st.caption(f"{plural(len(inputs), 'input')}; each runs on a thread of its own.")
    else:
        upload = uploader("Cases file", "ts_file")
    if st.button("Save test set", key="ts_save", icon=":material/save:"):
        if source == "From a file":
            problems = [] if name.strip() else ["Give the test set a name."]
            imported: list[dict[str, Any]] = []
            if upload is None:
                problems.append("Choose a CSV or JSONL file of cases.")
            else:
                try:
                    imported = read_upload(upload)
                except cases.CasesError as exc:
                    problems.append(str(exc))
            for p in problems:
                st.error(markup.literal(p), icon=":material/error:")
            if not problems:
                new_id = store.create_test_set(name.strip(), [], cases=imported)
                ss.ts_pick = new_id
                uploaded("ts_file")
                ss.ts_toast = f"Saved “{markup.literal(name.strip())}” with {plural(len(imported), 'case')}"
                st.rerun()
        else:
            problems = replay.check(name, inputs)
            for p in problems:
                st.error(markup.literal(p), icon=":material/error:")
            if not problems:
                ss.ts_pick = replay.save(store, name, inputs, mode=mode, sources=sources)
                st.toast(f"Saved “{markup.literal(name.strip())}”", icon=":material/save:")

sets = store.list_test_sets()
if not sets:
    st.info("No test sets yet: make one above, from conversations, by hand or from a file.")
    st.stop()
# Pickers' labels never change while a page is open (a count or status in them would: the browser
# keeps showing the label it was given first), so what changes is said in a caption under them.
named = [s["name"] for s in sets]
labels = {s["id"]: s["name"] + (f" · #{s['id']}" if named.count(s["name"]) > 1 else "") for s in sets}
if ss.get("ts_pick") not in labels:  # deleted, or another owner's: start from the newest
    ss.ts_pick = next(iter(labels))
set_id = st.selectbox("Test set", list(labels), format_func=labels.get, key="ts_pick")
test_set = store.get_test_set(set_id) or {}
stored_graders = test_set.get("graders") or "[]"
total_cases = store.count_cases(set_id)
picked_set = next(s for s in sets if s["id"] == set_id)
st.caption(
    " · ".join(
        part
        for part in (
            plural(total_cases, "case"),
            f"from {picked_set['sources']} conversations" if picked_set["sources"] > 1 else "",
            "each conversation replayed in order" if picked_set["mode"] == "conversation" else "",
            plural(len(results.grader_names(stored_graders)), "grader"),
            plural(picked_set["replays"], "run"),
        )
        if part
    )
)


# -- cases --------------------------------------------------------------------------------------------


def _json_object(text: Any, where: str) -> dict[str, str]:
    if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
        return {}
    try:
        value = json.loads(str(text))
    except ValueError:
        raise ValueError(f'{where}: variables must be a JSON object such as {{"city": "Paris"}}.') from None
    if not isinstance(value, dict):
        raise ValueError(f'{where}: variables must be a JSON object such as {{"city": "Paris"}}.')
    return {str(k): v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in value.items()}


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _case_from_cells(cells: dict[str, Any], where: str) -> dict[str, Any]:
    """A case as the store takes it, from the editor's cells (all or some of them)."""
    out: dict[str, Any] = {}
    if "input" in cells:
        if not _cell(cells["input"]).strip():
            raise ValueError(f"{where} has no input.")
        out["input"] = _cell(cells["input"])
    if "expected" in cells:
        out["expected"] = _cell(cells["expected"]) or None
    if "variables" in cells:
        out["variables"] = _json_object(cells["variables"], where)
    if "tags" in cells:
        out["tags"] = [t.strip() for t in _cell(cells["tags"]).replace(";", ",").split(",") if t.strip()]
    return out


def keep_open(flag: str, set_id: int) -> None:
    ss[flag] = set_id


def save_cases(set_id: int, ids: list[int], first: int, key: str) -> None:
    """Apply the editor's changes (edited, added and deleted rows): all of them, or none when a row is
    not right (the sentence says which)."""
    keep_open("ts_cases_open", set_id)
    state = ss.get(key) or {}
    try:
        edits = {
            ids[int(row)]: _case_from_cells(cells, f"Case #{first + int(row)}")
            for row, cells in (state.get("edited_rows") or {}).items()
            if int(row) < len(ids) and cells
        }
        added = [
            _case_from_cells({"input": "", **cells}, f"New row {n}")
            for n, cells in enumerate(state.get("added_rows") or [], start=1)
        ]
    except ValueError as exc:
        ss.ts_cases_problem = str(exc)
        return
    deleted = [ids[int(row)] for row in state.get("deleted_rows") or [] if int(row) < len(ids)]
    edits = {case_id: case for case_id, case in edits.items() if case_id not in deleted}
    for case_id, case in edits.items():
        if guarded_write(store.update_case, case_id, case) is None and ss.get("log_refused"):
            return
    if deleted and guarded_write(store.delete_cases, deleted) is None and ss.get("log_refused"):
        return
    if added and guarded_write(store.add_cases, set_id, added) is None:
        return
    ss.ts_cases_gen = ss.get("ts_cases_gen", 0) + 1  # a fresh editor, showing the log
    changed = [f"{len(edits)} edited" if edits else "", f"{len(added)} added" if added else ""]
    changed.append(f"{len(deleted)} deleted" if deleted else "")
    ss.ts_cases_saved = ", ".join(part for part in changed if part) or "nothing had changed"


def case_action(action: str, set_id: int, number_key: str) -> None:
    """Duplicate or delete the case numbered in the picker (its place in the set, from 1)."""
    keep_open("ts_cases_open", set_id)
    picked = store.test_cases(set_id, offset=int(ss[number_key]) - 1, limit=1)
    if not picked:
        ss.ts_cases_problem = f"There is no case #{ss[number_key]}."
        return
    if action == "duplicate":
        if guarded_write(store.duplicate_case, picked[0]["id"]) is not None:
            ss.ts_cases_saved = f"case #{ss[number_key]} duplicated at the end"
    else:
        guarded_write(store.delete_cases, [picked[0]["id"]])
        if not ss.get("log_refused"):
            ss.ts_cases_saved = f"case #{ss[number_key]} deleted"
    ss.ts_cases_gen = ss.get("ts_cases_gen", 0) + 1


def all_cases(set_id: int) -> list[cases.Case]:
    return as_cases(store.test_cases(set_id))


# Labels stay the same whatever the counts (a new label is a new expander, drawn closed), and a section
# someone worked in stays open.
with st.expander(
    "Cases", icon=":material/list:", expanded=total_cases <= PAGE_SIZE or ss.get("ts_cases_open") == set_id
):
    pages = max(1, math.ceil(total_cases / PAGE_SIZE))
    page_no = 1
    if ss.get(f"ts_page.{set_id}", 1) > pages:  # cases were deleted: the last page there is
        ss[f"ts_page.{set_id}"] = pages
    if pages > 1:
        page_no = int(
            st.number_input(
                "Page", 1, pages, key=f"ts_page.{set_id}", on_change=keep_open, args=("ts_cases_open", set_id)
            )
        )
    first = (page_no - 1) * PAGE_SIZE
    shown_cases = store.test_cases(set_id, offset=first, limit=PAGE_SIZE)
    st.caption(
        f"Cases {first + 1:,}–{first + len(shown_cases):,} of {total_cases:,}. Edit a cell, add a row at the "
        'bottom or delete rows, then save. Variables are a JSON object (`{"city": "Paris"}`); tags are '
        "separated by commas."
        if shown_cases
        else "No cases yet: add rows below, then save."
    )
    frame = pd.DataFrame(
        [
            {
                "#": first + n,
                "input": c["input"],
                "expected": c["expected"] or "",
                "variables": json.dumps(c["variables"], ensure_ascii=False) if c["variables"] else "",
                "tags": ", ".join(c["tags"]),
            }
            for n, c in enumerate(shown_cases, start=1)
        ],
        columns=["#", "input", "expected", "variables", "tags"],
    )
    editor_key = f"ts_cases.{set_id}.{page_no}.{ss.get('ts_cases_gen', 0)}"
    st.data_editor(
        frame,
        key=editor_key,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "#": st.column_config.NumberColumn(disabled=True, width="small"),
            "input": st.column_config.TextColumn(width="large", required=True),
            "expected": st.column_config.TextColumn(width="medium", help="Empty: no expectation"),
            "variables": st.column_config.TextColumn(help='A JSON object: {"name": "value"}'),
            "tags": st.column_config.TextColumn(width="small", help="Separated by commas"),
        },
    )
    if problem := ss.pop("ts_cases_problem", None):
        st.error(f"Nothing saved: {markup.literal(problem)}", icon=":material/error:")
    if saved := ss.pop("ts_cases_saved", None):
        st.success(f"Saved: {saved}.", icon=":material/check:")
    pending = ss.get(editor_key) or {}
    unsaved = any(pending.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
    if unsaved:
        st.caption(":orange[Unsaved changes: save them before leaving this page or turning it.]")
    st.button(
        "Save changes",
        key="ts_cases_save",
        icon=":material/save:",
        type="primary" if unsaved else "secondary",
        on_click=save_cases,
        args=(set_id, [c["id"] for c in shown_cases], first + 1, editor_key),
    )
    if total_cases:
        left, mid, right = st.columns([1, 1, 1], vertical_alignment="bottom")
        number_key = f"ts_case_no.{set_id}"
        if ss.get(number_key, 1) > total_cases:
            ss[number_key] = total_cases
        left.number_input("Case #", 1, total_cases, key=number_key)
        mid.button(
            "Duplicate",
            key="ts_case_duplicate",
            icon=":material/content_copy:",
            on_click=case_action,
            args=("duplicate", set_id, number_key),
            width="stretch",
        )
        right.button(
            "Delete",
            key="ts_case_delete",
            icon=":material/delete:",
            on_click=case_action,
            args=("delete", set_id, number_key),
            width="stretch",
        )
    more = uploader("Add cases from a file", f"ts_more.{set_id}")
    if more is not None and st.button("Import", key="ts_import", icon=":material/upload:"):
        try:
            rows = read_upload(more)
            store.add_cases(set_id, rows)
        except (cases.CasesError, ValueError) as exc:
            st.error(f"Nothing imported: {markup.literal(say(exc))}", icon=":material/error:")
        else:
            uploaded(f"ts_more.{set_id}")
            keep_open("ts_cases_open", set_id)
            ss.ts_cases_gen = ss.get("ts_cases_gen", 0) + 1
            ss.ts_cases_saved = f"{plural(len(rows), 'case')} imported"
            st.rerun()
    if total_cases:
        left, right = st.columns(2)
        left.download_button(
            "Cases as CSV",
            data=lambda set_id=set_id: cases.write_csv(all_cases(set_id)),
            file_name=f"test-set-{set_id}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key="ts_cases_csv",
        )
        right.download_button(
            "Cases as JSONL",
            data=lambda set_id=set_id: cases.write_jsonl(all_cases(set_id)),
            file_name=f"test-set-{set_id}.jsonl",
            mime="application/jsonl",
            icon=":material/download:",
            on_click="ignore",
            key="ts_cases_jsonl",
        )


# -- graders ----------------------------------------------------------------------------------------


def pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def add_grader(set_id: int, key: str, template: dict[str, Any]) -> None:
    """Append a grader template to the criteria being edited (a callback: the field shows it next)."""
    keep_open("ts_graders_open", set_id)
    text = (ss.get(key) or "").strip() or "[]"
    try:
        data = json.loads(text)
    except ValueError:
        ss.ts_graders_problem = (key, "The criteria are not valid JSON yet: fix them before adding a grader.")
        return
    listed = data.get("testing_criteria") if isinstance(data, dict) else data
    if not isinstance(listed, list):
        ss.ts_graders_problem = (key, 'The criteria must be a list, or an object with a "testing_criteria" list.')
        return
    taken = {str(g.get("name") or g.get("type")) for g in listed if isinstance(g, dict)}
    grader, n = dict(template), 2
    while grader["name"] in taken:
        grader["name"], n = f"{template['name']} {n}", n + 1
    listed.append(grader)
    ss[key] = json.dumps(data, indent=2, ensure_ascii=False)


def save_graders(set_id: int, key: str) -> None:
    keep_open("ts_graders_open", set_id)
    ss.pop("ts_graders_problem", None)
    text = (ss.get(key) or "").strip() or "[]"
    try:
        evaluation.load_graders(text)
    except GraderError as exc:
        ss.ts_graders_problem = (key, f"Not saved: {exc}")
        return
    data = json.loads(text)
    listed = data["testing_criteria"] if isinstance(data, dict) else data
    kept = json.dumps(listed, indent=2, ensure_ascii=False)
    if guarded_write(store.set_graders, set_id, kept) is None and ss.get("log_refused"):
        return
    ss[key] = kept
    ss.ts_graders_saved = key


grader_key = f"ts_graders.{set_id}"
if grader_key not in ss:
    ss[grader_key] = pretty(stored_graders)
grader_names = results.grader_names(stored_graders)
with st.expander("Graders", icon=":material/rule:", expanded=not grader_names or ss.get("ts_graders_open") == set_id):
    st.caption(
        f"{plural(len(grader_names), 'grader')} saved. "
        "OpenAI Evals' `testing_criteria`: a JSON list of graders, each a `type` and its fields, with "
        "`{{sample.output_text}}` and `{{item.expected}}` (or `{{item.<variable>}}`) filled in per case. "
        "A case passes when every grader passes."
    )
    quick = st.columns(len(QUICK_GRADERS))
    for n, (label, template) in enumerate(QUICK_GRADERS.items()):
        quick[n].button(
            label,
            key=f"ts_add_grader.{n}",
            icon=":material/add:",
            on_click=add_grader,
            args=(set_id, grader_key, template),
            width="stretch",
        )
    st.text_area(
        "Testing criteria (JSON)",
        key=grader_key,
        height=260,
        on_change=lambda: ss.pop("ts_graders_problem", None),  # the sentence was about the text before
    )
    problem = ss.get("ts_graders_problem")
    if problem and problem[0] == grader_key:
        st.error(markup.literal(problem[1]), icon=":material/error:")
    if ss.pop("ts_graders_saved", None) == grader_key:
        st.success(f"Graders saved: {plural(len(grader_names), 'grader')}.", icon=":material/check:")
    elif (ss[grader_key].strip() or "[]") != pretty(stored_graders).strip():
        st.caption(":orange[Unsaved changes.]")
    st.button(
        "Save graders",
        key="ts_graders_save",
        icon=":material/save:",
        type="primary",
        on_click=save_graders,
        args=(set_id, grader_key),
    )


# -- running ----------------------------------------------------------------------------------------


def eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f" · about {max(1, round(seconds))} s left"
    return f" · about {seconds / 60:.0f} min left"


def stop_run(replay_id: int) -> None:
    running = evaluation.find(replay_id)
    if running is not None:
        running.stop()


def keep(started: evaluation.Evaluation) -> None:
    """Hold on to a run started here: once it ends, the registry forgets it, and a failed run's
    sentence (`error`) is only on the object."""
    ss.setdefault("ts_evals", {})[started.replay_id] = started
    ss.ts_show = started.replay_id


def resume_run(replay_id: int) -> None:
    """Go on with the run's cases that have no result, at the run's own concurrency."""
    if conn.key is None:
        ss.ts_run_problem = "Add an API key to resume the run."
        return
    try:
        keep(evaluation.resume(store, conn.backend, replay_id, secrets=conn.secrets))
    except (LogError, GraderError, ValueError, LookupError) as exc:
        ss.ts_run_problem = str(exc.problem.message if isinstance(exc, LogError) else exc)


@st.fragment(run_every=1)
def progress(replay_id: int, label: str) -> None:
    """A running run's progress, polled every second (only this part reruns)."""
    running = evaluation.find(replay_id)
    row = store.get_replay(replay_id)
    if row is None:
        st.rerun()
    if running is None or running.finished:
        if row["status"] != "running" or row["interrupted"]:
            st.rerun()  # done (or its process stopped): the whole page shows the outcome
        done = min(total_cases, len(store.replay_done_cases(replay_id)))  # results of cases deleted since count too
        st.progress(min(1.0, done / max(1, total_cases)), text=f"{label}: {done:,} of {total_cases:,}, finishing…")
        return
    p = running.progress()
    text = (
        f"{label}: {p.done:,} of {p.total:,} · {p.passed:,} passed · {p.failed:,} failed"
        + (f" · {p.ungraded:,} ungraded" if p.ungraded else "")
        + eta(p.eta_s)
    )
    st.progress(min(1.0, p.done / max(1, p.total)), text=text)
    st.button("Stop", key=f"ts_stop.{replay_id}", icon=":material/stop_circle:", on_click=stop_run, args=(replay_id,))


def run_label(r: dict[str, Any]) -> str:
    return f"#{r['id']} · {r['assistant']} v{r['version']} · {r['model']} · {editor.clock(r['created_at'], tz)}"


def run_status(r: dict[str, Any]) -> str:
    return (
        "interrupted"
        if r["status"] == "running" and r["interrupted"] and evaluation.find(r["id"]) is None
        else r["status"]
    )


st.subheader("Run")
runs = store.list_replays(set_id)
assistants = [a for a in store.list_assistants(include_archived=True) if a["versions"]]
if not assistants:
    st.info("Save a version of an assistant to run this set on it.", icon=":material/info:")
else:
    names = assistant_names(assistants)
    owners = {a["id"]: a["owner"] for a in assistants}
    for a in assistants:
        names[a["id"]] += whose(store, a)  # an option is plain text, never markdown
    if ss.get("ts_assistant") not in names:
        ss.pop("ts_assistant", None)
    left, mid, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    assistant_id = left.selectbox("Assistant", list(names), format_func=names.get, key="ts_assistant")
    versions = {v.id: v for v in store.list_versions(assistant_id)}
    latest = next(iter(versions.values()))
    # Someone else's shared assistant runs its versions only: its draft is its owner's (the store refuses it).
    draft = store.get_draft(assistant_id) if mine(store, owners[assistant_id]) else None
    changed = draft is not None and draft[0].to_json() != latest.config.to_json()
    options = ([DRAFT] if changed else []) + list(versions)
    if ss.get("ts_version") not in options:
        ss.pop("ts_version", None)

    def version_label(vid: int) -> str:
        if vid == DRAFT:
            return f"Draft: changed since v{latest.number} (saved as v{latest.number + 1} when the run starts)"
        return f"v{versions[vid].number} · {versions[vid].config.model}"

    picked_id = mid.selectbox("Version", options, format_func=version_label, key="ts_version")
    concurrency = int(
        right.number_input(
            "Cases at once",
            1,
            evaluation.MAX_CONCURRENCY,
            value=evaluation.DEFAULT_CONCURRENCY,
            key="ts_concurrency",
            help="How many cases run in parallel; the run slows down by itself when the server says too many.",
        )
    )
    if picked_id == DRAFT:
        assert draft is not None
        version = Version(0, assistant_id, latest.number + 1, draft[0], "", 0.0)
    else:
        version = versions[picked_id]
    every_case = store.test_cases(set_id)
    prices = usage.current_prices()
    refusals: list[str] = []
    if not every_case:
        refusals.append("Add cases to run this set.")
    else:
        try:
            refusals += evaluation.check_cases(version, every_case)
            estimate = evaluation.estimate(version, every_case, prices, mode=test_set.get("mode") or "separate")
        except Exception as exc:  # a check that breaks says so in a sentence; it never breaks the page
            refusals.append(f"The cases cannot be checked: {exc}")
        else:
            cost = "no price for this model" if estimate.cost is None else f"about {usage.money(estimate.cost)}"
            st.caption(
                f"Estimate: {plural(estimate.cases, 'case')} · about {estimate.input_tokens:,} input and "
                f"{estimate.output_tokens:,} output tokens · {cost}."
            )
    if not grader_names and every_case:
        st.caption("No graders saved: the run keeps each output, with nothing to pass or fail.")
    for p in refusals[:5]:
        st.error(markup.literal(p), icon=":material/error:")
    if len(refusals) > 5:
        st.error(f"…and {len(refusals) - 5:,} more.", icon=":material/error:")
    if conn.key is None:
        setup_panel()
    elif st.button("Start", type="primary", key="ts_run", icon=":material/play_arrow:", disabled=bool(refusals)):
        started = None
        try:
            if picked_id == DRAFT and draft is not None:
                # As sending does: the draft becomes a version first, so every result names what ran.
                saved, invalid = editor.commit(store, assistant_id, draft[0])
                if saved is None:
                    raise ValueError(
                        "The draft cannot be saved as a version: "
                        + "; ".join(str(getattr(p, "message", p)) for p in invalid)
                        + ". Fix it in the Playground."
                    )
                version = saved
            started = evaluation.start(
                store, conn.backend, set_id, version, concurrency=concurrency, secrets=conn.secrets
            )
        except (LogError, GraderError, ValueError, LookupError) as exc:
            st.error(f"Not started: {markup.literal(say(exc))}", icon=":material/error:")
        if started is not None:
            keep(started)
            st.rerun()

if problem := ss.pop("ts_run_problem", None):
    st.error(markup.literal(problem), icon=":material/error:")
for r in runs:
    if r["status"] != "running":
        continue
    if evaluation.find(r["id"]) is None and r["interrupted"]:
        continue  # its process stopped: Resume is with its results below
    progress(r["id"], f"Run #{r['id']} on v{r['version']}")


# -- results ----------------------------------------------------------------------------------------

if not runs:
    st.stop()
st.subheader("Results")
run_labels = {r["id"]: run_label(r) for r in runs}
ids = list(run_labels)
if ss.get("ts_show") not in run_labels:  # another set was picked, or the run deleted: the newest
    ss.ts_show = ids[0]
left, right = st.columns(2)
shown = left.selectbox("Run", ids, format_func=run_labels.get, key="ts_show")
others = [i for i in ids if i != shown]
if ss.get("ts_baseline") not in [None, *others]:
    ss.ts_baseline = None
baseline = right.selectbox(
    "Baseline", [None, *others], format_func=lambda i: "none" if i is None else run_labels[i], key="ts_baseline"
)
prices = usage.current_prices()
run = next(r for r in runs if r["id"] == shown)
st.caption(
    f"Status: {run_status(run)} · concurrency {run['concurrency'] or 1}"
    + (f" · finished {editor.clock(run['finished_at'], tz)}" if run["finished_at"] else "")
)
here = evaluation.find(shown)
running_here = here is not None and not here.finished
try:
    numbers = results.summary(store, shown, prices)
    rows = results.case_rows(store, shown, baseline, prices)
except LookupError:
    st.info("This run is not in the log any more.")
    st.stop()

rate = numbers["pass_rate"]
cols = st.columns(5)
cols[0].metric("Pass rate", "—" if rate is None else f"{rate:.0%}")
cols[1].metric("Passed", f"{numbers['passed']:,} of {numbers['done']:,}")
cols[2].metric(
    "Failed", f"{numbers['failed']:,}", f"{numbers['ungraded']:,} ungraded" if numbers["ungraded"] else None,
    delta_color="orange", delta_arrow="off",
)  # fmt: skip
unknown = numbers["usage_unknown"]
cost_text = "no price" if numbers["cost"] is None else usage.money(numbers["cost"])
cols[3].metric(
    "Estimated cost", cost_text, f"{plural(unknown, 'run')} unknown" if unknown else None,
    delta_color="orange", delta_arrow="off",
)  # fmt: skip
p50, p90 = numbers["p50_latency_ms"], numbers["p90_latency_ms"]
cols[4].metric("Latency p50 / p90", "—" if p50 is None else f"{p50:,.0f} / {p90:,.0f} ms")
if numbers["done"] < numbers["cases"]:
    st.caption(f"{numbers['done']:,} of {numbers['cases']:,} cases have a result.")
per_grader = pd.DataFrame(numbers["graders"], columns=["name", "graded", "passed", "pass_rate", "mean_score", "errors"])
if not per_grader.empty:
    st.dataframe(
        per_grader.rename(columns={"name": "grader", "pass_rate": "pass rate", "mean_score": "mean score"}),
        hide_index=True,
        width="stretch",
        key="ts_graders_table",
        column_config={
            "pass rate": st.column_config.NumberColumn(format="percent"),
            "mean score": st.column_config.NumberColumn(format="%.2f"),
        },
    )

# Why it failed or stopped by itself, as the log keeps it (any session); the Evaluation this session
# started says it first while the run is still being closed.
failure = run["error"] or getattr(ss.get("ts_evals", {}).get(shown), "error", None)
if run["status"] == "failed" and failure:
    st.error(f"The run failed: {markup.literal(failure)}", icon=":material/error:")
if run["status"] == "stopped" and run["error"]:
    st.warning(f"The run stopped by itself: {markup.literal(run['error'])}", icon=":material/savings:")
if run["status"] in ("stopped", "failed") or (run["status"] == "running" and run["interrupted"] and here is None):
    why = {"stopped": "was stopped", "failed": "failed"}.get(run["status"], "was interrupted (its app process stopped)")
    st.info(
        f"This run {why} after {numbers['done']:,} of {numbers['cases']:,} cases. Resume runs only the rest.",
        icon=":material/pause_circle:",
    )
    if conn.key is not None:
        st.button(
            "Resume",
            key="ts_resume",
            icon=":material/play_arrow:",
            on_click=resume_run,
            args=(shown,),
        )

if baseline is not None:
    moved = results.changes(rows)
    st.caption(
        f"Against {markup.literal(run_labels[baseline])}: "
        f"{plural(len(moved['regressed']), 'case')} passed there and fail here"
        + (f" (#{', #'.join(map(str, moved['regressed']))})" if moved["regressed"] else "")
        + f"; {plural(len(moved['fixed']), 'case')} failed there and pass here"
        + (f" (#{', #'.join(map(str, moved['fixed']))})" if moved["fixed"] else "")
        + "."
    )
table = pd.DataFrame(rows)
for column in ("passed", "baseline passed"):  # ungraded (an upstream failure) is neither pass nor fail
    if column in table:
        table[column] = [VERDICTS[v] for v in table[column].astype(object).where(table[column].notna(), None)]
if "cost" in table:
    table["cost"] = [usage.money(c) if c is not None else "no price" for c in table["cost"]]
first_columns = ["#", "passed", "input", "expected", "output"]
if baseline is not None:
    first_columns += ["baseline output", "baseline passed"]
# Each grader's verdict and reason right after the outputs, the figures after them.
verdict_columns = [c for c in table if c not in results.CASE_COLUMNS and c not in results.BASELINE_COLUMNS]
order = [c for c in first_columns if c in table] + verdict_columns
order += [c for c in table if c not in order]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    key="ts_rows",
    column_order=order,
    column_config={
        "#": st.column_config.NumberColumn(width="small"),
        "passed": st.column_config.TextColumn(width="small", help="Every grader passed"),
        "baseline passed": st.column_config.TextColumn(width="small", help="In the baseline run"),
        "input": st.column_config.TextColumn(width="medium"),
        "output": st.column_config.TextColumn(width="medium"),
        "baseline output": st.column_config.TextColumn(width="medium"),
        **{
            c: st.column_config.TextColumn(width="medium", help=f"{markup.literal(c)}: verdict, score and reason")
            for c in verdict_columns
        },
    },
)
left, mid, right = st.columns(3, vertical_alignment="bottom")
left.download_button(
    "Results as CSV",
    data=lambda run=shown, base=baseline: results.results_csv(results.case_rows(store, run, base, prices)),
    file_name=f"run-{shown}" + (f"-vs-{baseline}" if baseline else "") + ".csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
    key="ts_export",
)
mid.download_button(
    "Results as JSONL",
    data=lambda run=shown: results.results_jsonl(store, run, prices),
    file_name=f"run-{shown}.jsonl",
    mime="application/jsonl",
    icon=":material/download:",
    on_click="ignore",
    key="ts_export_jsonl",
)


def ask_delete(replay_id: int) -> None:
    ss.ts_confirm_delete = replay_id


def delete_run(replay_id: int) -> None:
    ss.pop("ts_confirm_delete", None)
    if guarded_write(store.delete_replay, replay_id) is not None or not ss.get("log_refused"):
        ss.ts_deleted = replay_id


right.button(
    "Delete this run",
    key="ts_delete",
    icon=":material/delete:",
    on_click=ask_delete,
    args=(shown,),
    disabled=running_here,
    help="Stop it first." if running_here else None,
)
if deleted := ss.pop("ts_deleted", None):
    st.toast(f"Run #{deleted} deleted", icon=":material/delete:")
if ss.get("ts_confirm_delete") == shown and not running_here:
    with st.container(border=True):
        st.warning(
            f"Delete run #{shown} and its {plural(numbers['done'], 'result')}? "
            "The conversations it made go too, unless someone continued them in the Playground.",
            icon=":material/warning:",
        )
        yes, no = st.columns(2)
        yes.button("Delete run", key="ts_delete_yes", type="primary", on_click=delete_run, args=(shown,))
        no.button("Cancel", key="ts_delete_no", on_click=lambda: ss.pop("ts_confirm_delete", None))


# -- across versions --------------------------------------------------------------------------------

st.subheader("Across versions")
pivot = pd.DataFrame(results.pivot(store, set_id, prices))
if not pivot.empty:
    which = zip(pivot["run"], pivot["assistant"], pivot["version"], strict=True)
    pivot.insert(0, "label", [f"#{r} · {a} v{v}" for r, a, v in which])
    pivot["date"] = [editor.clock(d, tz) for d in pivot["date"]]
    rates = [c for c in pivot if c == "pass rate" or c.endswith(" pass rate")]
    scores = [c for c in pivot if c.endswith(" mean score")]
    graded = pivot[pivot["pass rate"].notna()]
    if not graded.empty:  # pass rate across versions, oldest run on top
        chart = pd.DataFrame({"run": graded["label"], "pass rate (%)": graded["pass rate"].astype(float) * 100})
        st.bar_chart(chart, x="run", y="pass rate (%)", horizontal=True, sort=False, height=60 + 36 * len(chart))
    st.dataframe(
        pivot.drop(columns=["run", "assistant", "version"]),
        hide_index=True,
        width="stretch",
        key="ts_pivot",
        column_config={
            **{c: st.column_config.NumberColumn(format="percent") for c in rates},
            **{c: st.column_config.NumberColumn(format="%.2f") for c in scores},
            "cost": st.column_config.NumberColumn(format="dollar"),
            "p50 latency ms": st.column_config.NumberColumn(format="%.0f"),
            "p90 latency ms": st.column_config.NumberColumn(format="%.0f"),
        },
    )
    st.download_button(
        "Pivot as CSV",
        data=lambda set_id=set_id: results.results_csv(results.pivot(store, set_id, prices)),
        file_name=f"test-set-{set_id}-runs.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="ts_pivot_csv",
    )
