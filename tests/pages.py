"""Helpers for driving the pages with AppTest (the fixtures are in conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path

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
    at.text_area(key="cfg.instructions").input(instructions).run()
    at.button(key="save_version").click().run()
    assert not at.exception, at.exception


def add_function(at, example):
    at.selectbox(key="fn_example").set_value(example).run()
    at.button[[b.label for b in at.button].index("Add function")].click().run()
