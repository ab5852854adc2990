"""The tools and files parts of the Playground page (AppTest), against the local server via the real SDK."""

from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from tests.conftest import TEST_KEY
from tests.openai_server.server import PNG
from tests.pages import APP, NOTES, add_function, create, texts


def names(at) -> list[str]:
    return [m.name for m in at.chat_message]


def test_a_failing_handler_is_flagged_on_its_call_and_the_model_gets_the_error(app, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_current_time")
    upstream.script({"function_calls": [{"name": "get_current_time", "arguments": '{"timezone": "Mars/Base"}'}]})
    app.chat_input[0].set_value("Time on Mars?").run()
    if any(b.key == "send_outputs" for b in app.button):  # handlers may run by themselves, or on Send
        app.button(key="send_outputs").click().run()
    assert not app.exception, app.exception
    [warning] = [w for w in texts(app, "warning") if w.startswith("The handler failed")]
    assert "Unknown time zone 'Mars/Base'" in warning
    sent = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]["input"]
    assert json.loads(sent[0]["output"]) == {
        "error": "Unknown time zone 'Mars/Base'; use an IANA name such as Europe/Paris."
    }


def test_text_written_before_calls_is_drawn_before_them(app, log, upstream):
    create(app)
    app.toggle(key="cfg.functions_on").set_value(True).run()
    add_function(app, "get_weather")
    upstream.script(
        {"text": "Let me look that up.", "function_calls": [{"name": "get_weather", "arguments": '{"city": "Oslo"}'}]}
    )
    app.chat_input[0].set_value("Weather in Oslo?").run()
    assert not app.exception, app.exception
    assert names(app) == ["user", "assistant", "tool"]
    assert app.chat_message[1].markdown[0].value == "Let me look that up."
    # After the answer the next turn's reply follows the call, as in the trace.
    [call] = log.thread_tool_calls(log.list_threads(log.list_assistants()[0]["id"])[0].id)
    app.text_area(key=f"call.{call.call_id}.output").input('{"temp_c": 3}').run()
    app.button(key="send_outputs").click().run()
    assert names(app) == ["user", "assistant", "tool", "assistant"]


def test_interpreter_images_are_drawn_inline_from_the_log(app, log, upstream):
    create(app)
    app.toggle(key="cfg.code_interpreter").set_value(True).run()
    upstream.script(
        {
            "text": "Here is the chart.",
            "code_interpreter": {
                "code": "plt.savefig('chart.png')",
                "files": [
                    {"filename": "chart.png", "content": PNG},
                    {"filename": "fake.png", "content": "not a picture"},
                    {"filename": "data.csv", "content": "a\n1\n"},
                ],
            },
        }
    )
    app.chat_input[0].set_value("Chart it").run()
    assert not app.exception, app.exception
    [reply] = [m for m in app.chat_message if m.name == "assistant"]
    # The chart is drawn (no data URL came with it: only the container file); a file named .png that
    # is not an image is offered for download only, never drawn broken.
    [image] = reply.get("image")
    assert image.captions == ["chart.png"]
    labels = sorted(d.proto.label.split(" (")[0] for d in reply.get("download_button"))
    assert labels == ["chart.png", "data.csv", "fake.png"]
    # The container is gone upstream; a reload still draws it from the log.
    upstream.containers.clear()
    again = AppTest.from_file(APP, default_timeout=30).run()
    [reply] = [m for m in again.chat_message if m.name == "assistant"]
    assert len(reply.get("image")) == 1


def test_the_upload_rule_is_visible_next_to_each_uploader(app):
    create(app)
    app.toggle(key="cfg.file_search").set_value(True).run()
    app.toggle(key="cfg.code_interpreter").set_value(True).run()
    captions = texts(app, "caption")
    assert any(c.startswith(":material/info: File search takes .c, .cpp") and "up to 20 MB each" in c for c in captions)
    assert any(c.startswith(":material/info: The code interpreter takes") and ".xlsx" in c for c in captions)


def test_several_files_in_one_go_are_uploaded_once_each(app, log, upstream):
    create(app)
    app.toggle(key="cfg.code_interpreter").set_value(True).run()
    app.file_uploader(key="ci_upload_0").set_value(
        [("a.csv", b"x\n1\n", "text/csv"), ("b.csv", b"y\n2\n", "text/csv")]
    ).run()
    app.run()
    posted = [r for r in upstream.requests if r["method"] == "POST" and r["path"] == "/v1/files"]
    assert sorted(r["body"]["file"]["filename"] for r in posted) == ["a.csv", "b.csv"]
    assert sorted(f.filename for f in log.list_files()) == ["a.csv", "b.csv"]
    assert len(app.text_input(key="cfg.code_file_ids").value.split(", ")) == 2


def _redelivery_script(base_url: str, db: str) -> None:
    """The uploader's old value delivered to the callback again (what a ticking fragment can do)."""
    import streamlit as st

    from app_pages._common import Connection
    from app_pages._files import _upload
    from playground.client import ApiKey
    from playground.store import Store  # AppTest.from_function runs this body alone: imports go here

    class Upload:  # the parts of st.UploadedFile the callback reads
        def __init__(self, file_id: str, name: str, data: bytes) -> None:
            self.file_id, self.name, self.type, self._data = file_id, name, "text/csv", data

        def getvalue(self) -> bytes:
            return self._data

    conn = Connection(ApiKey("sk-test-0123456789abcdefSECRETKEY", "environment"), base_url, Store(db))
    st.session_state.setdefault("ci_upload_0", [Upload("u1", "a.csv", b"a\n"), Upload("u2", "b.csv", b"b\n")])
    if st.button("deliver again", key="again") or "done" not in st.session_state:
        _upload(conn, "ci_upload_0", "code_interpreter", None, lambda: None)
        st.session_state.done = True
    st.write(st.session_state.get("cfg.code_file_ids", ""))


