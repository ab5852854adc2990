"""Playground: chat with the assistant on the left, shape it on the right. Layout and wiring only."""

from __future__ import annotations

import time

import streamlit as st

from app_pages._chat import AVATARS, history, render_message, trace_dialog
from app_pages._common import (
    Connection,
    assistant_names,
    current,
    guarded_write,
    model_options,
    new_assistant_config,
    rename_typed,
    setup_panel,
)
from app_pages._panel import commit, config_panel
from app_pages._place import place_box
from app_pages._sharing import mine, whose
from playground import editor, markup, turn, worker
from playground.errors import LogError
from playground.store import Store
from playground.tools import HANDLERS

ss = st.session_state


# -- state ------------------------------------------------------------------------------------


def load_assistant(store: Store, assistant_id: int) -> None:
    """Show an assistant's draft in the panel and resume its latest thread. Someone else's shared
    assistant shows its latest version instead: its draft is its owner's alone (the store refuses it)."""
    assistant = store.get_assistant(assistant_id)
    if assistant is not None and not mine(store, assistant.owner):
        latest = store.latest_version(assistant_id)
        draft = None
        config = latest.config if latest else editor.from_state({})
    else:
        draft = store.get_draft(assistant_id)
        config = draft[0] if draft else editor.from_state({})
    for key in [k for k in ss if str(k).startswith("cfg.")]:
        del ss[key]
    ss.update(editor.to_state(config))
    ss["cfg.metadata_base"] = ss["cfg.metadata"]
    ss["cfg.variables_base"] = ss["cfg.variables"]
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
    assistant = store.get_assistant(wanted) if wanted is not None else None
    if assistant is None:
        # One's own, newest first: someone else's shared assistant is opened on purpose, not by default.
        existing = [a for a in store.list_assistants() if a["owner"] == store.owner]
        wanted = existing[0]["id"] if existing else store.create_assistant(new_assistant_config(current())).id
        assistant = store.get_assistant(wanted)
    # Someone else's shared assistant (its owner's email), read on every run: the panel shows its latest
    # version read-only and nothing on this page writes to it. None: this session may change it.
    ss.shared_owner = None if assistant is None or mine(store, assistant.owner) else assistant.owner
    if ss.get("loaded_assistant") == wanted and "cfg.name" not in ss:
        # Streamlit drops widget state while another page is shown: refill the panel from the draft.
        keep = ss.get("thread_id")
        load_assistant(store, wanted)
        ss.thread_id = keep
    if ss.get("loaded_assistant") != wanted:
        load_assistant(store, wanted)
        ss.loaded_assistant = wanted
        resumed = ss.pop("resume_thread", None)  # sent here from Conversations
        if resumed and (t := store.get_thread(resumed)) and t.assistant_id == wanted:
            ss.thread_id = t.id
            st.query_params["thread"] = str(t.id)
        thread = st.query_params.get("thread")
        if thread and thread.isdigit() and (t := store.get_thread(int(thread))) and t.assistant_id == wanted:
            ss.thread_id = t.id
    ss.assistant_id = wanted  # an id this owner does not have (another key's, kept in the session) is dropped
    st.query_params["assistant"] = str(wanted)
    if ss.get("thread_id"):
        st.query_params["thread"] = str(ss.thread_id)
    elif "thread" in st.query_params:
        del st.query_params["thread"]
    return wanted


# -- sidebar ----------------------------------------------------------------------------------


