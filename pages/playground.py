"""Playground: chat with the assistant on the left, shape it on the right. Layout and wiring only."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from pages._common import Connection, connection, connection_box, model_options, setup_panel
from playground import editor, turn
from playground.assistant import (
    DESCRIPTION_MAX,
    INSTRUCTIONS_MAX,
    NAME_MAX,
    REASONING_EFFORTS,
    RESPONSE_FORMATS,
    is_reasoning_model,
)
from playground.store import Message, Store

HISTORY_WINDOW = 200  # messages drawn per rerun; older ones stay in the log
ss = st.session_state


# -- state ------------------------------------------------------------------------------------


def load_assistant(store: Store, assistant_id: int) -> None:
    """Show an assistant's draft in the panel and resume its latest thread."""
    draft = store.get_draft(assistant_id)
    config = draft[0] if draft else editor.from_state({})
    for key in [k for k in ss if str(k).startswith("cfg.")]:
        del ss[key]
    ss.update(editor.to_state(config))
    ss["cfg.metadata_base"] = ss["cfg.metadata"]
    ss.assistant_id = assistant_id
    threads = store.list_threads(assistant_id, limit=1)
    ss.thread_id = threads[0].id if threads else None
    ss.draft_saved_at = draft[1] if draft else None


def choose_assistant(store: Store) -> int:
    wanted = ss.get("assistant_id") or st.query_params.get("assistant")
    try:
        wanted = int(wanted) if wanted else None
    except ValueError:
        wanted = None
    if wanted is None or store.get_assistant(wanted) is None:
        existing = store.list_assistants()
        wanted = existing[0]["id"] if existing else store.create_assistant().id
    if ss.get("loaded_assistant") != wanted:
        load_assistant(store, wanted)
        ss.loaded_assistant = wanted
        thread = st.query_params.get("thread")
        if thread and thread.isdigit() and (t := store.get_thread(int(thread))) and t.assistant_id == wanted:
            ss.thread_id = t.id
    st.query_params["assistant"] = str(wanted)
    if ss.get("thread_id"):
        st.query_params["thread"] = str(ss.thread_id)
    elif "thread" in st.query_params:
        del st.query_params["thread"]
    return wanted


def on_edit() -> None:
    """Every edit is written to the draft at once, valid or not."""
    ss.draft_saved_at = ss.conn.store.save_draft(ss.assistant_id, editor.from_state(ss))


# -- sidebar ----------------------------------------------------------------------------------


def sidebar(conn: Connection, assistant_id: int) -> None:
    connection_box(conn)
    store = conn.store
    with st.sidebar:
        st.subheader("Assistant")
        assistants = store.list_assistants()
        ids = [a["id"] for a in assistants]
        names = {a["id"]: a["name"] or f"Untitled assistant #{a['id']}" for a in assistants}
        picked = st.selectbox(
            "Assistant", ids, index=ids.index(assistant_id), format_func=names.get, label_visibility="collapsed"
        )
        if picked != assistant_id:
            ss.assistant_id = picked
            st.rerun()
        if st.button("New assistant", icon=":material/add:", width="stretch"):
            ss.assistant_id = store.create_assistant().id
            st.rerun()

        st.subheader("Threads")
        if st.button("New thread", icon=":material/edit_square:", width="stretch", key="new_thread"):
            ss.confirm_new_thread = True
        threads = store.list_threads(assistant_id)
        if not threads:
            st.caption("No threads yet: send a message to start one.")
        for t in threads:
            current = t.id == ss.get("thread_id")
            label = (t.title or f"Thread #{t.id}")[:40]
            if st.button(
                label,
                key=f"thread.{t.id}",
                type="primary" if current else "secondary",
                help=f"Started {editor.clock(t.created_at, st.context.timezone)} · #{t.id}",
                width="stretch",
            ):
                ss.thread_id = t.id
                st.rerun()


@st.dialog("Start a new thread?")
def confirm_new_thread() -> None:
    st.write("The current thread stays in the log; you can resume it from the sidebar.")
    yes, no = st.columns(2)
    if yes.button("Start new thread", type="primary", key="dlg_new_thread_yes"):
        ss.thread_id = None
        ss.confirm_new_thread = False
        st.rerun()
    if no.button("Cancel", key="dlg_new_thread_no"):
        ss.confirm_new_thread = False
        st.rerun()


# -- configuration panel ----------------------------------------------------------------------


def field_errors(errors, *names: str) -> None:
    for message in editor.errors_for(errors, *names):
        st.error(message, icon=":material/error:")


