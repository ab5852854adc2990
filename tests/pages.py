"""Helpers for driving the pages with AppTest (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1.element_tree import Block, Widget

from playground import evaluation

APP = str(Path(__file__).resolve().parents[1] / "app.py")
NOTES = b"Meeting notes: the launch moves to Friday. Budget approved.\n"  # a file to search


def texts(at, kind="markdown"):
    """Each element's text as a person reads it: upstream strings are drawn escaped (markup.literal),
    so a backslash escape is taken off, as the markdown renderer does."""
    return [shown(e.value) for e in getattr(at, kind)]


def shown(markdown: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def chat_texts(at):
    return [m.markdown[0].value for m in at.chat_message]


def create(at, name="Bot", instructions="Be brief."):
    at.text_input(key="cfg.name").input(name).run()
    typed(at, "cfg.instructions", instructions).run()
    at.button(key="save_version").click().run()
    assert not at.exception, at.exception


def add_function(at, example):
    at.selectbox(key="fn_example").set_value(example).run()
    at.button[[b.label for b in at.button].index("Add function")].click().run()


# -- the typing fields (app_pages/_typing.py) ---------------------------------------------------
# AppTest cannot run a custom component's JavaScript, so these stand in for it: `typed` puts in the
# next run what the browser sends after a pause (the text, and the generation it was typed over).


def typing_field(at, key: str):
    """The typing field that edits `st.session_state[key]` (its element in the tree)."""
    for node in at:
        if getattr(node, "type", None) == "bidi_component" and node.key == f"typing.{key}":
            return node
    raise KeyError(key)


def typing_value(at, key: str) -> str:
    """What the typing field was last given to show."""
    return typing_data(at, key)["value"]


def typing_data(at, key: str) -> dict:
    return json.loads(typing_field(at, key).proto.json)


class _Typed(Widget):
    """A typing field as the browser leaves it after a pause: its text waits for the next run."""

    def __init__(self, node, text: str, gen: int | None) -> None:
        self.proto, self.root, self.type, self.key, self._value = node.proto, node.root, node.type, node.key, None
        self.id, self.disabled = node.proto.id, False
        self.payload = {"event": "value", "value": {"text": text, "gen": gen}}

    @property
    def value(self) -> str:
        return self.payload["value"]["text"]

    @property
    def _widget_state(self) -> WidgetState:
        state = WidgetState(id=f"$$STREAMLIT_INTERNAL_KEY_{self.id}__events")
        state.json_trigger_value = json.dumps([self.payload])
        return state


def typed(at, key: str, text: str, gen: int | None = None):
    """Type `text` into the typing field of `key` and pause; `.run()` delivers it. `gen` defaults to
    the generation the field shows (a text typed over an older one passes its own)."""
    node = typing_field(at, key)
    if node.proto.json and json.loads(node.proto.json).get("disabled"):
        raise AssertionError(f"the typing field {key} is disabled")
    stand_in = _Typed(node, text, json.loads(node.proto.json)["gen"] if gen is None else gen)
    for block in at:
        if isinstance(block, Block):
            for i, child in block.children.items():
                if child is node:
                    block.children[i] = stand_in
                    return at
    raise KeyError(key)


def results_table(app):
    """The per-case results (the cases editor has no output column)."""
    [found] = [d.value for d in app.dataframe if "output" in d.value.columns]
    return found


def finish(app, log, set_id, timeout=60.0):
    """Wait for the set's newest run to end (through its Evaluation, not sleeps), then draw the page."""
    newest = log.list_replays(set_id)[0]
    running = evaluation.find(newest["id"])
    if running is not None:
        assert running.wait(timeout), "the run did not finish"
    app.run()
    assert not app.exception, app.exception
    return log.get_replay(newest["id"])


def table(app, column: str):
    """The one dataframe on the page with that column (results: "output"; the pivot: "label")."""
    [found] = [d.value for d in app.dataframe if column in d.value.columns]
    return found
