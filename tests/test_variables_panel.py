"""The panel's Variables section (AppTest, the local server): typed rows reach the draft, a bad name is
marked, and a chat turn sends the instructions and the message with the defaults filled in."""

from __future__ import annotations

from playground.assistant import Variable
from tests.pages import create, texts


def rows(*added):
    return {"edited_rows": {}, "added_rows": list(added), "deleted_rows": []}


def test_variables_are_kept_checked_and_filled_in_the_chat(app, log, upstream):
    create(app, instructions="Answer about {{city}}; {{ unknown }} stays.")
    assert any("Not declared, so sent as typed" in c for c in texts(app, "caption"))

    city = {"name": "city", "default": "Paris"}
    app.session_state["cfg.variables_editor"] = rows(city, {"name": "2x", "default": ""})
    app.run()
    assert not app.exception, app.exception
    [assistant] = log.list_assistants()
    assert log.get_draft(assistant["id"])[0].variables == [Variable("city", "Paris"), Variable("2x", "")]
    assert any("The variable name '2x' is not usable" in e for e in texts(app, "error"))

    app.session_state["cfg.variables_editor"] = rows(city)
    app.run()
    assert not [e for e in texts(app, "error") if "variable" in e]
    app.chat_input[0].set_value("Weather in {{ city }}?").run()
    assert not app.exception, app.exception
    body = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert body["instructions"] == "Answer about Paris; {{ unknown }} stays."
    assert body["input"][-1]["content"][0]["text"] == "Weather in Paris?"
    assert log.latest_version(assistant["id"]).config.variables == [Variable("city", "Paris")]