@st.fragment
def config_panel(models: list[str], models_problem: str | None) -> None:
    store: Store = ss.conn.store
    config = editor.from_state(ss)
    errors = config.validate()

    with st.container(border=True, key="config"):
        st.markdown("**Basic information**")
        st.text_input("Name", key="cfg.name", max_chars=NAME_MAX, on_change=on_edit, placeholder="Support bot")
        field_errors(errors, "name")
        st.text_input("Description", key="cfg.description", max_chars=DESCRIPTION_MAX, on_change=on_edit)
        field_errors(errors, "description")

        st.markdown("**Instructions**")
        st.text_area(
            "Instructions",
            key="cfg.instructions",
            height=180,
            on_change=on_edit,
            label_visibility="collapsed",
            placeholder="You are a helpful assistant that…",
        )
        st.caption(f"{len(ss.get('cfg.instructions') or ''):,} / {INSTRUCTIONS_MAX:,} characters")
        field_errors(errors, "instructions")

        st.markdown("**Model**")
        current = ss.get("cfg.model") or ""
        options = models if current in models or not current else [current, *models]
        st.selectbox(
            "Model",
            options,
            key="cfg.model",
            accept_new_options=True,
            on_change=on_edit,
            label_visibility="collapsed",
            help="Pick from the list or type any model id.",
        )
        if models_problem:
            st.caption(f":material/warning: Showing a fallback list. {models_problem}")
        field_errors(errors, "model")

        st.markdown("**Tools**")
        st.toggle("File search", key="cfg.file_search", on_change=on_edit)
        if ss.get("cfg.file_search"):
            st.text_input("Vector store ids", key="cfg.vector_store_ids", on_change=on_edit, placeholder="vs_…")
            st.number_input(
                "Max results (1–50)", key="cfg.max_num_results", min_value=1, max_value=50, on_change=on_edit
            )
        field_errors(errors, "file_search")
        st.toggle("Code interpreter", key="cfg.code_interpreter", on_change=on_edit)
        if ss.get("cfg.code_interpreter"):
            st.text_input("File ids for the container", key="cfg.code_file_ids", on_change=on_edit)
        field_errors(errors, "code_interpreter", "tools")
        st.toggle("Functions", key="cfg.functions_on", on_change=on_edit)
        if ss.get("cfg.functions_on"):
            functions_editor(errors)

        with st.expander("Model configuration", icon=":material/tune:"):
            st.selectbox("Response format", RESPONSE_FORMATS, key="cfg.response_format", on_change=on_edit)
            if ss.get("cfg.response_format") == "json_schema":
                st.text_input("Schema name", key="cfg.schema_name", on_change=on_edit)
                st.text_area("JSON schema", key="cfg.schema", height=200, on_change=on_edit)
                st.checkbox("Strict", key="cfg.schema_strict", on_change=on_edit)
            field_errors(errors, "response_format")
            st.slider("Temperature", 0.0, 2.0, step=0.01, key="cfg.temperature", on_change=on_edit)
            st.slider("Top P", 0.0, 1.0, step=0.01, key="cfg.top_p", on_change=on_edit)
            field_errors(errors, "temperature", "top_p")
            if is_reasoning_model(config.model) or config.reasoning_effort:
                st.selectbox(
                    "Reasoning effort",
                    [editor.MODEL_DEFAULT, *REASONING_EFFORTS],
                    key="cfg.reasoning_effort",
                    on_change=on_edit,
                    help="Not every model takes every value; the API says which it refuses.",
                )
                field_errors(errors, "reasoning_effort")
            st.number_input(
                "Max output tokens",
                key="cfg.max_output_tokens",
                min_value=16,
                step=256,
                on_change=on_edit,
                placeholder="model default",
            )
            field_errors(errors, "max_output_tokens")

        st.markdown("**Metadata**")
        edited = st.data_editor(
            pd.DataFrame(ss.get("cfg.metadata_base") or [], columns=["key", "value"]),
            key="cfg.metadata_editor",
            num_rows="dynamic",
            width="stretch",
            hide_index=True,
            column_config={
                "key": st.column_config.TextColumn("Key", max_chars=64),
                "value": st.column_config.TextColumn("Value", max_chars=512),
            },
        )
        rows = edited.to_dict("records")
        if editor.rows_to_metadata(rows) != editor.rows_to_metadata(ss.get("cfg.metadata")):
            ss["cfg.metadata"] = rows
            on_edit()
        st.caption("Up to 16 pairs; keys ≤ 64 characters, values ≤ 512.")
        field_errors(errors, "metadata")

    actions(store)


