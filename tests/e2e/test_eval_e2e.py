"""Evaluation in a real browser: build a test set from a CSV, add a regex grader, run it on two versions
and read the pivot (issue 14). The app runs against the local OpenAI server, which echoes each input."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

from playwright.sync_api import expect

from playground.assistant import AssistantConfig, Variable
from tests.app_process import wait_for_app
from tests.e2e.browser import commit, pick

# The first case names its city through a variable: v1 declares it (so the input is filled), v2 does not
# (so `{{city}}` stays as typed). The regex looks for "Paris": v1 passes both cases, v2 only the second.
CASES = "input,expected,city\nTrip to {{city}},Paris,Paris\nParis in spring,Paris,Rome\n"


def run_finished(log_store, set_id: int, runs: int, timeout: float = 60.0) -> dict:
    """The set's newest run once `runs` runs exist and the newest is no longer running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = log_store.list_replays(set_id)
        if len(found) >= runs and found[0]["status"] != "running":
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"run {runs} of set {set_id} did not finish in {timeout} s")


def test_build_a_set_add_a_regex_grader_run_two_versions_and_read_the_pivot(app, upstream, log_store):
    page = app
    name = f"Cities {uuid.uuid4().hex[:6]}"
    bot = f"Eval bot {uuid.uuid4().hex[:6]}"
    assistant = log_store.create_assistant()
    v1, _ = log_store.save_version(assistant.id, AssistantConfig(name=bot, variables=[Variable("city", "")]))
    v2, _ = log_store.save_version(assistant.id, AssistantConfig(name=bot))

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Test sets").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Test sets")).to_be_visible()

    # A new set from a CSV file.
    name_box = page.get_by_label("Name", exact=True)
    if not name_box.is_visible():
        page.get_by_text("New test set", exact=True).click()
    commit(page, name_box, name)
    page.get_by_text("From a file", exact=True).click()
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        [{"name": "cities.csv", "mimeType": "text/csv", "buffer": CASES.encode()}]
    )
    wait_for_app(page)
    page.get_by_role("button", name="Save test set").click()
    wait_for_app(page)
    saved = log_store.find_test_set(name)
    assert saved is not None and log_store.count_cases(saved["id"]) == 2
    expect(page.get_by_role("combobox", name="Test set", exact=True)).to_have_value(name)

    # A regex grader: the quick-add template, its pattern edited, saved.
    page.get_by_role("button", name="Regex on the output").click()
    wait_for_app(page)
    criteria = page.get_by_label("Testing criteria (JSON)")
    expect(criteria).to_contain_text('"type": "regex"')
    template = json.loads(criteria.input_value())
    template[0]["pattern"] = "Paris"
    commit(page, criteria, json.dumps(template, indent=2))
    page.get_by_role("button", name="Save graders").click()
    wait_for_app(page)
    expect(page.get_by_text("Graders saved: 1 grader.")).to_be_visible()
    assert json.loads(log_store.get_test_set(saved["id"])["graders"])[0]["pattern"] == "Paris"

    # Run it on v1, then on v2.
    pick(page, "Assistant", bot)
    for n, version in enumerate((v1, v2), start=1):
        pick(page, "Version", f"v{version.number} · {version.config.model}")
        expect(page.get_by_text("Estimate: 2 cases")).to_be_visible()
        page.get_by_role("button", name="Start").click()
        run = run_finished(log_store, saved["id"], n)
        assert run["status"] == "completed"
        # The page's progress polls the run and redraws the page once it ends.
        expect(page.get_by_test_id("stProgress")).to_have_count(0)
        wait_for_app(page)

    # The pivot: two rows, v1 passing both cases, v2 one of two.
    expect(page.get_by_role("heading", name="Across versions")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Pivot as CSV").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert [(r["version"], r["pass rate"], r["regex pass rate"]) for r in rows] == [
        ("1", "1", "1"),
        ("2", "0.5", "0.5"),
    ]
    # The table as drawn: its grid keeps each cell's value in the page for assistive technology.
    pivot = page.get_by_test_id("stDataFrame").last
    rows_drawn = pivot.locator("table tr")
    expect(rows_drawn).to_have_count(3)  # the header and two runs
    header = [t.strip() for t in rows_drawn.first.locator("th").all_text_contents()]
    cells = [[t.strip() for t in row.locator("td").all_text_contents()] for row in rows_drawn.all()[1:]]
    shown = [dict(zip(header, row, strict=False)) for row in cells]
    assert [(r["label"].split(" · ")[-1], r["pass rate"], r["regex pass rate"]) for r in shown] == [
        (f"{bot} v1", "1", "1"),
        (f"{bot} v2", "0.5", "0.5"),
    ]
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert upstream.violations == []
