"""The Playground's configuration panel: one fragment per section, the actions, the save status.

Layout and wiring only: what a config is and whether it is valid is `playground.assistant`; how
widget values map to it, and what the save status says, is `playground.editor`. Long text fields
are `_typing.typing_area`, which sends what is typed after a short pause, not only when left.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from app_pages._common import guarded_write
from app_pages._files import code_files, file_search_files
from app_pages._sharing import read_only_line
from app_pages._typing import typing_area
from playground import editor, markup, provider
from playground.assistant import (
    DESCRIPTION_MAX,
    INSTRUCTIONS_MAX,
    MAX_OUTPUT_TOKENS_MIN,
    METADATA_KEY_MAX,
    METADATA_PAIRS_MAX,
    METADATA_VALUE_MAX,
    NAME_MAX,
    PLACEHOLDER_RE,
    RANKERS,
    REASONING_EFFORTS,
    RESPONSE_FORMATS,
    VARIABLE_NAME_MAX,
    is_reasoning_model,
    sampling_problem,
)
from playground.errors import LogError
from playground.store import Store, Version

ss = st.session_state
# Widgets drawn only sometimes (behind a toggle or a choice) keep what was typed while hidden.
KEEP = "page"


def on_edit() -> None:
    """Every edit is written to the draft at once, valid or not (kept on screen when the log refuses it)."""
    saved_at = guarded_write(ss.conn.store.save_draft, ss.assistant_id, editor.from_state(ss))
    if saved_at is not None:
        ss.draft_saved_at = saved_at
    ss.draft_edited = True  # the section that reruns checks the save status line (status_stale)


# -- configuration panel ----------------------------------------------------------------------


def field_errors(errors, *names: str) -> None:
    for message in editor.errors_for(errors, *names):
        st.error(markup.literal(message), icon=":material/error:")


def config_panel(models: dict[str, str | None], models_problem: str | None) -> None:
    """The configuration, one fragment per section: an edit reruns its own section only.

    A section whose edit changes what another section shows (an error message there, or whether
    reasoning effort applies) asks for one full rerun, so the panel never shows stale messages.

    Someone else's shared assistant (`shared_owner`, set by the page) gets a read-only summary of its
    latest version instead: no field to edit, so nothing writes to its draft.
    """
    if ss.get("shared_owner"):
        shared_panel(ss.conn.store, ss.shared_owner)
        return
    ss.panel_view = panel_view()
    # Save and its status come first, so Create/Update never sits below the fold.
    actions(ss.conn.store)
    with st.container(border=True, key="config"):
        basic_section()
        instructions_section()
        variables_section()
        model_section(models, models_problem)
        tools_section()
        model_config_section()
        metadata_section()


def panel_view() -> tuple:
    """What decides how every section looks: the problems, whether reasoning effort applies, and whether
    the model takes it (a switch from o3 to gpt-4.1 keeps the effort but greys it out)."""
    config = editor.from_state(ss)
    shown = is_reasoning_model(config.model) or bool(config.reasoning_effort)
    return tuple(config.validate()), shown, provider.takes_reasoning_effort(config.model)


def section_errors() -> list:
    """This section's view of the errors; a full rerun first if other sections would go stale."""
    view = panel_view()
    if view != ss.get("panel_view"):
        ss.panel_view = view
        st.rerun()
    if ss.pop("draft_edited", False) and status_stale():
        st.rerun()
    return list(view[0])


def status_stale() -> bool:
    """Whether the save status line, drawn outside this section, no longer says what the log holds.

    Checked only after an edit; a full rerun redraws the line. While typing goes on the line stays
    the same ("Draft saved 10:41 · …"), so that is the first edit after a version and once a minute.
    """
    return status_text() != ss.get("status_text")


def on_rename() -> None:
    on_edit()
    ss.renamed = True


@st.fragment
def basic_section() -> None:
    if ss.pop("renamed", False):
        st.rerun()  # the sidebar's assistant picker shows the name too
    errors = section_errors()
    st.markdown("**Basic information**")
    st.text_input("Name", key="cfg.name", max_chars=NAME_MAX, on_change=on_rename, placeholder="Support bot")
    field_errors(errors, "name")
    typing_area("Description", key="cfg.description", max_chars=DESCRIPTION_MAX, multiline=False, on_change=on_edit)
    field_errors(errors, "description")


