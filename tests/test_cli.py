"""The command line (`python -m playground eval …`) against the local OpenAI server: exit codes, the
JSON report, importing cases, a version file, and a baseline reused from the log.

The local server answers "Echo: <input>" unless scripted, so a case expecting that passes `exact`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground import cli, export, results
from playground.assistant import AssistantConfig, Variable
from playground.store import Store
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[1]
GRADERS = [
    {"type": "string_check", "name": "exact", "input": "{{sample.output_text}}", "reference": "{{item.expected}}",
     "operation": "eq"},
    {"type": "contains", "name": "echoes", "value": "Echo"},
]  # fmt: skip
CASES = [
    {"input": "hello", "expected": "Echo: hello"},
    {"input": "bonjour", "expected": "Echo: bonjour"},
    {"input": "hola", "expected": "Echo: hola"},
]


@pytest.fixture
def env(upstream, monkeypatch, tmp_path):
    """The CLI's environment as CI gives it: the server and key in env vars, a log of its own."""
    monkeypatch.setenv("OPENAI_BASE_URL", upstream.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    db = tmp_path / "log.db"
    monkeypatch.setenv("PLAYGROUND_DB", str(db))
    monkeypatch.chdir(tmp_path)
    return db


@pytest.fixture
def echo(env):
    """An assistant "Echo" with two versions in the log."""
    store = Store(env)
    a = store.create_assistant()
    store.save_version(a.id, AssistantConfig(name="Echo", instructions="one"))
    store.save_version(a.id, AssistantConfig(name="Echo", instructions="two"))
    return store


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    graders = tmp_path / "graders.json"
    graders.write_text(json.dumps({"testing_criteria": GRADERS}), encoding="utf-8")
    return {"cases": _write(tmp_path / "smoke.jsonl", CASES), "graders": graders}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and TEST_KEY not in out + err
    return code, out, err


def turns(upstream) -> list[dict]:
    return [r for r in upstream.requests if r["method"] == "POST" and r["path"].endswith("/responses")]


def test_exit_0_when_every_case_passes_with_a_table_per_grader(echo, files, upstream, capsys):
    code, out, err = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]),
                         "--graders", str(files["graders"]))  # fmt: skip
    assert code == 0 and err == ""
    assert "exact" in out and "echoes" in out and "100.0%" in out and "PASS" in out
    assert len(turns(upstream)) == 3
    assert {r["body"]["instructions"] for r in turns(upstream)} == {"two"}  # the newest version by default
    test_set = echo.find_test_set("smoke.jsonl")
    assert test_set is not None and echo.count_cases(test_set["id"]) == 3
    [made] = echo.list_replays(test_set["id"])
    assert (made["version"], made["status"], made["concurrency"]) == (2, "completed", 4)


def test_exit_1_below_min_pass_with_one_sentence(echo, files, tmp_path, upstream, capsys):
    cases = _write(tmp_path / "wrong.jsonl", [*CASES, {"input": "ciao", "expected": "Hello"}])
    argv = ["eval", "run", "--assistant", "Echo", "--version", "1", "--cases", str(cases),
            "--graders", str(files["graders"])]  # fmt: skip
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.strip().count("\n") == 0 and "75.0% is below --min-pass 90.0%" in err
    assert "FAIL" in out
    code, _, _ = run(capsys, *argv, "--min-pass", "0.75")  # the same cases, a bar it meets
    assert code == 0


def test_the_json_report(echo, files, capsys):
    code, out, _ = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]),
                       "--graders", str(files["graders"]), "--json", "--concurrency", "2")  # fmt: skip
    report = json.loads(out)
    assert code == 0 and report["exit_code"] == 0
    assert set(report) == {"exit_code", "outcome", "min_pass", "test_set", "run", "baseline", "baseline_reused",
                           "regressed", "fixed", "notes"}  # fmt: skip
    assert report["test_set"] == {"id": report["run"]["set_id"], "name": "smoke.jsonl", "cases": 3}
    s = report["run"]
    assert (s["cases"], s["done"], s["passed"], s["failed"], s["ungraded"], s["pass_rate"]) == (3, 3, 3, 0, 0, 1.0)
    assert [(g["name"], g["pass_rate"], g["mean_score"], g["errors"]) for g in s["graders"]] == [
        ("exact", 1.0, 1.0, 0), ("echoes", 1.0, 1.0, 0)
    ]  # fmt: skip
    assert s["input_tokens"] > 0 and s["p50_latency_ms"] is not None and s["version"] == 2
    assert report["baseline"] is None and report["min_pass"] == 0.9
    assert s == results.summary(Store(Path(os.environ["PLAYGROUND_DB"])), s["run"]) | {"cost": s["cost"]}