def sidebar(conn: Connection, assistant_id: int) -> None:
    store = conn.store
    with st.sidebar:
        st.subheader("Assistant")
        assistants = store.list_assistants()
        ids = [a["id"] for a in assistants]
        names = assistant_names(assistants)
        for a in assistants:
            names[a["id"]] += whose(store, a)  # an option is plain text, never markdown
        picked = st.selectbox(
            "Assistant", ids, index=ids.index(assistant_id), format_func=names.get, label_visibility="collapsed"
        )
        if picked != assistant_id:
            ss.assistant_id = picked
            st.rerun()
        if st.button("New assistant", icon=":material/add:", width="stretch"):
            ss.assistant_id = store.create_assistant(new_assistant_config(conn)).id
            st.rerun()

        st.subheader("Threads")
        tz = st.context.timezone
        # The open thread, if it is this owner's (a stale or forged id in the session finds nothing).
        open_thread = store.get_thread(ss.thread_id) if ss.get("thread_id") else None
        if open_thread is not None and open_thread.assistant_id != assistant_id:
            open_thread = None
        problem = ss.pop("rename_problem", None)  # (thread id, sentence) from the last Save
        with st.container(horizontal=True, wrap=False, gap="small"):
            if st.button("New thread", icon=":material/edit_square:", width="stretch", key="new_thread"):
                ss.confirm_new_thread = True
            if open_thread is not None:
                with st.popover("Rename", help="Rename this thread", width="content"):
                    rename_form(store, open_thread, problem[1] if problem and problem[0] == open_thread.id else None)
        if open_thread is None and problem:
            st.error(markup.literal(problem[1]), icon=":material/error:")  # the thread went away meanwhile
        # Replays, compares and evaluations make threads too: they are on Conversations, not here.
        query = st.text_input(
            "Search threads",
            key="thread_search",
            type="search",
            placeholder="Search titles and messages",
            label_visibility="collapsed",
        )
        threads = store.list_threads(assistant_id, query=query)
        if not threads:
            if query.strip():
                st.caption(f"No thread matches “{markup.literal(query.strip())}”.")
            else:
                st.caption("No threads yet: send a message to start one.")
        for t in threads:
            current = t.id == ss.get("thread_id")
            title = markup.literal(_short(t.title or f"Thread #{t.id}"))  # a title is someone's text
            when = editor.when(t.updated_at, tz)  # grey would be unreadable on the open thread's colour
            if st.button(
                f"{title} · {when}" if current else f"{title} · :gray[{when}]",
                key=f"thread.{t.id}",
                type="primary" if current else "secondary",
                help=f"Last message {when} · started {editor.when(t.created_at, tz)} · #{t.id}",
                width="stretch",
            ):
                ss.thread_id = t.id
                st.rerun()


def rename_form(store: Store, thread, problem: str | None) -> None:
    """The open thread's title: Enter or Save keeps it; a refusal is said under the field."""
    key, base = f"rename.{thread.id}", f"rename.{thread.id}.base"
    if key not in ss or ss[key] == ss.get(base):  # untouched: follow the log (named by a first message)
        ss[key] = ss[base] = thread.title
    with st.form("rename_form", border=False, enter_to_submit=True):
        st.text_input(
            "Title",
            key=key,
            placeholder="Named from its first message",
            help=f"At most {Store.MAX_TITLE} characters. Leave it empty to name the thread from its first message.",
        )
        if problem:
            st.error(markup.literal(problem), icon=":material/error:")
        st.form_submit_button(
            "Save",
            key="rename_save",
            type="primary",
            disabled=store.read_only,
            on_click=_rename,
            args=(thread.id,),
        )


def _rename(thread_id: int) -> None:
    try:
        problem = rename_typed(f"rename.{thread_id}", thread_id)
    except LookupError:
        problem = "This thread is no longer in the log: it was deleted elsewhere."
    if problem:
        ss.rename_problem = (thread_id, problem)