@st.fragment
def instructions_section() -> None:
    errors = section_errors()
    st.markdown("**Instructions**")
    typing_area(
        "Instructions",
        key="cfg.instructions",
        height=180,
        on_change=on_edit,
        label_visibility="collapsed",
        placeholder="You are a helpful assistant that…",
    )
    st.caption(f"{len(ss.get('cfg.instructions') or ''):,} / {INSTRUCTIONS_MAX:,} characters")
    field_errors(errors, "instructions")


@st.fragment
def variables_section() -> None:
    errors = section_errors()
    config = editor.from_state(ss)
    # Open when it holds variables or a problem, so a red mark is never hidden in a closed expander.
    opened = bool(config.variables) or bool(editor.errors_for(errors, "variables"))
    with st.expander("Variables", icon=":material/data_object:", expanded=opened):
        edited = st.data_editor(
            pd.DataFrame(ss.get("cfg.variables_base") or [], columns=["name", "default"]),
            key="cfg.variables_editor",
            num_rows="dynamic",
            width="stretch",
            hide_index=True,
            column_config={
                "name": st.column_config.TextColumn("Name"),
                "default": st.column_config.TextColumn("Default value"),
            },
        )
        rows = edited.to_dict("records")
        if editor.rows_to_variables(rows) != editor.rows_to_variables(ss.get("cfg.variables")):
            ss["cfg.variables"] = rows
            on_edit()
            if panel_view() != ss.get("panel_view") or (ss.pop("draft_edited", False) and status_stale()):
                st.rerun()
        st.caption(
            "Write `{{name}}` in the instructions or a message: chat turns fill in the default, test cases "
            f"their own values. Names are letters, digits and _ (≤ {VARIABLE_NAME_MAX}); other braces stay as typed."
        )
        field_errors(errors, "variables")
        declared = {v.name for v in config.variables}
        undeclared = sorted(set(PLACEHOLDER_RE.findall(config.instructions)) - declared)
        if undeclared:
            names = ", ".join(markup.literal("{{" + n + "}}") for n in undeclared)
            st.caption(f":material/info: Not declared, so sent as typed: {names}.")


@st.fragment
def model_section(models: dict[str, str | None], models_problem: str | None) -> None:
    errors = section_errors()
    st.markdown("**Model**")
    current = ss.get("cfg.model") or ""
    options = list(models) if current in models or not current else [current, *models]
    st.selectbox(
        "Model",
        options,
        key="cfg.model",
        accept_new_options=True,
        on_change=on_edit,
        label_visibility="collapsed",
        help="Pick from the list or type any model id.",
    )
    notice = editor.shutdown_notice(ss.get("cfg.model") or "", models.get(ss.get("cfg.model") or ""))
    if notice and notice[1]:
        st.warning(markup.literal(notice[0]), icon=":material/event_busy:")
    elif notice:
        st.caption(f":material/event: {markup.literal(notice[0])}")
    if models_problem and models:
        st.caption(f":material/warning: Showing a fallback list. {markup.literal(models_problem)}")
    elif models_problem:  # another server's models are its own: no list of OpenAI's stands in for them
        st.caption(
            f":material/warning: No model list from this server: type a model id. {markup.literal(models_problem)}"
        )
    field_errors(errors, "model")


@st.fragment
def tools_section() -> None:
    errors = section_errors()
    st.markdown("**Tools**")
    # Said before sending: over Chat Completions nobody runs hosted tools. A switch already on stays on
    # (the panel never drops a field) and usable, so it can be turned off; the turn would refuse it.
    hosted = ss.conn.way() != "chat"
    if not hosted:
        st.caption(
            ":material/block: File search and the code interpreter run only on OpenAI's Responses API; "
            "this server speaks Chat Completions."
        )
    hosted_switch("File search", "cfg.file_search", hosted)
    if ss.get("cfg.file_search"):
        st.text_input(
            "Vector store ids", key="cfg.vector_store_ids", on_change=on_edit, placeholder="vs_…", persist_state=KEEP
        )
        st.number_input(
            "Max results (1–50)",
            key="cfg.max_num_results",
            value=None,  # empty means the model default, never the minimum
            min_value=1,
            max_value=50,
            on_change=on_edit,
            placeholder="model default",
            persist_state=KEEP,
        )
        ranker, threshold = st.columns(2)
        ranker.selectbox(
            "Ranker", [editor.MODEL_DEFAULT, *RANKERS], key="cfg.ranker", on_change=on_edit, persist_state=KEEP
        )
        threshold.number_input(
            "Score threshold (0–1)",
            key="cfg.score_threshold",
            value=None,
            min_value=0.0,
            max_value=1.0,
            step=0.05,
            on_change=on_edit,
            placeholder="none",
            help="Results scoring below this are dropped.",
            persist_state=KEEP,
        )
        field_errors(errors, "file_search")
        if ss.conn.key:
            file_search_files(ss.conn, on_edit)
    else:
        field_errors(errors, "file_search")
    hosted_switch("Code interpreter", "cfg.code_interpreter", hosted)
    if ss.get("cfg.code_interpreter"):
        st.text_input("File ids for the container", key="cfg.code_file_ids", on_change=on_edit, persist_state=KEEP)
        field_errors(errors, "code_interpreter")
        if ss.conn.key:
            code_files(ss.conn, on_edit)
    else:
        field_errors(errors, "code_interpreter")
    field_errors(errors, "tools")
    st.toggle("Functions", key="cfg.functions_on", on_change=on_edit)
    if ss.get("cfg.functions_on"):
        functions_editor(errors)


