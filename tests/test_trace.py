"""Reading a turn back from its run: citations, code runs, generated files, redaction."""

from __future__ import annotations

import base64
import json

from playground import trace
from playground.store import Run, ToolCallRow

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8


def response(*items):
    return json.dumps({"id": "resp_1", "output": list(items)})


def message(text, *annotations):
    return {"type": "message", "content": [{"type": "output_text", "text": text, "annotations": list(annotations)}]}


SEARCH = {
    "type": "file_search_call",
    "queries": ["refund policy"],
    "results": [
        {"file_id": "file-a", "filename": "policy.md", "score": 0.9, "text": "Refunds   within\\n30 days."},
        {"file_id": "file-b", "filename": "faq.txt", "score": 0.4, "text": "Ask support."},
    ],
}


def test_citations_are_numbered_once_per_file_with_name_and_quote():
    r = response(
        SEARCH,
        message(
            "Refunds take 30 days.",
            {"type": "file_citation", "file_id": "file-a", "filename": "policy.md", "index": 5},
            {"type": "file_citation", "file_id": "file-a", "filename": "policy.md", "index": 9},
            {"type": "file_citation", "file_id": "file-c", "index": 12, "filename": ""},
        ),
    )
    cited = trace.citations(r, names={"file-c": "from-the-log.pdf"})
    assert [(c.number, c.filename) for c in cited] == [(1, "policy.md"), (2, "from-the-log.pdf")]
    assert cited[0].quote == "Refunds within\\n30 days."
    notes = trace.footnotes(cited)
    assert notes.startswith("[1] **policy\\.md** — “Refunds within")
    assert "[2] **from\\-the\\-log\\.pdf**" in notes


def test_footnotes_escape_markdown_and_html():
    cited = [trace.Citation(1, "f", "<img src=x onerror=alert(1)>.md", "*bold* [link](http://x)")]
    notes = trace.footnotes(cited)
    assert notes.count("<img") == notes.count("\\<img") == 1 and "\\[link\\]" in notes


def test_code_runs_and_generated_files():
    image = "data:image/png;base64," + base64.b64encode(PNG).decode()
    r = response(
        {
            "type": "code_interpreter_call",
            "code": "print(1)",
            "container_id": "cntr_1",
            "outputs": [
                {"type": "logs", "logs": "1\n"},
                {"type": "image", "url": image},
                {"type": "image", "url": "https://x"},
            ],
        },
        message(
            "Here is the file.",
            {"type": "container_file_citation", "container_id": "cntr_1", "file_id": "cfile_1", "filename": "out.csv"},
            {"type": "container_file_citation", "container_id": "cntr_1", "file_id": "cfile_1", "filename": "out.csv"},
        ),
    )
    [run] = trace.code_runs(r)
    assert (run.code, run.container_id, run.logs, run.images) == ("print(1)", "cntr_1", ["1\n"], [PNG])
    assert trace.generated_files(r) == [trace.GeneratedFile("cntr_1", "cfile_1", "out.csv")]
    assert trace.data_url_bytes("data:image/png;base64,!!!") is None


def test_bad_or_missing_json_reads_as_empty():
    for text in (None, "", "not json", "[1, 2]"):
        assert trace.output_items(text) == [] and trace.citations(text) == [] and trace.code_runs(text) == []


def run_with(request, resp):
    return Run(
        1, 1, 1, 1, "gpt-4.1-mini", "completed", 10, 5, 15, 120.4, 300.2, "req_1", "resp_1", "msg_1", None,
        json.dumps(request), resp, 0.0, 1.0,
    )  # fmt: skip


def test_steps_summary_and_redacted_raw_json():
    secret = "sk-test-0123456789abcdefSECRETKEY"
    call = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": '{"q": 1}'}
    run = run_with(
        {"model": "m", "input": f"my key is {secret}", "headers": {"Authorization": f"Bearer {secret}"}},
        response(SEARCH, call, message("done"), {"type": "web_search_call", "id": "ws_1"}),
    )
    row = ToolCallRow(1, 1, 1, "c1", "lookup", '{"q": 1}', ["q: wrong"], "42", "hand", "answered", 0.0, 1.0)
    steps = trace.steps(run, [row])
    assert [s["step"] for s in steps] == ["file search", "function call: lookup", "message", "web_search_call"]
    assert steps[0]["hits"][0]["file"] == "policy.md"
    assert (steps[1]["output"], steps[1]["answered"], steps[1]["problems"]) == ("42", "hand", ["q: wrong"])
    summary = trace.summary(run)
    assert summary["total tokens"] == 15 and summary["time to first token (ms)"] == 120
    request, _ = trace.raw(run, (secret,))
    assert secret not in json.dumps(request)
    assert request["headers"]["Authorization"] == "[redacted]"


def test_sandbox_links_keep_only_the_file_name():
    text = "See [the summary](sandbox:/mnt/data/summary.csv) and sandbox:/mnt/data/plot.png."
    assert trace.without_sandbox_links(text) == "See the summary and plot.png."
    assert trace.without_sandbox_links("no links [here](https://x.org)") == "no links [here](https://x.org)"


def test_images_are_known_by_name_and_signature():
    assert trace.is_image("plot.PNG") and trace.is_image("plot.png", PNG)
    assert trace.is_image("a.jpg", b"\xff\xd8\xff\xe0") and trace.is_image("a.gif", b"GIF89a..")
    assert trace.is_image("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    assert not trace.is_image("fake.png", b"not a picture") and not trace.is_image("data.csv", PNG)


def test_output_positions_give_the_order_of_text_and_calls():
    call = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}
    later = {**call, "call_id": "c2"}
    assert trace.output_positions(response(message("first"), call, later)) == {"message": 0, "c1": 1, "c2": 2}
    assert trace.output_positions(response(call, message("after"))) == {"c1": 0, "message": 1}
    assert trace.output_positions(None) == {}


def test_a_citation_without_any_name_says_so():
    r = response(message("x", {"type": "file_citation", "file_id": "file-zz", "filename": "", "index": 1}))
    [cited] = trace.citations(r, names={})
    assert (cited.filename, cited.named) == ("file-zz", False)
    assert trace.footnotes([cited]) == "[1] **file\\-zz** (file name unknown)"


def test_search_hits_without_a_name_are_named_from_the_log():
    hits = {"type": "file_search_call", "queries": ["q"], "results": [{"file_id": "file-a", "score": 1, "text": "t"}]}
    [step] = trace.steps(run_with({}, response(hits)), [], names={"file-a": "policy.md"})
    assert step["hits"][0]["file"] == "policy.md"