def test_exit_3_when_upstream_failures_leave_cases_ungraded(echo, files, upstream, capsys):
    upstream.script({"status": 400, "error": {"message": "The model refused the request.", "param": "input"}})
    code, out, err = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]),
                         "--graders", str(files["graders"]), "--concurrency", "1", "--json")  # fmt: skip
    assert code == 3
    assert "1 of 3 cases was left ungraded by upstream failures" in err and err.strip().count("\n") == 0
    report = json.loads(out)
    assert report["exit_code"] == 3 and report["run"]["ungraded"] == 1 and report["run"]["passed"] == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--assistant", "Nobody", "--test-set", "x"], "No assistant is named 'Nobody'"),
        (["--assistant", "Echo", "--test-set", "missing"], "No test set is named 'missing'"),
        (["--assistant", "Echo", "--version", "9", "--test-set", "x"], "has no version 9"),
        (["--assistant", "Echo", "--cases", "nowhere.jsonl"], "nowhere.jsonl does not exist"),
        (["--assistant", "Echo", "--cases", "{cases}", "--graders", "{bad_json}"], "graders are not valid JSON"),
        (["--assistant", "Echo", "--cases", "{cases}", "--graders", "{bad_grader}"], "testing_criteria[0]"),
        (["--assistant", "Echo", "--cases", "{broken_cases}"], "Line 2"),
        (["--assistant", "Echo", "--cases", "{cases}"], "has no graders"),
        (["--assistant", "Echo", "--cases", "{cases}", "--baseline", "7", "--graders", "{graders}"], "no version 7"),
        (["--assistant-file", "{cases}", "--test-set", "x"], "not valid JSON"),
    ],
)
def test_exit_2_on_usage_and_input_errors_before_any_turn(echo, files, tmp_path, upstream, capsys, argv, says):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[{", encoding="utf-8")
    bad_grader = tmp_path / "bad_grader.json"
    bad_grader.write_text(json.dumps([{"type": "regex", "pattern": "("}]), encoding="utf-8")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"input": "a"}\n{"expected": "no input"}\n', encoding="utf-8")
    names = {"cases": files["cases"], "graders": files["graders"], "bad_json": bad_json, "bad_grader": bad_grader,
             "broken_cases": broken}  # fmt: skip
    code, out, err = run(capsys, "eval", "run", *(a.format(**names) for a in argv))
    assert code == 2, err
    assert says in err and err.startswith("eval: ") and err.strip().count("\n") == 0
    assert out == "" and turns(upstream) == []


def test_exit_2_when_a_case_lacks_a_declared_variable(env, files, tmp_path, upstream, capsys):
    store = Store(env)
    a = store.create_assistant()
    config = AssistantConfig(name="Tone", instructions="Answer in a {{tone}} tone.", variables=[Variable("tone", "x")])
    store.save_version(a.id, config)
    cases = _write(tmp_path / "tones.jsonl", [{"input": "a", "tone": "dry"}, {"input": "b"}])
    code, _, err = run(capsys, "eval", "run", "--assistant", "Tone", "--cases", str(cases), "--graders",
                       str(files["graders"]), "--json")  # fmt: skip
    assert code == 2 and "Case 2 lacks the declared variable tone" in err and turns(upstream) == []


def test_exit_2_without_a_key_and_the_key_from_a_secrets_file(echo, files, tmp_path, monkeypatch, upstream, capsys):
    monkeypatch.delenv("OPENAI_API_KEY")
    argv = ["eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]), "--graders", str(files["graders"])]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "No API key" in err
    bad = tmp_path / "bad.toml"
    bad.write_text("OPENAI_API_KEY = ", encoding="utf-8")
    assert run(capsys, *argv, "--secrets", str(bad))[0] == 2
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'OPENAI_API_KEY = "{TEST_KEY}"\n', encoding="utf-8")
    code, _, _ = run(capsys, *argv, "--secrets", str(secrets))
    assert code == 0
    assert {r["headers"]["authorization"] for r in turns(upstream)} == {f"Bearer {TEST_KEY}"}


def test_argparse_refuses_a_bad_command_line_with_2(echo, capsys):
    for argv in (
        ["eval", "run", "--test-set", "x"],  # no assistant
        ["eval", "run", "--assistant", "Echo", "--test-set", "x", "--cases", "c.jsonl"],  # both
        ["eval", "run", "--assistant", "Echo", "--test-set", "x", "--min-pass", "90"],
        ["eval", "run", "--assistant-file", "v.json", "--version", "2", "--test-set", "x"],
        ["eval", "run", "--assistant", "Echo", "--test-set", "x", "--concurrency", "0"],
    ):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_import_csv_creates_then_appends_and_sets_graders(env, files, tmp_path, capsys):
    cases = tmp_path / "cases.csv"
    cases.write_text("input,expected,tone,tags\nhello,Echo: hello,dry,a;b\n'=1+1,,warm,\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "eval", "import", str(cases), "--test-set", "Greetings", "--graders", str(files["graders"])
    )
    assert code == 0 and "2 cases imported, 2 in all; graders: exact, echoes" in out
    store = Store(env)
    test_set = store.find_test_set("Greetings")
    [first, second] = store.test_cases(test_set["id"])
    assert (first["input"], first["expected"], first["variables"], first["tags"]) == (
        "hello", "Echo: hello", {"tone": "dry"}, ["a", "b"]
    )  # fmt: skip
    assert (second["input"], second["expected"]) == ("=1+1", None)  # the neutralising apostrophe taken off
    assert json.loads(test_set["graders"]) == GRADERS
    code, out, _ = run(capsys, "eval", "import", str(cases), "--test-set", "Greetings")
    assert code == 0 and "4 in all" in out and store.count_cases(test_set["id"]) == 4
    assert len(store.list_test_sets()) == 1


def test_import_jsonl_with_evals_item_rows(env, tmp_path, capsys):
    rows = [{"item": {"input": "2+2", "expected": "4", "unit": "none"}, "sample": {"output_text": "4"}},
            {"input": "3+3", "expected": 6}]  # fmt: skip
    code, _, _ = run(capsys, "eval", "import", str(_write(tmp_path / "evals.jsonl", rows)), "--test-set", "Sums")
    assert code == 0
    store = Store(env)
    cases = store.test_cases(store.find_test_set("Sums")["id"])
    assert [(c["input"], c["expected"], c["variables"]) for c in cases] == [
        ("2+2", "4", {"unit": "none"}), ("3+3", "6", {})
    ]  # fmt: skip


def test_import_refuses_bad_files_with_2_and_writes_nothing(env, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "ok"}\nnot json\n', encoding="utf-8")
    code, _, err = run(capsys, "eval", "import", str(bad), "--test-set", "S")
    assert code == 2 and "Line 2 is not valid JSON" in err
    text = tmp_path / "cases.txt"
    text.write_text("input\nhi\n", encoding="utf-8")
    assert run(capsys, "eval", "import", str(text), "--test-set", "S")[0] == 2
    assert Store(env).list_test_sets() == []


def test_the_same_cases_file_reuses_its_set_and_a_changed_one_makes_a_new_one(echo, files, tmp_path, capsys):
    argv = ["eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]), "--graders", str(files["graders"])]
    assert run(capsys, *argv)[0] == 0
    first = echo.find_test_set("smoke.jsonl")["id"]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "Reused test set 'smoke.jsonl'" in out
    assert echo.find_test_set("smoke.jsonl")["id"] == first and len(echo.list_replays(first)) == 2
    _write(files["cases"], [*CASES, {"input": "hallo", "expected": "Echo: hallo"}])
    assert run(capsys, *argv)[0] == 0
    assert echo.find_test_set("smoke.jsonl")["id"] != first


def test_baseline_reuses_a_stored_run_and_prints_the_comparison(echo, files, tmp_path, upstream, capsys):
    graded = ["--graders", str(files["graders"])]
    code, _, _ = run(capsys, "eval", "run", "--assistant", "Echo", "--version", "1",
                     "--cases", str(files["cases"]), *graded)  # fmt: skip
    assert code == 0 and len(turns(upstream)) == 3
    upstream.reset()
    upstream.script({"text": "Echo: hello"}, {"text": "wrong"}, {"text": "Echo: hola"})
    code, out, err = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]), *graded,
                         "--baseline", "1", "--concurrency", "1", "--json")  # fmt: skip
    assert code == 1 and "is below --min-pass" in err
    assert len(turns(upstream)) == 3  # v2 only: the baseline's run was read from the log
    assert {r["body"]["instructions"] for r in turns(upstream)} == {"two"}
    report = json.loads(out)
    assert report["baseline_reused"] is True and report["baseline"]["version"] == 1
    assert report["baseline"]["pass_rate"] == 1.0 and report["run"]["pass_rate"] == pytest.approx(2 / 3)
    assert report["regressed"] == [2] and report["fixed"] == []
    code, out, _ = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]), *graded,
                       "--baseline", "1")  # fmt: skip
    assert "v1 pass rate" in out and "baseline: v1" in out and "(reused)" in out and "regressed: none" in out