def hosted_switch(label: str, key: str, hosted: bool) -> None:
    """A hosted tool's switch: greyed out where turns run over Chat Completions, unless it is on."""
    st.toggle(label, key=key, on_change=on_hosted_edit, args=(key,), disabled=not hosted and not ss.get(key))
    if not hosted and ss.get(key):
        st.warning(markup.literal(provider.CAPABILITIES["chat"].refusal(label)), icon=":material/block:")


def on_hosted_edit(key: str) -> None:
    # Turned off, the switch is drawn greyed out in this same run, and Streamlit drops a click on a widget
    # drawn disabled unless the value is set in code: set it, or the switch would spring back on.
    ss[key] = ss[key]
    on_edit()


@st.fragment
def model_config_section() -> None:
    errors = section_errors()
    config = editor.from_state(ss)
    fields = ("response_format", "temperature", "top_p", "reasoning_effort", "max_output_tokens")
    # Open when it holds a problem, so "marked in red" is never hidden in a closed expander.
    with st.expander("Model configuration", icon=":material/tune:", expanded=bool(editor.errors_for(errors, *fields))):
        st.selectbox("Response format", RESPONSE_FORMATS, key="cfg.response_format", on_change=on_edit)
        if ss.get("cfg.response_format") == "json_schema":
            st.text_input("Schema name", key="cfg.schema_name", on_change=on_edit, persist_state=KEEP)
            st.text_input("Schema description", key="cfg.schema_description", on_change=on_edit, persist_state=KEEP)
            st.text_area(
                "JSON schema",
                key="cfg.schema",
                height=200,
                on_change=on_edit,
                help="Checked when you leave the field (or press Ctrl+Enter).",
                persist_state=KEEP,
            )
            st.checkbox("Strict", key="cfg.schema_strict", on_change=on_edit, persist_state=KEEP)
        field_errors(errors, "response_format")
        refused = sampling_problem(config.model, config.reasoning_effort)
        st.toggle(
            "Custom sampling",
            key="cfg.sampling",
            on_change=on_edit,
            help="Off: temperature and Top P are left to the model (nothing is sent).",
        )
        if ss.get("cfg.sampling"):
            st.slider("Temperature", 0.0, 2.0, step=0.01, key="cfg.temperature", on_change=on_edit, persist_state=KEEP)
            st.slider("Top P", 0.0, 1.0, step=0.01, key="cfg.top_p", on_change=on_edit, persist_state=KEEP)
            field_errors(errors, "temperature", "top_p")
        elif refused:
            st.caption(f"{markup.literal(config.model)} sets its own sampling.")
        if is_reasoning_model(config.model) or config.reasoning_effort:
            # A model known not to reason would refuse it: kept in the draft, greyed out, not sent (request.py).
            refuses = provider.takes_reasoning_effort(config.model) is False
            st.selectbox(
                "Reasoning effort",
                [editor.MODEL_DEFAULT, *REASONING_EFFORTS],
                key="cfg.reasoning_effort",
                on_change=on_edit,
                disabled=refuses,
                help="Not every model takes every value; the API says which it refuses.",
                persist_state=KEEP,
            )
            if refuses:
                st.caption(
                    f"{markup.literal(config.model.strip())} does not take reasoning effort; "
                    "it is kept for models that do and not sent."
                )
            field_errors(errors, "reasoning_effort")
        st.number_input(
            "Max output tokens",
            key="cfg.max_output_tokens",
            value=None,
            min_value=MAX_OUTPUT_TOKENS_MIN,
            step=256,
            on_change=on_edit,
            placeholder="model default",
        )
        field_errors(errors, "max_output_tokens")
        if ss.conn.way() == "chat":
            st.caption("Long threads: the oldest turns are left out when the server says the context is full.")
        else:
            st.toggle(
                "Drop the oldest turns when the thread outgrows the context",
                key="cfg.truncation",
                on_change=on_edit,
                help="Sends truncation: auto. Off, the API refuses a thread that no longer fits.",
            )