def test_firing_the_upload_callback_twice_uploads_once(upstream, tmp_path):
    at = AppTest.from_function(_redelivery_script, args=(upstream.base_url, str(tmp_path / "log.db")))
    at.run()
    at.button(key="again").click().run()
    assert not at.exception, at.exception
    posted = [r for r in upstream.requests if r["method"] == "POST" and r["path"] == "/v1/files"]
    assert len(posted) == 2
    assert len(at.session_state["cfg.code_file_ids"].split(", ")) == 2


def test_existing_upstream_stores_and_their_files_can_be_attached(app, log, upstream):
    upstream.indexing_polls = 0
    handbook = upstream.add_file("handbook.md", b"# Handbook\n")
    team = upstream.create_vector_store("Team docs", [handbook["id"]])
    create(app)
    app.toggle(key="cfg.file_search").set_value(True).run()
    target = app.selectbox(key="fs_target")
    assert target.options == [f"Team docs · {team['id']} · 1 file"]
    app.button(key="fs_use_store").click().run()
    assert app.text_input(key="cfg.vector_store_ids").value == team["id"]
    assert log.list_vector_stores()[0]["name"] == "Team docs"
    assert any(m.startswith(":material/check_circle: handbook.md") for m in texts(app))
    assert "Also in this store, added outside this app (1):" in texts(app, "caption")
    app.button(key=f"fs_detach_{team['id']}_{handbook['id']}").click().run()
    assert not app.exception, app.exception
    assert upstream.vector_stores[team["id"]]["files"] == {} and handbook["id"] in upstream.files
    assert not any("handbook.md" in m for m in texts(app))


def test_a_store_list_that_fails_says_why_and_reload_tries_again(app, upstream):
    create(app)
    upstream.script({"path": "/vector_stores", "status": 403, "error": {"message": TEST_KEY}})
    app.toggle(key="cfg.file_search").set_value(True).run()
    assert not app.exception, app.exception
    [warning] = [w for w in texts(app, "warning") if w.startswith("Could not list the vector stores")]
    assert TEST_KEY not in warning
    app.button(key="fs_reload").click().run()
    assert not [w for w in texts(app, "warning") if w.startswith("Could not list")]


def test_indexing_that_runs_too_long_stops_polling_and_offers_to_check_again(app, log, upstream):
    upstream.indexing_polls = 10_000
    create(app)
    app.toggle(key="cfg.file_search").set_value(True).run()
    app.button(key="fs_new_store").click().run()
    app.file_uploader(key="fs_upload_0").set_value(("notes.txt", NOTES, "text/plain")).run()
    assert app.get("progress")
    vs = log.list_vector_stores()[0]["id"]
    app.session_state["fs_polls"][vs].started = time.time() - 11 * 60
    app.run()
    assert not app.exception, app.exception
    assert not app.get("progress")
    assert any(w.startswith("Still indexing after 11 minutes.") for w in texts(app, "warning"))
    checks = len(upstream.requests)
    app.run()
    assert len(upstream.requests) == checks  # no polling while stopped
    app.button(key="fs_check_again").click().run()
    assert app.get("progress") and len(upstream.requests) > checks


def test_the_trace_steps_are_redacted_like_the_raw_json(app, log):
    create(app)
    app.chat_input[0].set_value(f"my key is {TEST_KEY}").run()  # the local server echoes it back
    message = [m for m in log.list_messages(log.list_threads(log.list_assistants()[0]["id"])[0].id)][-1]
    assert TEST_KEY in message.content
    app.button(key=f"trace.{message.id}").click().run()
    assert not app.exception, app.exception
    shown = [j.value for j in app.json]
    assert len(shown) >= 3 and "Echo: my key is [redacted]" in shown[0]
    assert not any(TEST_KEY in v for v in shown)


def test_a_generated_file_that_failed_to_arrive_can_be_fetched_again(app, upstream):
    create(app)
    app.toggle(key="cfg.code_interpreter").set_value(True).run()
    upstream.script(
        {"text": "Done.", "code_interpreter": {"code": "x", "files": [{"filename": "out.csv", "content": "a\n1\n"}]}},
        {"path": "/content", "status": 503, "error": {"message": "busy"}, "times": 3},
    )
    app.chat_input[0].set_value("Make a file").run()
    [reply] = [m for m in app.chat_message if m.name == "assistant"]
    assert any(w.startswith("out.csv could not be fetched") for w in [e.value for e in reply.warning])
    assert not reply.get("download_button")
    [again] = [b for b in reply.button if b.key and b.key.startswith("refetch.")]
    again.click().run()
    assert not app.exception, app.exception
    [reply] = [m for m in app.chat_message if m.name == "assistant"]
    assert not reply.warning and [d.proto.label for d in reply.get("download_button")] == ["out.csv (0.0 KB)"]