def functions_editor(errors) -> None:
    count = int(ss.get("cfg.fn_count") or 0)
    for i in range(count):
        with st.container(border=True, key=f"fn_box_{i}"):
            st.text_input("Function name", key=f"cfg.fn.{i}.name", on_change=on_edit)
            field_errors(errors, f"functions[{i}].name")
            st.text_input("Description", key=f"cfg.fn.{i}.description", on_change=on_edit)
            st.text_area("Parameters (JSON Schema)", key=f"cfg.fn.{i}.parameters", height=160, on_change=on_edit)
            field_errors(errors, f"functions[{i}].parameters")
            st.checkbox("Strict", key=f"cfg.fn.{i}.strict", on_change=on_edit)
            st.button("Remove", key=f"fn_remove_{i}", on_click=remove_function, args=(i,), icon=":material/delete:")
    example = st.selectbox("Add a function", list(editor.FUNCTION_EXAMPLES), key="fn_example")
    st.button("Add function", on_click=add_function, args=(example,), icon=":material/add:")


def add_function(example: str) -> None:
    config = editor.from_state(ss)
    config.functions.append(editor.FUNCTION_EXAMPLES[example])
    _reload_config(config)


def remove_function(index: int) -> None:
    config = editor.from_state(ss)
    del config.functions[index]
    _reload_config(config)


def _reload_config(config) -> None:
    for key in [k for k in ss if str(k).startswith("cfg.fn.")]:
        del ss[key]
    state = editor.to_state(config)
    state["cfg.functions_on"] = True
    ss.update({k: v for k, v in state.items() if k.startswith(("cfg.fn", "cfg.functions_on"))})
    on_edit()


def actions(store: Store) -> None:
    config = editor.from_state(ss)
    latest = store.latest_version(ss.assistant_id)
    left, right = st.columns([1, 1])
    label = "Update" if latest else "Create"
    if left.button(label, type="primary", key="save_version", icon=":material/save:", width="stretch"):
        problems = config.validate()
        if problems:
            st.error(f"Not saved: {len(problems)} field(s) need attention (marked above).")
        else:
            store.save_draft(ss.assistant_id, config)
            version, _ = store.save_version(ss.assistant_id, config)
            st.toast(f"Saved version {version.number}", icon=":material/check:")
            latest = version
    if right.button("Back to assistants", key="back", icon=":material/arrow_back:", width="stretch"):
        st.switch_page("pages/assistants.py")
    save_status_line()


@st.fragment(run_every=1.5)
def save_status_line() -> None:
    """Ticks on its own: turns a paused, valid edit into a version and says where saving stands."""
    store: Store = ss.conn.store
    draft = store.get_draft(ss.assistant_id)
    if draft is None:
        return
    config, updated_at = draft
    latest = store.latest_version(ss.assistant_id)
    now = time.time()
    if editor.autosave_due(
        has_versions=latest is not None,
        draft=config,
        latest=latest.config if latest else None,
        draft_updated_at=updated_at,
        now=now,
    ):
        latest, _ = store.save_version(ss.assistant_id, config, note="auto-saved")
    st.caption(
        editor.save_status(
            draft=config,
            latest_number=latest.number if latest else None,
            latest=latest.config if latest else None,
            latest_at=latest.created_at if latest else None,
            draft_updated_at=updated_at,
            now=now,
            timezone=st.context.timezone,
        ),
        help="Every edit is kept as a draft at once; a valid draft becomes a version after a 3-second pause.",
    )


# -- chat -------------------------------------------------------------------------------------

AVATARS = {"user": ":material/person:", "assistant": ":material/smart_toy:"}


def render_message(m: Message, *, show_error: bool) -> None:
    with st.chat_message(m.role, avatar=AVATARS.get(m.role)):
        # Markdown without unsafe_allow_html: any HTML in model output is shown as text.
        st.markdown(m.content)
        badge = [editor.clock(m.created_at, st.context.timezone)]
        if m.role == "assistant":
            badge += [m.model or "", f"v{m.version_number}" if m.version_number else ""]
            if m.status != "complete":
                badge.append(f":orange[{m.status}]")
        st.caption(" · ".join(b for b in badge if b))
        if show_error and m.error:
            st.error(m.error, icon=":material/error:")