@st.fragment
def metadata_section() -> None:
    errors = section_errors()
    st.markdown("**Metadata**")
    edited = st.data_editor(
        pd.DataFrame(ss.get("cfg.metadata_base") or [], columns=["key", "value"]),
        key="cfg.metadata_editor",
        num_rows="dynamic",
        width="stretch",
        hide_index=True,
        # No max_chars: the grid would cut a pasted key silently; validation names it instead.
        column_config={"key": st.column_config.TextColumn("Key"), "value": st.column_config.TextColumn("Value")},
    )
    rows = edited.to_dict("records")
    if editor.rows_to_metadata(rows) != editor.rows_to_metadata(ss.get("cfg.metadata")):
        ss["cfg.metadata"] = rows
        on_edit()
        if panel_view() != ss.get("panel_view") or (ss.pop("draft_edited", False) and status_stale()):
            st.rerun()
    st.caption(
        f"Up to {METADATA_PAIRS_MAX} pairs; keys ≤ {METADATA_KEY_MAX} characters, values ≤ {METADATA_VALUE_MAX}."
    )
    field_errors(errors, "metadata")
    for key in editor.duplicate_keys(rows):
        st.error(
            f"The key {markup.literal(repr(key))} appears more than once; only its last value is kept.",
            icon=":material/error:",
        )


def functions_editor(errors) -> None:
    count = int(ss.get("cfg.fn_count") or 0)
    for i in range(count):
        with st.container(border=True, key=f"fn_box_{i}"):
            st.text_input("Function name", key=f"cfg.fn.{i}.name", on_change=on_edit, persist_state=KEEP)
            field_errors(errors, f"functions[{i}].name")
            st.text_input("Description", key=f"cfg.fn.{i}.description", on_change=on_edit, persist_state=KEEP)
            st.text_area(
                "Parameters (JSON Schema)",
                key=f"cfg.fn.{i}.parameters",
                height=160,
                on_change=on_edit,
                persist_state=KEEP,
            )
            field_errors(errors, f"functions[{i}].parameters")
            st.checkbox("Strict", key=f"cfg.fn.{i}.strict", on_change=on_edit, persist_state=KEEP)
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
    latest = store.latest_version(ss.assistant_id)
    left, right = st.columns([1, 1])
    label = "Update" if latest else "Create"
    # A callback saves before this run draws the button, so its label is right at once.
    left.button(
        label, type="primary", key="save_version", icon=":material/save:", width="stretch", on_click=save_version
    )
    if right.button("Back to assistants", key="back", icon=":material/arrow_back:", width="stretch"):
        st.switch_page("app_pages/assistants.py")
    st.text_input(
        "Version note",
        key=note_key(),
        placeholder="Note for the next version (optional)",
        label_visibility="collapsed",
        max_chars=200,
    )
    if error := ss.pop("save_error", None):
        st.error(error)
    if saved := ss.pop("saved_version", None):
        st.toast(f"Saved version {saved}", icon=":material/check:")
    ss.pop("draft_edited", None)  # drawn just below, after every edit so far
    ss.status_slot = st.empty()
    save_status_line()


def note_key() -> str:
    # A new key empties the box once its note has gone into a version.
    return f"version_note.{ss.get('note_generation', 0)}"


def typed_note() -> str:
    return (ss.get(note_key()) or "").strip()


def note_used() -> None:
    ss.note_generation = ss.get("note_generation", 0) + 1


def commit(note: str = "", *, redraw: bool = True) -> Version | None:
    """The panel's config as a version (None, with the problems marked, when it is not valid).

    Called by sending, after the panel is drawn: `redraw` updates the save status line in place, as
    a reply drawn without a rerun would leave it saying "Draft saved" beside the new version.
    Someone else's shared assistant is run as its owner left it: its latest version (None: it has
    none yet), with nothing written.
    """
    store: Store = ss.conn.store
    if ss.get("shared_owner"):
        return store.latest_version(ss.assistant_id)
    latest = store.latest_version(ss.assistant_id)
    version, _ = editor.commit(store, ss.assistant_id, editor.from_state(ss), note=typed_note() or note)
    ss.draft_saved_at = time.time()
    if version is not None and (latest is None or version.id != latest.id):
        ss.saved_version = version.number
        if typed_note():
            note_used()  # the note went into this version; an unchanged config keeps it for the next
        if redraw and ss.get("status_slot") is not None:
            save_status_line()
    return version