def test_baseline_without_a_stored_run_is_run_too(echo, files, upstream, capsys):
    code, out, _ = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]),
                       "--graders", str(files["graders"]), "--baseline", "1", "--json")  # fmt: skip
    report = json.loads(out)
    assert code == 0 and report["baseline_reused"] is False and report["baseline"]["version"] == 1
    assert sorted(r["body"]["instructions"] for r in turns(upstream)) == ["one"] * 3 + ["two"] * 3


def test_assistant_file_makes_an_assistant_then_reuses_and_versions_it(env, files, tmp_path, upstream, capsys):
    elsewhere = Store(tmp_path / "theirs.db")  # the log the file was exported from
    a = elsewhere.create_assistant()
    v, _ = elsewhere.save_version(a.id, AssistantConfig(name="Filed", instructions="from git"))
    version_file = tmp_path / "assistant.json"
    version_file.write_text(export.version_json(v), encoding="utf-8")
    argv = ["eval", "run", "--assistant-file", str(version_file), "--cases", str(files["cases"]),
            "--graders", str(files["graders"])]  # fmt: skip
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "Made the assistant 'Filed' from the version file (v1)" in out
    store = Store(env)
    [made] = store.list_assistants()
    assert made["name"] == "Filed" and made["versions"] == 1
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "The version file is v1 of 'Filed'" in out
    assert len(store.list_assistants()) == 1 and store.list_assistants()[0]["versions"] == 1

    changed, _ = elsewhere.save_version(a.id, AssistantConfig(name="Filed", instructions="from git, edited"))
    version_file.write_text(export.version_json(changed), encoding="utf-8")
    upstream.reset()
    code, out, _ = run(capsys, *argv, "--baseline", "1", "--json")
    report = json.loads(out)
    assert code == 0 and "Saved the version file as v2 of 'Filed'." in report["notes"]
    assert report["run"]["version"] == 2 and report["baseline_reused"] is True
    assert {r["body"]["instructions"] for r in turns(upstream)} == {"from git, edited"}
    assert len(turns(upstream)) == 3