def _short(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def _dismiss_new_thread() -> None:
    ss.confirm_new_thread = False


# Closing with Esc or × must clear the flag too, or the dialog would reopen on the next rerun.
@st.dialog("Start a new thread?", on_dismiss=_dismiss_new_thread)
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


# -- chat -------------------------------------------------------------------------------------


def pending_calls(conn: Connection, thread_id: int | None) -> bool:
    """Answer a turn's function calls: handlers run by themselves, the rest wait for typed outputs.

    True while calls wait. The calls, and anything typed for them, are in the log, so a reload
    finds them as they were.
    """
    store = conn.store
    run_id = store.pending_run(thread_id) if thread_id else None
    if run_id is None:
        return False
    hand_functions = {name for name, on in ss.setdefault("hand_functions", {}).items() if on}
    auto = turn.auto_outputs(store, run_id, hand_functions)
    if auto is not None:
        version = commit()
        if version is not None:
            stream_turn(turn.answer(store, conn.backend(), run_id, auto, version, secrets=conn.secrets))
        st.warning("The handlers' outputs are not sent: fix the configuration fields marked in red first.")
    calls = store.tool_calls(run_id)
    with st.container(border=True, key="pending_calls"):
        st.markdown(f"**Waiting for {len(calls)} function output{'s' if len(calls) > 1 else ''}** to continue.")
        last = store.list_runs(thread_id, from_id=run_id, bodies=False)[-1]  # the pending run or a later try
        if last.id != run_id and last.status == "failed" and last.error:
            st.error(f"Sending the outputs failed: {markup.literal(last.error)}", icon=":material/error:")
        missing = ss.pop("missing_outputs", [])
        for c in calls:
            st.markdown(f"{markup.code(c.name)} · call {markup.code(c.call_id)}")
            hand_key = f"call.{c.call_id}.by_hand"
            if c.name in HANDLERS:
                ss.setdefault(hand_key, c.name in hand_functions)
                st.toggle("Type the output myself", key=hand_key, on_change=_remember_hand, args=(c.name, hand_key))
            if c.name not in HANDLERS or ss.get(hand_key):
                output_key = f"call.{c.call_id}.output"
                ss.setdefault(output_key, c.output if c.source == "hand" else "")
                st.text_area(
                    "Output (text or JSON)", key=output_key, height=90, on_change=_keep_typed, args=(run_id, c)
                )
                if c.name in missing:
                    st.error(f"Type an output for {markup.literal(c.name)}.", icon=":material/error:")
            elif c.source == "handler" and c.output:
                st.caption("The handler's output, sent again with the others:")
                st.code(c.output, language="json", wrap_lines=True)
            else:
                st.caption(f"The {markup.literal(c.name)} handler runs when you send.")
        if st.button("Send outputs", key="send_outputs", type="primary", icon=":material/send:"):
            hand_calls = {c.call_id for c in calls if c.name not in HANDLERS or ss.get(f"call.{c.call_id}.by_hand")}
            typed = {c.call_id: ss.get(f"call.{c.call_id}.output") or "" for c in calls}
            outputs, ss.missing_outputs = turn.collect_outputs(calls, hand_calls, typed)
            if not ss.missing_outputs:
                version = commit()
                if version is not None:
                    stream_turn(turn.answer(store, conn.backend(), run_id, outputs, version, secrets=conn.secrets))
                ss.unsent_retry = True
            st.rerun()
    return True


def _remember_hand(name: str, key: str) -> None:
    # The choice holds for the function's later calls in this session too.
    ss.hand_functions[name] = bool(ss.get(key))


def _keep_typed(run_id: int, call) -> None:
    text = ss.get(f"call.{call.call_id}.output") or ""
    guarded_write(lambda: ss.conn.store.set_tool_outputs(run_id, {call.call_id: (text, "hand")}, answered=False))


HEARTBEAT_S = 0.25  # how soon a Stop click takes effect while no token arrives


def stream_turn(the_turn: turn.Turn, *, in_place: bool = False) -> None:
    """Start the turn on its worker and draw it; the turn goes on if the page goes away."""
    follow(worker.launch(the_turn), in_place=in_place)


def follow(live: worker.Live, *, in_place: bool = False) -> None:
    """Draw a running turn: what has arrived, then the rest as it comes.

    Leaving the page, a rerun or another tab interrupts only this drawing; Stop cancels the turn.
    With `in_place`, a reply that completed plainly is drawn where it streamed, without a rerun
    (each rerun re-sends the chat to the browser).
    """
    holder = st.empty()
    with holder.container(), st.chat_message("assistant", avatar=AVATARS["assistant"]):
        body = st.container()
        st.button(
            "Stop",
            key="stop_turn",
            icon=":material/stop_circle:",
            help="Keeps what has arrived so far.",
            on_click=_stop,
            args=(live.run_id,),
        )
        with body:
            # The typing line and then the reply share one slot: the first token replaces the line in
            # place. Removing the line and adding the text below it cost the browser ~18 ms per reply
            # (bench/stream_latency.py: 33.7 ms against 15.6 ms without the line).
            slot = st.empty()
            slot.caption(":material/more_horiz: typing")
            beat = st.empty()  # stays empty; updating it lets Streamlit act on a click mid-reply

        def deltas():
            ticks = 0
            for chunk in live.chunks(heartbeat=HEARTBEAT_S):
                if chunk:
                    ticks = -1
                    yield chunk
                elif ticks >= 0:
                    # Each update is also where Streamlit acts on a click (an interruption point).
                    waited = int(time.time() - live.started_at)
                    clock = f" · {waited} s" if waited >= 3 else ""
                    slot.caption(f":material/more_horiz: typing{'.' * (ticks % 3 + 1)}{clock}")
                    ticks += 1
                else:
                    beat.empty()

        with slot:
            st.write_stream(markup.stream(deltas()), cursor="▌")  # images shown as text as they arrive
    done = live.done
    if in_place and done is not None and done.status == "completed" and done.reply_id:
        store: Store = ss.conn.store
        reply, run = store.get_message(done.reply_id), store.get_run(live.run_id)
        if reply is not None and run is not None:
            with holder.container():
                render_message(reply, show_error=True, run=run, made=store.run_files([run.id]))
            return
    st.rerun()


def _stop(run_id: int) -> None:
    worker.stop(run_id)


def send(conn: Connection, text: str, *, in_place: bool = True) -> None:
    """Log the message and run the turn; `in_place` lets a plain reply be drawn without a rerun."""
    store = conn.store
    try:
        version = commit()
        shared = ss.get("shared_owner") is not None  # someone else's: nothing is written to their assistant
        if version is None:
            # Refused before any request: the text is kept in the log until it can be sent (one's own
            # assistant; someone else's has no version to run yet, and its draft is not this person's).
            if not shared:
                store.set_unsent(ss.assistant_id, text)
            ss.pop(held_key(), None)
            st.rerun()
        if not shared:
            store.set_unsent(ss.assistant_id, None)
        fresh = not ss.get("thread_id")  # a new thread must reach the sidebar's list: that takes a rerun
        if fresh:
            ss.thread_id = store.create_thread(ss.assistant_id).id
            st.query_params["thread"] = str(ss.thread_id)
        # Writes the message and its run in one go, before any request: refused, nothing is sent.
        the_turn = turn.start(store, conn.backend(), ss.thread_id, version, text, secrets=conn.secrets)
    except LogError as exc:
        # The log cannot take the message: it waits in this browser session, with Send, instead.
        ss[held_key()] = text
        ss.unsent_refill = text
        ss.unsent_problem = exc.problem.message
        st.rerun()
    ss.pop(unsent_key(), None)
    ss.pop(held_key(), None)
    render_message(store.get_message(the_turn.user_message_id), show_error=False)
    stream_turn(the_turn, in_place=in_place and not fresh)


def retry(conn: Connection, message_id: int) -> None:
    version = commit()
    if version is None:
        ss.unsent_retry = True
        st.rerun()
    try:
        the_turn = turn.retry(conn.store, conn.backend(), message_id, version, secrets=conn.secrets)
    except LogError as exc:  # the message is in the log already: Retry stays, once the log takes writes
        st.error(markup.literal(exc.problem.message), icon=":material/database:")
        return
    except (ValueError, LookupError) as exc:
        st.error(markup.literal(exc), icon=":material/error:")
        return
    stream_turn(the_turn)


def unsent_key() -> str:
    return f"unsent.{ss.assistant_id}"


def held_key() -> str:
    return f"unsent_held.{ss.assistant_id}"


def unsent_message(store: Store) -> bool:
    """A message not sent yet, kept until it is sent or dropped: in the log when the configuration had
    problems, in this browser session when the log itself could not take it (read-only, locked, full)."""
    held = ss.get(held_key())
    # Someone else's assistant keeps no unsent text in the log (its draft row is its owner's).
    text = held or (None if ss.get("shared_owner") else store.get_unsent(ss.assistant_id))
    if not text:
        return False
    with st.container(border=True, key="unsent"):
        if held:
            st.warning(f"Not sent: {ss.get('unsent_problem', '')}", icon=":material/database:")
            st.caption("Your message is kept in this browser tab; press Send again once the log takes it.")
        else:
            st.warning(
                "Not sent yet: the configuration has problems (marked in red on the right). Your message is kept, "
                "also across a reload; fix the configuration, then send it.",
                icon=":material/edit_note:",
            )
        if (refill := ss.pop("unsent_refill", None)) is not None:
            ss[unsent_key()] = refill  # set before the box is drawn: Streamlit refuses it after
        ss.setdefault(unsent_key(), text)
        st.text_area("Your message", key=unsent_key(), height=90, on_change=_keep_unsent)
        send_col, drop_col = st.columns(2)
        send_col.button("Send", key="send_unsent", type="primary", icon=":material/send:", on_click=_ask_send_unsent)
        drop_col.button("Discard", key="discard_unsent", icon=":material/delete:", on_click=_discard_unsent)
    return True


def _keep_unsent() -> None:
    if ss.get(held_key()):
        ss[held_key()] = ss.get(unsent_key()) or ""
        return
    if ss.get("shared_owner"):
        return
    guarded_write(ss.conn.store.set_unsent, ss.assistant_id, ss.get(unsent_key()) or None)


def _ask_send_unsent() -> None:
    ss.sending_unsent = ss.get(unsent_key()) or ""


def _discard_unsent() -> None:
    if ss.pop(held_key(), None) is None and not ss.get("shared_owner"):
        guarded_write(ss.conn.store.set_unsent, ss.assistant_id, None)
    ss.pop(unsent_key(), None)


def chat(conn: Connection) -> None:
    store = conn.store
    thread = store.get_thread(ss.thread_id) if ss.get("thread_id") else None
    if thread is None:
        ss.thread_id = None
    head = f"Thread #{thread.id}" if thread else "New thread"
    if thread and thread.conversation_id:
        head += f" · {markup.code(thread.conversation_id)}"
    st.caption(head)

    # A turn of this thread still running on its worker (started before a rerun, from another page
    # or in another tab) is drawn below and followed; one of another process is waited for.
    live = worker.running(thread.id) if thread else None
    elsewhere = bool(thread) and live is None and not turn.settled(store, thread.id)
    if elsewhere:
        streaming_elsewhere(thread.id)
    retry_id = ss.pop("retry_id", None)
    box = st.container(height=560, key="history")
    with box:
        messages = history(store, ss.get("thread_id"))
    last_user = next((m for m in reversed(messages) if m.role == "user"), None)
    failed = last_user is not None and last_user.status != "complete" and last_user.run_status != "in_progress"
    if failed and not retry_id:
        with box:
            if last_user.problem == "conversation_gone":
                st.button("Start a new thread", key="gone_new_thread", on_click=_new_thread, type="primary")
            elif conn.key:
                st.button("Retry", key="retry", icon=":material/refresh:", on_click=_ask_retry, args=(last_user.id,))
    warned = ss.pop("unsent_retry", False)
    if warned:
        box.warning("Not sent: fix the configuration fields marked in red first.", icon=":material/edit_note:")
    with box:
        unsent_shown = unsent_message(store)
        # While a continuation runs, its calls still read as waiting: they are not offered twice.
        waiting = pending_calls(conn, ss.get("thread_id")) if conn.key and live is None else False
    if conn.key is None:
        setup_panel()
    # Someone else's shared assistant runs its latest version; with none yet there is nothing to run.
    versionless = ss.get("shared_owner") is not None and store.latest_version(ss.assistant_id) is None
    if store.read_only:
        placeholder = "The log is read-only: nothing can be sent or saved"
    elif versionless:
        placeholder = "This shared assistant has no version yet: nothing to chat with"
    elif live is not None:
        placeholder = "A reply is being written: wait for it, or press Stop"
    elif waiting:
        placeholder = "Answer the function calls above first"
    else:
        placeholder = "Message the assistant (Enter sends, Shift+Enter for a new line)"
    # A user or assistant message put into the thread without a run (app_pages/_place.py).
    place_box(conn, writing=live is not None or elsewhere)
    prompt = st.chat_input(
        placeholder,
        key="prompt",
        disabled=conn.key is None or waiting or store.read_only or live is not None or versionless,
        submit_mode="disable",
    )
    resend = ss.pop("sending_unsent", None)
    if live is not None:
        with box:
            follow(live)
    elif (prompt or resend) and conn.key:
        with box:
            # A box shown above (unsent text, a warning) would go stale under a reply drawn in place.
            plain = bool(prompt) and not (unsent_shown or failed or warned)
            send(conn, prompt or resend, in_place=plain)
    elif retry_id and conn.key:
        with box:
            retry(conn, retry_id)


@st.fragment(run_every=1.0)
def streaming_elsewhere(thread_id: int) -> None:
    """A reply of this thread is being written by another app process on this log: redraw once it has ended."""
    if turn.settled(ss.conn.store, thread_id, timeout=0):
        st.rerun(scope="app")
    st.caption(
        ":material/more_horiz: A reply is still being written by another app process; it appears here when done."
    )


def _ask_retry(message_id: int) -> None:
    ss.retry_id = message_id


def _new_thread() -> None:
    ss.thread_id = None


# -- page -------------------------------------------------------------------------------------

conn = current()
assistant_id = choose_assistant(conn.store)
sidebar(conn, assistant_id)
if ss.get("confirm_new_thread"):
    confirm_new_thread()
if ss.get("trace_run"):
    trace_dialog(conn.store, ss.trace_run, conn.secrets)

models, models_problem = model_options(conn)
chat_col, config_col = st.columns([3, 2], gap="medium")
with config_col:
    config_panel(models, models_problem)
with chat_col:
    chat(conn)