def save_version() -> None:
    if ss.get("shared_owner"):  # no Create/Update is drawn for someone else's assistant
        return
    try:
        version = commit(redraw=False)  # a callback: the run after it draws the line
    except LogError as exc:
        ss.save_error = f"Not saved: {exc.problem.message}"
        return
    if version is None:
        problems = editor.from_state(ss).validate()
        ss.save_error = f"Not saved: {len(problems)} field(s) need attention (marked below)."


def status_text() -> str | None:
    """What the save status line says, from the log: the draft against the latest version."""
    store: Store = ss.conn.store
    draft = store.get_draft(ss.assistant_id)
    if draft is None:
        return None
    config, updated_at = draft
    latest = store.latest_version(ss.assistant_id)
    return editor.save_status(
        draft=config,
        latest_number=latest.number if latest else None,
        latest=latest.config if latest else None,
        draft_updated_at=updated_at,
        timezone=st.context.timezone,
    )


def save_status_line() -> None:
    """Says whether the draft is a version yet; nothing ticks (an idle page sends nothing).

    Redrawn by every full rerun, by a section after an edit that changes it (section_errors), and by
    a send that makes a version (commit).
    """
    ss.status_text = text = status_text()
    if not text:
        ss.status_slot.empty()
    else:
        ss.status_slot.caption(
            text,
            help="Every edit is kept as a draft: Instructions and Description about a second after you "
            "stop typing, other fields when you change or leave them. A version is made only by "
            "Create/Update, or by sending a message with a changed draft (so every reply is stamped "
            "with its version). The note goes into the next version.",
        )


# -- someone else's shared assistant ------------------------------------------------------------


def shared_panel(store: Store, owner: str) -> None:
    """Someone else's shared assistant, read-only: who shared it, Clone, and its latest version as a summary.
    Read from the log on every run, so a version its owner saves meanwhile is what is shown (and run)."""
    latest = store.latest_version(ss.assistant_id)
    left, right = st.columns([1, 1])
    left.button(
        "Clone",
        type="primary",
        key="clone_shared",
        icon=":material/content_copy:",
        width="stretch",
        on_click=clone_shared,
        disabled=latest is None or store.read_only,
        help="A copy of your own, from its latest version, to change as you like.",
    )
    if right.button("Back to assistants", key="back", icon=":material/arrow_back:", width="stretch"):
        st.switch_page("app_pages/assistants.py")
    st.info(read_only_line(owner), icon=":material/group:")
    if error := ss.pop("clone_error", None):
        st.error(markup.literal(error), icon=":material/error:")
    if latest is None:
        st.caption("It has no version yet: its owner has not pressed Create.")
        return
    config = latest.config
    with st.container(border=True, key="config"):
        st.caption(f"v{latest.number} · the version your messages run")
        st.markdown(f"**{markup.literal(config.name or 'Untitled')}**")
        if config.description:
            st.caption(markup.literal(config.description))
        st.markdown("**Instructions**")
        if config.instructions:
            st.code(config.instructions, language=None, wrap_lines=True)  # a code block: shown as written
        else:
            st.caption("None.")
        st.markdown(f"**Model** {markup.code(config.model)}")
        tools = [
            name
            for name, on in (
                ("file search", config.file_search.enabled),
                ("code interpreter", config.code_interpreter.enabled),
                (f"{len(config.functions)} function(s)", bool(config.functions)),
            )
            if on
        ]
        st.markdown(f"**Tools** {', '.join(tools) if tools else 'none'}")
        if config.variables:
            st.markdown("**Variables**")
            st.dataframe(
                pd.DataFrame(editor.variables_to_rows(config.variables), columns=["name", "default"]),
                hide_index=True,
                width="stretch",
            )
        with st.expander("Whole configuration", icon=":material/data_object:"):
            st.json(config.to_dict(), expanded=True)


def clone_shared() -> None:
    """Callback: a copy of one's own from the shared assistant's latest version, opened in its place."""
    store: Store = ss.conn.store
    try:
        clone = guarded_write(store.clone_assistant, ss.assistant_id)
    except LookupError:  # unshared meanwhile: the next run opens another assistant
        ss.clone_error = "This assistant is no longer shared with you."
        return
    if clone is not None:
        ss.assistant_id = clone.id
