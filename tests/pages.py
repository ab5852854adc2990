"""Helpers for driving the pages with AppTest (the fixtures are in conftest.py)."""

from __future__ import annotations

from pathlib import Path

APP = str(Path(__file__).resolve().parents[1] / "app.py")
NOTES = b"Meeting notes: the launch moves to Friday. Budget approved.\n"  # a file to search


def texts(at, kind="markdown"):
    return [e.value for e in getattr(at, kind)]


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