def history(store: Store, thread_id: int | None) -> list[Message]:
    if not thread_id:
        st.caption("A new thread starts with your first message.")
        return []
    messages = store.list_messages(thread_id, limit=HISTORY_WINDOW)
    total = store.count_messages(thread_id)
    if total > len(messages):
        st.caption(f"{total - len(messages):,} earlier messages are in the log and not shown here.")
    answered = {m.run_id for m in messages if m.role == "assistant"}
    for m in messages:
        render_message(m, show_error=m.role == "assistant" or m.run_id not in answered)
    return messages


def stream_turn(the_turn: turn.Turn) -> None:
    """Stream one reply into the chat; the log is settled even if the user navigates away."""
    with st.chat_message("assistant", avatar=AVATARS["assistant"]):
        waiting = st.empty()
        waiting.caption(":material/more_horiz: typing…")
        st.button("Stop", key="stop_turn", icon=":material/stop_circle:")

        def deltas():
            first = True
            for chunk in the_turn.text_deltas():
                if first:
                    waiting.empty()
                    first = False
                yield chunk

        try:
            st.write_stream(deltas(), cursor="▌")
        finally:
            # A Stop click or any rerun interrupts the script here; close() logs the turn as stopped.
            the_turn.close()
    st.rerun()


def send(conn: Connection, text: str) -> None:
    store = conn.store
    config = editor.from_state(ss)
    problems = config.validate()
    if problems:
        ss.unsent = text
        return
    store.save_draft(ss.assistant_id, config)
    version, _ = store.save_version(ss.assistant_id, config)
    if not ss.get("thread_id"):
        ss.thread_id = store.create_thread(ss.assistant_id).id
        st.query_params["thread"] = str(ss.thread_id)
    ss.pop("unsent", None)
    the_turn = turn.start(store, conn.backend(), ss.thread_id, version, text, secrets=conn.secrets)
    render_message(store.get_message(the_turn.user_message_id), show_error=False)
    stream_turn(the_turn)


def retry(conn: Connection, message_id: int) -> None:
    store = conn.store
    config = editor.from_state(ss)
    if config.validate():
        ss.unsent_retry = True
        return
    version, _ = store.save_version(ss.assistant_id, config)
    stream_turn(turn.retry(store, conn.backend(), message_id, version, secrets=conn.secrets))


def chat(conn: Connection) -> None:
    store = conn.store
    thread = store.get_thread(ss.thread_id) if ss.get("thread_id") else None
    if thread is None:
        ss.thread_id = None
    head = f"Thread #{thread.id}" if thread else "New thread"
    if thread and thread.conversation_id:
        head += f" · `{thread.conversation_id}`"
    st.caption(head)

    box = st.container(height=560, key="history")
    with box:
        messages = history(store, ss.get("thread_id"))
    last = messages[-1] if messages else None
    if last is not None and last.role == "user" and last.status != "complete" and last.run_status != "in_progress":
        gone = last.error and "no longer exists upstream" in last.error
        with box:
            if gone:
                st.button("Start a new thread", key="gone_new_thread", on_click=_new_thread, type="primary")
            elif conn.key:
                st.button("Retry", key="retry", icon=":material/refresh:", on_click=_ask_retry, args=(last.id,))
    if ss.get("unsent"):
        box.warning(
            "Not sent: the configuration has problems (marked in red on the right). Your message is kept "
            "below; fix the configuration and send it again.",
            icon=":material/edit_note:",
        )
        box.code(ss.unsent, language=None, wrap_lines=True)

    if conn.key is None:
        setup_panel()
    prompt = st.chat_input(
        "Message the assistant (Enter sends, Shift+Enter for a new line)",
        key="prompt",
        disabled=conn.key is None,
        submit_mode="disable",
    )
    if prompt and conn.key:
        with box:
            send(conn, prompt)
            if ss.get("unsent"):
                st.rerun()
    elif (message_id := ss.pop("retry_id", None)) and conn.key:
        with box:
            retry(conn, message_id)


def _ask_retry(message_id: int) -> None:
    ss.retry_id = message_id


def _new_thread() -> None:
    ss.thread_id = None


# -- page -------------------------------------------------------------------------------------

conn = connection()
ss.conn = conn
if ss.get("owner") != conn.store.owner:  # a different key sees a different log
    ss.owner = conn.store.owner
    ss.pop("loaded_assistant", None)
    ss.pop("assistant_id", None)
assistant_id = choose_assistant(conn.store)
sidebar(conn, assistant_id)
if ss.get("confirm_new_thread"):
    confirm_new_thread()

models, models_problem = model_options(conn)
chat_col, config_col = st.columns([3, 2], gap="medium")
with config_col:
    config_panel(models, models_problem)
with chat_col:
    chat(conn)
