"""Function calling in a real browser: define a function, get a call, type its output, see the answer."""

from playwright.sync_api import expect

from tests.app_process import wait_for_app
from tests.e2e.browser import create, new_assistant, send


def test_define_a_function_answer_its_call_by_hand(app, upstream, log_store):
    page = app
    new_assistant(page, "Weather bot")
    page.get_by_text("Functions", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Add function").click()  # the first example: get_weather
    wait_for_app(page)
    expect(page.get_by_label("Function name")).to_have_value("get_weather")
    create(page)

    upstream.script(
        {"function_calls": [{"name": "get_weather", "arguments": '{"city": "Oslo"}', "call_id": "call_e2e"}]}
    )
    send(page, "What's the weather in Oslo?")
    expect(page.get_by_text("Waiting for 1 function output").last).to_be_visible()
    expect(page.get_by_text('"city": "Oslo"').last).to_be_visible()

    # The pending call survives a reload.
    page.reload()
    wait_for_app(page)
    output = page.get_by_label("Output (text or JSON)")
    expect(output).to_be_visible()
    output.fill('{"temp_c": -3, "sky": "snow"}')
    output.press("Tab")
    wait_for_app(page)
    page.get_by_role("button", name="Send outputs").click()
    expect(page.get_by_text('The function returned: {"temp_c": -3, "sky": "snow"}').last).to_be_visible()
    wait_for_app(page)

    bot = next(a for a in log_store.list_assistants() if a["name"] == "Weather bot")
    [thread] = log_store.list_threads(bot["id"])
    [call] = log_store.thread_tool_calls(thread.id)
    assert (call.status, call.source, call.output) == ("answered", "hand", '{"temp_c": -3, "sky": "snow"}')
    continuation = [r for r in upstream.requests if r["path"].endswith("/responses")][-1]["body"]
    assert continuation["input"] == [
        {"type": "function_call_output", "call_id": "call_e2e", "output": '{"temp_c": -3, "sky": "snow"}'}
    ]
    assert upstream.violations == []


def test_uploads_in_the_browser_once_each_and_the_rule_in_sight(app, upstream, log_store):
    page = app
    new_assistant(page, "Files bot")
    create(page)
    page.get_by_text("File search", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="New vector store").click()
    wait_for_app(page)

    dropzone = page.get_by_test_id("stFileUploaderDropzoneInput").first
    # Streamlit refuses a wrong type in the browser (a red chip with a hover-only reason); the app's
    # rule is on screen beside it, and nothing is uploaded.
    dropzone.set_input_files([{"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}])
    expect(page.get_by_text("tool.exe")).to_be_visible()
    rule = page.get_by_text("File search takes .c, .cpp")
    expect(rule).to_be_visible()
    expect(rule).to_contain_text("up to 20 MB each")

    # Two files at once, while the indexing fragment ticks: each is uploaded and attached once.
    dropzone = page.get_by_test_id("stFileUploaderDropzoneInput").first
    dropzone.set_input_files(
        [
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"The launch moves to Friday.\n"},
            {"name": "plan.md", "mimeType": "text/markdown", "buffer": b"# Plan\nShip it.\n"},
        ]
    )
    expect(page.get_by_text("completed")).to_have_count(2, timeout=15_000)
    page.wait_for_timeout(2500)  # a few more ticks: a re-delivered upload would show up now
    posted = [r for r in upstream.requests if r["method"] == "POST" and r["path"] == "/v1/files"]
    assert sorted(r["body"]["file"]["filename"] for r in posted) == ["notes.txt", "plan.md"]
    attached = [r for r in upstream.requests if r["method"] == "POST" and r["path"].startswith("/v1/vector_stores/")]
    assert len(attached) == 2
    bot = next(a for a in log_store.list_assistants() if a["name"] == "Files bot")
    assert bot and sorted(f.filename for f in log_store.list_files("file_search")) == ["notes.txt", "plan.md"]
    assert upstream.violations == []