def test_a_version_file_beside_unsaved_edits_makes_a_new_assistant(env, files, tmp_path, capsys):
    store = Store(env)
    mine = store.create_assistant()
    store.save_version(mine.id, AssistantConfig(name="Filed", instructions="mine"))
    store.save_draft(mine.id, AssistantConfig(name="Filed", instructions="mine, being edited"))
    elsewhere = Store(tmp_path / "theirs.db")
    v, _ = elsewhere.save_version(elsewhere.create_assistant().id, AssistantConfig(name="Filed", instructions="git"))
    version_file = tmp_path / "assistant.json"
    version_file.write_text(export.version_json(v), encoding="utf-8")
    code, _, _ = run(capsys, "eval", "run", "--assistant-file", str(version_file), "--cases", str(files["cases"]),
                     "--graders", str(files["graders"]))  # fmt: skip
    assert code == 0
    assert store.get_draft(mine.id)[0].instructions == "mine, being edited"  # their work untouched
    assert store.list_versions(mine.id)[0].number == 1 and len(store.list_assistants()) == 2


def test_python_dash_m_playground_in_a_subprocess(echo, files, upstream, env):
    environment = {**os.environ, "OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": TEST_KEY,
                   "PLAYGROUND_DB": str(env), "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "playground", "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]),
         "--graders", str(files["graders"]), "--min-pass", "0.9", "--json"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["run"]["pass_rate"] == 1.0 and len(turns(upstream)) == 3
    assert TEST_KEY not in done.stdout + done.stderr
    failed = subprocess.run(
        [sys.executable, "-m", "playground", "eval", "run", "--assistant", "Nobody", "--test-set", "x"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (
        failed.returncode == 2 and failed.stderr.startswith("eval: No assistant") and "Traceback" not in failed.stderr
    )


def test_a_named_set_runs_with_its_own_graders_or_new_ones(echo, files, capsys):
    assert run(capsys, "eval", "import", str(files["cases"]), "--test-set", "Named")[0] == 0
    code, _, err = run(capsys, "eval", "run", "--assistant", "Echo", "--test-set", "Named")
    assert code == 2 and "The test set 'Named' has no graders: give --graders GRADERS.json." in err
    argv = ["eval", "run", "--assistant", "Echo", "--test-set", "Named", "--graders", str(files["graders"])]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "Set the graders of test set 'Named'" in out
    code, out, _ = run(capsys, "eval", "run", "--assistant", "Echo", "--test-set", "Named")
    assert code == 0 and "Set the graders" not in out  # kept on the set


def test_a_run_that_fails_on_its_own_exits_3_without_the_key(echo, files, monkeypatch, upstream, capsys):
    def broken(self):
        raise RuntimeError(f"cannot build a client for {TEST_KEY}")

    monkeypatch.setattr(cli._Run, "backend", broken)
    code, out, err = run(capsys, "eval", "run", "--assistant", "Echo", "--cases", str(files["cases"]),
                         "--graders", str(files["graders"]))  # fmt: skip
    assert code == 3 and err.startswith("eval: The run of v2 failed") and err.strip().count("\n") == 0 and out == ""
    assert turns(upstream) == []
