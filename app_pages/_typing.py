"""A text field whose text reaches the server while typing (a custom component, no build step).

Streamlit's `st.text_area` sends its text only when it is left (or on Ctrl+Enter), so a reload loses
whatever was typed since. `typing_area` sends it about a second after the last keystroke, and when the
field is left, and behaves otherwise like a text area: label, value, height, max_chars, placeholder,
disabled. The value lives in `st.session_state[key]`, as with a keyed widget; `on_change` runs (as a
callback, before the script) with every text that arrives, changed or not.

The browser shows the server's value only when code set it (opening an assistant, a restore): each
such value gets a new generation number, and the field keeps what it shows while the number stays
the same, so an echo of what was typed never moves the caret or drops keystrokes typed meanwhile.
The text is only ever a field's value in the browser (`_typing.js`), never markup or code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import streamlit as st
from streamlit.components.v2 import component

DELAY_MS = 1000  # how long typing pauses before the text is sent

_HERE = Path(__file__).resolve().parent


def _compact(source: str, punctuation: str) -> str:
    """The asset without comments and with no space around `punctuation`: Streamlit sends it inline with
    the element whenever the element changes, i.e. with every text that arrives. Good for these two
    files only (no string in them holds `//`, `/*` or a space beside punctuation)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.DOTALL)
    lines = (re.sub(r"(^|\s)//.*$", "", line).strip() for line in source.splitlines())
    # Lines stay lines: Streamlit takes a one-line string for a file path.
    return re.sub(rf"[ \t]*([{re.escape(punctuation)}])[ \t]*", r"\1", "\n".join(line for line in lines if line))


_component = component(
    "playground_typing_area",
    js=_compact((_HERE / "_typing.js").read_text(encoding="utf-8"), "{}();,=:+<>!&|?"),
    css=_compact((_HERE / "_typing.css").read_text(encoding="utf-8"), "{};:,>"),
)

ss = st.session_state


def component_key(key: str) -> str:
    """The component's own key (its state is not the text: that is `st.session_state[key]`)."""
    return f"typing.{key}"


def _generation_key(key: str) -> str:
    return f"_typing_gen.{key}"


def typing_area(
    label: str,
    *,
    key: str,
    value: str | None = None,
    height: int | None = 120,
    max_chars: int | None = None,
    placeholder: str = "",
    disabled: bool = False,
    label_visibility: Literal["visible", "hidden", "collapsed"] = "visible",
    multiline: bool = True,
    on_change: Callable[[], None] | None = None,
) -> str:
    """Draw the field and return its text (`multiline=False` makes it a one-line input).

    `value` is the text to start with when `st.session_state[key]` holds none yet.
    """
    if value is not None and key not in ss:
        ss[key] = value
    value = str(ss.get(key) or "")
    gen, known = ss.get(_generation_key(key), (0, None))
    if known != value:  # set by code, not typed here: the browser is to show it
        gen += 1
        ss[_generation_key(key)] = (gen, value)
    data = {
        "label": label,
        "value": value,
        "gen": gen,
        "delay": DELAY_MS,
        "height": height if multiline else None,
        "max_chars": max_chars,
        "placeholder": placeholder,
        "disabled": disabled,
        "label_visibility": label_visibility,
        "one_line": not multiline,
    }
    _component(
        key=component_key(key),
        # Left out when empty or off, as the browser's default stands in: this goes with every text.
        data={k: v for k, v in data.items() if k in ("value", "label", "gen") or v not in (None, False, "", "visible")},
        on_value_change=lambda: _arrived(key, on_change),
    )
    return value


def _arrived(key: str, on_change: Callable[[], None] | None) -> None:
    """A text from the browser: it becomes the value, and `on_change` hears of it."""
    sent = (ss.get(component_key(key)) or {}).get("value")
    if not isinstance(sent, dict) or not isinstance(sent.get("text"), str):
        return
    text = sent["text"]
    gen, _ = ss.get(_generation_key(key), (0, None))
    if sent.get("gen") != gen:
        # Typed over a value code had set meanwhile: the typing wins, and the browser is told so.
        gen += 1
    ss[key] = text
    ss[_generation_key(key)] = (gen, text)
    if on_change is not None:
        on_change()
