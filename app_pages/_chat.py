"""The chat's drawing, shared by the Playground and the read-only Conversations view.

Layout only: what to show comes from the log (`playground.store`) and `playground.trace`.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from playground import editor, files, markup, tools, trace
from playground.store import Message, Run, RunFile, Store, ToolCallRow

# Messages drawn per rerun at first, and how many more each "Show earlier" adds. Every full rerun
# re-sends what is drawn, and the browser's work per streamed token grows with the page
# (docs/performance.md: 200 drawn messages put the first token 55 ms behind upstream, 50 keep it
# near the bare app's).
HISTORY_WINDOW = 50
HISTORY_MORE = 200
ss = st.session_state


AVATARS = {"user": ":material/person:", "assistant": ":material/smart_toy:"}


def render_message(m: Message, *, show_error: bool, run: Run | None = None, made: list[RunFile] | None = None) -> None:
    with st.chat_message(m.role, avatar=AVATARS.get(m.role)):
        # Markdown without unsafe_allow_html: any HTML in model output is shown as text; markup.text
        # shows images as their links, so nothing the text names is fetched.
        st.markdown(markup.text(trace.without_sandbox_links(m.content) if m.role == "assistant" else m.content))
        if run is not None and run.response:
            reply_extras(run, made or [])
        badge = [editor.clock(m.created_at, st.context.timezone)]
        if m.placed:  # put in by hand (playground.placed): never passed off as a typed turn or model output
            badge.append(":violet-badge[:material/playlist_add: placed by hand]")
        if m.role == "assistant":
            badge += [markup.literal(m.model or ""), f"v{m.version_number}" if m.version_number else ""]
            if run is not None:  # tokens, estimated cost, latency: from the run, no query per message
                badge.append(markup.literal(trace.usage_line(run)))
            if m.status != "complete":
                badge.append(f":orange[{m.status}]")
            if run is not None and run.dropped_turns:
                badge.append(f":orange[earlier {run.dropped_turns} turns not sent]")
        st.caption(" · ".join(b for b in badge if b))
        if run is not None and m.role == "assistant":
            trace_button(f"trace.{m.id}", run.id)
        if show_error and m.error:
            if m.problem == "cancelled":  # the user's own Stop: a note, not an alarm
                st.info(markup.literal(m.error), icon=":material/stop_circle:")
            else:
                st.error(markup.literal(m.error), icon=":material/error:")
            if m.role == "user" and m.run_id:
                trace_button(f"trace.{m.id}", m.run_id)


def trace_button(key: str, run_id: int) -> None:
    st.button("Trace", key=key, type="tertiary", icon=":material/account_tree:", on_click=_open_trace, args=(run_id,))


def reply_extras(run: Run, made: list[RunFile]) -> None:
    """Citations as footnotes, the code the interpreter ran with its output, and files it made
    (images drawn inline, every file a download button)."""
    store: Store = ss.conn.store
    if "file_citation" in (run.response or ""):
        cited = trace.citations(run.response, store.filenames())
        if cited:
            st.caption(trace.footnotes(cited))
    drawn: list[bytes] = []
    for code_run in trace.code_runs(run.response):
        with st.expander("Code interpreter", icon=":material/terminal:"):
            st.code(code_run.code, language="python")
            for logs in code_run.logs:
                st.code(logs, language=None)
        for image in code_run.images:
            st.image(image)
            drawn.append(image)
    fetched = {f.file_id for f in made if not f.error}
    for f in made:
        if f.error:
            if f.file_id not in fetched:  # a later try that worked replaces the note
                st.warning(
                    f"{markup.literal(f.filename)} could not be fetched: {markup.literal(f.error)}",
                    icon=":material/warning:",
                )
                st.button(
                    "Fetch again",
                    key=f"refetch.{f.id}",
                    type="tertiary",
                    icon=":material/refresh:",
                    on_click=_fetch_again,
                    args=(f,),
                )
                if ss.get(f"refetch.{f.id}.problem"):
                    st.error(markup.literal(ss[f"refetch.{f.id}.problem"]), icon=":material/error:")
            continue
        if trace.is_image(f.filename):
            # Drawn from the copy kept in the log: the container that made it expires upstream.
            image = store.run_file_content(f.id)
            if trace.is_image(f.filename, image) and image not in drawn:
                st.image(image, caption=markup.literal(f.filename))
                drawn.append(image)
        st.download_button(
            f"{markup.literal(f.filename)} ({f.size / 1024:,.1f} KB)",
            data=lambda fid=f.id: store.run_file_content(fid),  # read from the log only when clicked
            file_name=f.filename,
            key=f"dl.{f.id}",
            icon=":material/download:",
            on_click="ignore",
        )


def _fetch_again(f: RunFile) -> None:
    conn = ss.conn
    if conn.key is None:
        ss[f"refetch.{f.id}.problem"] = "Add an API key to fetch files."
        return
    ss[f"refetch.{f.id}.problem"] = files.fetch_again(conn.store, conn.hosted(), f, conn.secrets)


def _open_trace(run_id: int) -> None:
    ss.trace_run = run_id


def _close_trace() -> None:
    ss.pop("trace_run", None)


@st.dialog("Trace", width="large", on_dismiss=_close_trace)
def trace_dialog(store: Store, run_id: int, secrets: tuple[str, ...]) -> None:
    run = store.get_run(run_id)
    if run is None:
        st.info("This turn is not in the log any more.")
        return
    st.dataframe(
        pd.DataFrame([(k, "" if v is None else str(v)) for k, v in trace.summary(run).items()], columns=["", "value"]),
        hide_index=True,
        width="stretch",
    )
    placed = trace.placed_sent(store, run)  # messages placed by hand that this turn carried
    for n, step in enumerate(trace.steps(run, store.tool_calls(run_id), store.filenames(), placed), start=1):
        # Steps hold what the user typed and tools returned: cut the key from them like the raw JSON.
        step = trace.redact_json(step, secrets)
        st.markdown(f"**{n}. {markup.literal(step.pop('step'))}**")
        if step.get("code"):
            st.code(step.pop("code"), language="python")
        st.json(step, expanded=True)
    request, response = trace.raw(run, secrets)
    with st.expander("Raw request"):
        st.json(request)
    with st.expander("Raw response"):
        st.json(response)
    if st.button("Close", key="trace_close"):
        _close_trace()
        st.rerun()


def history(store: Store, thread_id: int | None) -> list[Message]:
    if not thread_id:
        st.caption("A new thread starts with your first message.")
        return []
    window = ss.get(f"history_window.{thread_id}", HISTORY_WINDOW)
    messages = store.list_messages(thread_id, limit=window)
    total = store.count_messages(thread_id)
    if total > len(messages):
        earlier = total - len(messages)
        st.button(
            f"Show {min(earlier, HISTORY_MORE):,} earlier messages ({earlier:,} not shown)",
            key=f"history_more.{thread_id}",
            type="tertiary",
            icon=":material/expand_less:",
            on_click=_show_more,
            args=(thread_id, window + HISTORY_MORE),
        )
    answered = {m.run_id for m in messages if m.role == "assistant"}
    calls = store.thread_tool_calls(thread_id, since=messages[0].created_at) if messages else []
    # Runs from the oldest one drawn: later attempts at a drawn message have larger ids, so every
    # run the drawing compares with is read, and none of the long history above the window.
    drawn_runs = [m.run_id for m in messages if m.run_id] + [c.run_id for c in calls]
    runs = {r.id: r for r in store.list_runs(thread_id, from_id=min(drawn_runs))} if drawn_runs else {}
    made: dict[int, list[RunFile]] = {}
    for f in store.run_files([r.id for r in runs.values() if r.response and "container_file_citation" in r.response]):
        made.setdefault(f.run_id, []).append(f)
    newest_attempt: dict[int, int] = {}
    for r in runs.values():
        if r.user_message_id is not None:
            newest_attempt[r.user_message_id] = max(newest_attempt.get(r.user_message_id, 0), r.id)
    for row in sorted([*messages, *calls], key=_turn_order(runs, messages, calls)):
        if isinstance(row, ToolCallRow):
            render_call(row)
        else:
            run = runs.get(row.run_id) if row.role == "assistant" else None
            # A partial reply that a retry has since replaced: its error no longer asks for anything.
            replaced = run is not None and newest_attempt.get(run.user_message_id, run.id) > run.id
            render_message(
                row,
                show_error=(row.role == "assistant" and not replaced) or row.run_id not in answered,
                run=run,
                made=made.get(row.run_id),
            )
            if replaced and row.status != "complete":
                st.caption(":material/redo: An earlier attempt, kept as it arrived; the retry follows.")
    return messages


def _show_more(thread_id: int, window: int) -> None:
    ss[f"history_window.{thread_id}"] = window


def _turn_order(runs: dict[int, Run], messages: list[Message], calls: list[ToolCallRow]):
    """A sort key that draws each turn's reply text and function calls in the order the response
    gave them (the calls are logged before the reply, so time alone puts them first)."""
    anchor: dict[int, float] = {}
    for row in [*calls, *(m for m in messages if m.role == "assistant" and m.run_id)]:
        anchor[row.run_id] = min(anchor.get(row.run_id, row.created_at), row.created_at)
    positions = {run_id: trace.output_positions(runs[run_id].response) if run_id in runs else {} for run_id in anchor}

    def key(row: Message | ToolCallRow) -> tuple[float, int, float]:
        if isinstance(row, ToolCallRow):
            # A call missing from the response keeps its logged order, after the text.
            return (anchor[row.run_id], 1, positions[row.run_id].get(row.call_id, 1e6 + row.id))
        if row.role == "assistant" and row.run_id in anchor:
            return (anchor[row.run_id], 1, positions[row.run_id].get("message", -1))
        return (row.created_at, 0, 0)

    return key


def render_call(call: ToolCallRow) -> None:
    with st.chat_message("tool", avatar=":material/build:"):
        st.markdown(f"Called {markup.code(call.name)}")
        st.code(pretty_json(call.arguments), language="json")
        for problem in call.problems:
            st.warning(f"Arguments do not match the schema — {markup.literal(problem)}", icon=":material/rule:")
        if call.status == "answered":
            who = "by the handler" if call.source == "handler" else "typed by hand"
            st.caption(f"Output ({who}):")
            st.code(pretty_json(call.output or ""), language="json")
            problem = tools.handler_problem(call.output) if call.source == "handler" else None
            if problem:
                st.warning(
                    f"The handler failed; the model was sent this error: {markup.literal(problem)}",
                    icon=":material/build:",
                )
        trace_button(f"trace.call.{call.id}", call.run_id)


def pretty_json(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text
