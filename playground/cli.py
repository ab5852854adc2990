"""The command line: evaluate an assistant on a test set from CI, on the same log and code as the app.

    python -m playground eval run (--assistant NAME [--version N] | --assistant-file VERSION.json)
        (--test-set NAME | --cases CASES.jsonl|.csv) [--graders GRADERS.json]
        [--baseline N] [--min-pass 0.9] [--concurrency 4] [--json] [--db PATH] [--secrets PATH]
    python -m playground eval import CASES.jsonl|.csv --test-set NAME [--graders GRADERS.json] [--db PATH]

Exit codes of `eval run`: 0 the pass rate is at least --min-pass; 1 it is below; 2 a usage or input
error (an unknown test set, assistant or version, an unreadable file, bad graders, cases missing a
declared variable, no API key), found before any turn runs; 3 the run could not grade every case
(upstream failures left cases ungraded, or the run stopped short). Anything but 0 comes with one
sentence on stderr, never a traceback. 3 wins over 0 and 1: a pass rate with ungraded cases in it
says nothing about the version. `eval import` exits 0 or 2.

Where things come from, as in the app:
- The key: `OPENAI_API_KEY` in the secrets file given with --secrets (a Streamlit secrets.toml), else
  the environment's `OPENAI_API_KEY`. The server: `$OPENAI_BASE_URL`, else the secrets file's
  `OPENAI_BASE_URL`, else OpenAI. The key is never printed (errors are redacted).
- The log: --db, else `$PLAYGROUND_DB`, else the app's default path (settings.db_path()). The rows
  are the deployment's (owner "local"), as for a key from the environment in the app.
- The version: --assistant NAME picks the assistant of that name (an archived one only when no other
  has it) and --version N its version N, by default its newest saved version; the draft is never saved
  or run from here (it is someone's unsaved work in the app).
- --assistant-file takes the version file the Versions page exports. Its `assistant_id` and `version`
  belong to the log it came from and are not used. If a version in this log has exactly that config,
  that version runs (a file at the same commit, or reverted, reuses its version). Otherwise, if an
  assistant has the config's name and no unsaved edits in its draft, the config becomes its next
  version (so a file kept in git becomes v1, v2, v3 … of one assistant, and --baseline N names one of
  them); otherwise a new assistant is made with it as v1.
- --cases FILE imports the file into a test set named after the file (its name, e.g. `smoke.jsonl`).
  If the newest set of that name holds exactly these cases, it is reused (its earlier runs stay
  comparable); otherwise a new set of that name is made (the newest one is the one found by name).
- --graders sets the test set's graders (OpenAI testing_criteria: a list, or an object with a
  `testing_criteria` list); without it the set's own graders run. A set without graders is refused.
- --baseline N: version N of the same assistant on the same test set. The newest completed run of it
  there with the same graders and a result for every current case is reused; otherwise it is run too.
  The comparison (pass rates side by side, the cases that regressed or were fixed) is printed; the
  exit code is this run's alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from playground import cases as cases_module
from playground import evaluation, export, graders, provider, results, settings, usage
from playground import version as versions
from playground.assistant import AssistantConfig
from playground.client import ApiKey, make_client, owner_for, redact, resolve_key
from playground.errors import LogError
from playground.store import Store, Version

OK, BELOW, USAGE, UNGRADED = 0, 1, 2, 3
PROGRESS_EVERY_S = 10.0  # how often a long run says how far it got, on stderr
CASE_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class Refused(Exception):
    """What stops the command, in one sentence, and the exit code it ends with."""

    def __init__(self, message: str, code: int = USAGE) -> None:
        super().__init__(message)
        self.code = code


def _refuse(message: str, code: int = USAGE) -> NoReturn:
    raise Refused(message, code)


# -- the arguments ----------------------------------------------------------------------------------


def _min_pass(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (0.9 means 90%)")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not 1 or more")
    return value


def _concurrency(text: str) -> int:
    value = _positive(text)
    if value > evaluation.MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(f"{text} is more than {evaluation.MAX_CONCURRENCY}")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m playground", description="Assistant Playground from the shell.")
    commands = top.add_subparsers(dest="command", required=True, metavar="eval")
    ev = commands.add_parser("eval", help="evaluate assistants on test sets", description="Evaluate assistants.")
    actions = ev.add_subparsers(dest="action", required=True, metavar="{run,import}")

    run = actions.add_parser(
        "run",
        help="run a test set on a version and gate on its pass rate",
        description="Run a test set on an assistant version, grade every case, and exit 0 when the pass rate "
        "(the share of cases whose every grader passed) is at least --min-pass, 1 below it, 2 on a usage or "
        "input error, 3 when upstream failures left cases ungraded.",
    )
    who = run.add_mutually_exclusive_group(required=True)
    who.add_argument("--assistant", metavar="NAME", help="an assistant in the log, by name")
    who.add_argument(
        "--assistant-file", metavar="VERSION.json", type=Path, help="a version file the Versions page exports"
    )
    run.add_argument("--version", metavar="N", type=_positive, help="the version of --assistant (default: its newest)")
    what = run.add_mutually_exclusive_group(required=True)
    what.add_argument("--test-set", metavar="NAME", help="a test set in the log, by name")
    what.add_argument("--cases", metavar="CASES", type=Path, help="a .jsonl or .csv file of cases")
    run.add_argument("--graders", metavar="GRADERS.json", type=Path, help="testing criteria for the test set")
    run.add_argument("--baseline", metavar="N", type=_positive, help="compare with version N of the same assistant")
    run.add_argument(
        "--min-pass", metavar="RATE", type=_min_pass, default=0.9, help="pass rate to exit 0 (default 0.9)"
    )
    run.add_argument(
        "--concurrency", metavar="N", type=_concurrency, default=evaluation.DEFAULT_CONCURRENCY,
        help=f"cases at once (default {evaluation.DEFAULT_CONCURRENCY})",
    )  # fmt: skip
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    _common(run, secrets=True)

    imp = actions.add_parser(
        "import", help="add cases (and graders) to a test set", description="Create a test set or append cases to it."
    )
    imp.add_argument("cases", metavar="CASES", type=Path, help="a .jsonl or .csv file of cases")
    imp.add_argument("--test-set", metavar="NAME", required=True, help="the test set (made when none has this name)")
    imp.add_argument("--graders", metavar="GRADERS.json", type=Path, help="testing criteria to set on the test set")
    _common(imp, secrets=False)
    return top


def _common(p: argparse.ArgumentParser, *, secrets: bool) -> None:
    p.add_argument("--db", metavar="PATH", type=Path, help="the log (default: $PLAYGROUND_DB or the app's)")
    if secrets:
        p.add_argument("--secrets", metavar="PATH", type=Path, help="a secrets.toml holding OPENAI_API_KEY")


# -- entry ------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns its exit code (argparse's own usage errors exit 2 by SystemExit)."""
    args = parser().parse_args(argv)
    if args.action == "run" and args.version is not None and args.assistant is None:
        _usage_error("--version goes with --assistant: a version file is one version already")
    secrets: tuple[str, ...] = ()
    job: _Run | None = None
    try:
        if args.action == "import":
            return _import(args)
        key, base_url = _connection(args.secrets)
        secrets = (key.value,)
        job = _Run(args, key, base_url)
        return job.main()
    except Refused as e:
        return _say(str(e), e.code, args, secrets)
    except KeyboardInterrupt:
        print("eval: interrupted.", file=sys.stderr)
        return 130
    except Exception as e:  # never a traceback: one sentence, the key taken out
        # Before any turn ran, the input or the log was at fault (2); after, the run could not finish (3).
        code = UNGRADED if job is not None and job.started else USAGE
        if isinstance(e, LogError):
            return _say(e.problem.message, code, args, secrets)
        what = f"{type(e).__name__}: {e}".rstrip(".")
        return _say(f"unexpected error: {what}.", code, args, secrets)


def _usage_error(message: str) -> NoReturn:
    print(f"python -m playground eval run: error: {message}.", file=sys.stderr)
    raise SystemExit(USAGE)


def _say(message: str, code: int, args: argparse.Namespace, secrets: tuple[str, ...]) -> int:
    message = redact(message, *secrets)
    print(f"eval: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"exit_code": code, "error": message}))
    return code


# -- reading files ----------------------------------------------------------------------------------


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        _refuse(f"The {what} file {path} does not exist.")
    except IsADirectoryError:
        _refuse(f"The {what} file {path} is a folder.")
    except UnicodeDecodeError:
        _refuse(f"The {what} file {path} is not UTF-8 text.")
    except OSError as e:
        _refuse(f"The {what} file {path} cannot be read ({e.strerror or e}).")


def _read_cases(path: Path) -> list[cases_module.Case]:
    kind = CASE_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        _refuse(f"The cases file {path} must end in .jsonl or .csv.")
    text = _read_text(path, "cases")
    try:
        found = list(cases_module.read_csv(text) if kind == "csv" else cases_module.read_jsonl(text))
    except cases_module.CasesError as e:
        _refuse(f"{path}: {e}")
    if not found:
        _refuse(f"The cases file {path} holds no cases.")
    return found


def _read_graders(path: Path) -> str:
    """The criteria's JSON text, as the test set keeps it (a list), once they are known to be good."""
    text = _read_text(path, "graders")
    try:
        parsed = evaluation.load_graders(text)
    except (graders.GraderError, ValueError) as e:
        _refuse(f"{path}: {str(e).rstrip('.')}.")
    if not parsed:
        _refuse(f"The graders file {path} holds no graders.")
    data = json.loads(text)
    criteria = data["testing_criteria"] if isinstance(data, dict) else data
    return json.dumps(criteria, ensure_ascii=False)


def _secrets_file(path: Path | None) -> Mapping[str, Any]:
    if path is None:
        return {}
    text = _read_text(path, "secrets")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        _refuse(f"The secrets file {path} is not valid TOML ({e}).")


def _connection(secrets_path: Path | None) -> tuple[ApiKey, str | None]:
    """The key and server as the app finds them: the secrets file, then the environment."""
    secrets = _secrets_file(secrets_path)
    key = resolve_key(None, secrets)
    if key is None:
        where = f" or in {secrets_path}" if secrets_path else " (or give --secrets with a secrets.toml)"
        _refuse(f"No API key: set OPENAI_API_KEY in the environment{where}.")
    base_url = settings.base_url()
    if base_url is None and isinstance(secrets.get("OPENAI_BASE_URL"), str):
        base_url = secrets["OPENAI_BASE_URL"].strip() or None
    return key, base_url


def _open_log(path: Path | None, owner: str) -> Store:
    store = Store(path or settings.db_path(), owner)
    if store.read_only:
        why = store.problem.message if store.problem else "it is open for reading only"
        _refuse(f"The log cannot be written: {why.rstrip('.')}.")
    return store


# -- test sets --------------------------------------------------------------------------------------


def _same_cases(stored: list[dict[str, Any]], found: list[cases_module.Case]) -> bool:
    def key(c: Mapping[str, Any]) -> tuple[Any, ...]:
        return (c["input"], c["expected"], dict(c["variables"]), list(c["tags"]))

    return len(stored) == len(found) and all(
        key(s) == key(vars(f)) for s, f in zip(stored, found, strict=True)
    )  # fmt: skip


def _as_rows(found: list[cases_module.Case]) -> list[dict[str, Any]]:
    return [{"input": c.input, "expected": c.expected, "variables": c.variables, "tags": c.tags} for c in found]


def _import(args: argparse.Namespace) -> int:
    found = _read_cases(args.cases)
    criteria = _read_graders(args.graders) if args.graders else None
    name = args.test_set.strip()
    if not name:
        _refuse("Give the test set a name.")
    store = _open_log(args.db, owner_for(None))
    existing = store.find_test_set(name)
    set_id = existing["id"] if existing else store.create_test_set(name, [])
    added = store.add_cases(set_id, _as_rows(found))
    if criteria is not None:
        store.set_graders(set_id, criteria)
    total = store.count_cases(set_id)
    test_set = store.get_test_set(set_id) or {}
    names = ", ".join(results.grader_names(test_set.get("graders"))) or "none yet"
    verb = "Added" if existing else "Made test set"
    print(f"{verb} {name!r}: {added} case{'s' if added != 1 else ''} imported, {total} in all; graders: {names}.")
    return OK


# -- a run ------------------------------------------------------------------------------------------


def _criteria(text: str | None) -> Any:
    try:
        data = json.loads(text or "[]")
    except ValueError:
        return None
    return data.get("testing_criteria") if isinstance(data, dict) else data


class _Run:
    def __init__(self, args: argparse.Namespace, key: ApiKey, base_url: str | None) -> None:
        self.args = args
        self.key = key
        self.base_url = base_url
        self.notes: list[str] = []  # what the command did besides running (made a set, saved a version)
        self.started = False  # whether a run was started (an error after that is exit 3, not 2)

    def backend(self) -> Any:
        """What runs each turn, as the app's connection builds it (built per use, never cached)."""
        return provider.runner(make_client(self.key, self.base_url), self.base_url, self.key.fingerprint)

    def main(self) -> int:
        args = self.args
        # Everything that can be wrong with the input is found before the log is written to.
        found = _read_cases(args.cases) if args.cases else None
        criteria = _read_graders(args.graders) if args.graders else None
        file_config = self._version_file(args.assistant_file) if args.assistant_file else None
        self.store = _open_log(args.db, owner_for(self.key))
        version = self._file_version(file_config) if file_config else self._named_version(args.assistant, args.version)
        set_id, set_name = self._test_set(found, criteria)
        test_set = self.store.get_test_set(set_id) or {}
        try:
            if not evaluation.load_graders(test_set.get("graders") or "[]"):
                _refuse(f"The test set {set_name!r} has no graders: give --graders GRADERS.json.")
        except (graders.GraderError, ValueError) as e:
            _refuse(f"The graders of test set {set_name!r} cannot be used: {str(e).rstrip('.')}.")
        set_cases = self.store.test_cases(set_id)
        if not set_cases:
            _refuse(f"The test set {set_name!r} has no cases.")
        self._check(version, set_cases)
        baseline = self._baseline_version(version) if args.baseline is not None else None
        if baseline is not None:
            self._check(baseline, set_cases)

        prices = usage.current_prices()
        run_id = self._evaluate(set_id, version, len(set_cases))
        base_id, reused = None, False
        if baseline is not None:
            base_id = self._reusable(set_id, baseline, test_set.get("graders"), set_cases)
            reused = base_id is not None
            if base_id is None:
                base_id = self._evaluate(set_id, baseline, len(set_cases))
        this = results.summary(self.store, run_id, prices)
        base = results.summary(self.store, base_id, prices) if base_id is not None else None
        flips = results.changes(results.case_rows(self.store, run_id, base_id, prices)) if base_id else None
        code, verdict = self._outcome(this)
        report = {
            "exit_code": code,
            "outcome": verdict,
            "min_pass": args.min_pass,
            "test_set": {"id": set_id, "name": set_name, "cases": len(set_cases)},
            "run": this,
            "baseline": base,
            "baseline_reused": reused if base is not None else None,
            "regressed": flips["regressed"] if flips else None,
            "fixed": flips["fixed"] if flips else None,
            "notes": self.notes,
        }
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=2))
        else:
            print(table(report))
        if code != OK:
            print(f"eval: {verdict}", file=sys.stderr)
        return code

    def _outcome(self, s: dict[str, Any]) -> tuple[int, str]:
        rate, need = s["pass_rate"], self.args.min_pass
        if s["ungraded"]:
            n = s["ungraded"]
            return UNGRADED, (
                f"{n} of {s['done']} cases {'were' if n != 1 else 'was'} left ungraded by upstream failures, so "
                f"the pass rate ({_pct(rate)}) does not say whether v{s['version']} is good enough."
            )
        if s["done"] < s["cases"]:
            missing = s["cases"] - s["done"]
            return UNGRADED, f"The run stopped with {missing} of {s['cases']} cases not run (run {s['run']})."
        if rate is not None and rate >= need:
            return OK, f"Pass rate {_pct(rate)} is at least --min-pass {_pct(need)}."
        return BELOW, f"Pass rate {_pct(rate)} is below --min-pass {_pct(need)}."

    # -- which version ----------------------------------------------------------------------------

    def _named_version(self, name: str, number: int | None) -> Version:
        matches = self._assistants_named(name)
        if not matches:
            _refuse(f"No assistant is named {name!r} in the log.")
        if len(matches) > 1:
            ids = ", ".join(f"#{a['id']}" for a in matches)
            _refuse(f"Several assistants are named {name!r} ({ids}); rename all but one in the app.")
        assistant_id = matches[0]["id"]
        if number is None:
            latest = self.store.latest_version(assistant_id)
            if latest is None:
                _refuse(f"The assistant {name!r} has no saved version yet: press Create in the Playground.")
            return latest
        for v in self.store.list_versions(assistant_id):
            if v.number == number:
                return v
        _refuse(f"The assistant {name!r} has no version {number}.")

    def _own_assistants(self) -> list[dict[str, Any]]:
        """The log owner's assistants: not one someone shared with everyone (a signed-in deployment's)."""
        return [a for a in self.store.list_assistants(include_archived=True) if a["owner"] == self.store.owner]

    def _assistants_named(self, name: str) -> list[dict[str, Any]]:
        every = self._own_assistants()
        named = [a for a in every if (a["name"] or "") == name and name]
        active = [a for a in named if a["archived_at"] is None]
        return active or named

    @staticmethod
    def _version_file(path: Path) -> AssistantConfig:
        text = _read_text(path, "assistant")
        try:
            config = export.version_from_json(text)
        except ValueError as e:
            _refuse(f"{path}: {str(e).rstrip('.')}.")
        problems = config.validate()
        if problems:
            _refuse(f"The assistant in {path} cannot run: {'; '.join(str(p) for p in problems).rstrip('.')}.")
        return config

    def _file_version(self, config: AssistantConfig) -> Version:
        """The log's version for a version file: one with exactly its config, else the next version of
        the assistant of that name (when its draft has no unsaved edits), else a new assistant's v1."""
        text = config.to_json()
        store = self.store
        same: list[Version] = []
        for a in self._own_assistants():
            same += [v for v in store.list_versions(a["id"]) if v.config.to_json() == text]
        if same:
            found = max(same, key=lambda v: v.id)
            self.notes.append(f"The version file is v{found.number} of {self._label(found)} in the log.")
            return found
        for a in self._assistants_named(config.name):
            if store.latest_version(a["id"]) is not None and versions.unsaved_draft(store, a["id"]) is None:
                saved, _ = store.save_version(a["id"], config, note=f"from {self.args.assistant_file.name} (eval run)")
                self.notes.append(f"Saved the version file as v{saved.number} of {self._label(saved)}.")
                return saved
        _, made = store.create_assistant_from(config, note=f"from {self.args.assistant_file.name} (eval run)")
        assert made is not None  # the config validated above
        self.notes.append(f"Made the assistant {self._label(made)} from the version file (v1).")
        return made

    def _label(self, v: Version) -> str:
        a = self.store.get_assistant(v.assistant_id)
        return repr(a.name) if a and a.name else f"#{v.assistant_id}"

    def _baseline_version(self, version: Version) -> Version:
        for v in self.store.list_versions(version.assistant_id):
            if v.number == self.args.baseline:
                return v
        _refuse(f"The baseline: {self._label(version)} has no version {self.args.baseline}.")

    # -- which test set ---------------------------------------------------------------------------

    def _test_set(self, found: list[cases_module.Case] | None, criteria: str | None) -> tuple[int, str]:
        store = self.store
        if found is None:
            name = self.args.test_set
            row = store.find_test_set(name)
            if row is None:
                _refuse(f"No test set is named {name!r} in the log.")
            set_id = row["id"]
        else:
            name = self.args.cases.name
            row = store.find_test_set(name)
            if row is not None and _same_cases(store.test_cases(row["id"]), found):
                set_id = row["id"]
                self.notes.append(f"Reused test set {name!r} (#{set_id}): it holds exactly these cases.")
            else:
                set_id = store.create_test_set(name, [], cases=_as_rows(found))
                why = " (the cases changed)" if row is not None else ""
                self.notes.append(f"Made test set {name!r} (#{set_id}) from {self.args.cases}{why}.")
        if criteria is not None and _criteria(criteria) != _criteria((store.get_test_set(set_id) or {}).get("graders")):
            store.set_graders(set_id, criteria)
            self.notes.append(f"Set the graders of test set {name!r} from {self.args.graders}.")
        return set_id, name

    def _check(self, version: Version, set_cases: list[dict[str, Any]]) -> None:
        problems = evaluation.check_cases(version, set_cases)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            _refuse(f"v{version.number} cannot run this test set: {problems[0].rstrip('.')}{more}.")

    def _reusable(
        self, set_id: int, baseline: Version, criteria: str | None, set_cases: list[dict[str, Any]]
    ) -> int | None:
        """The newest completed run of `baseline` on this set with these graders and a result for every
        current case, if there is one."""
        wanted = _criteria(criteria)
        ids = {c["id"] for c in set_cases}
        for r in self.store.list_replays(set_id):  # newest first
            if r["version_id"] != baseline.id or r["status"] != "completed" or _criteria(r["graders"]) != wanted:
                continue
            if ids <= self.store.replay_done_cases(r["id"]):
                self.notes.append(f"Reused run {r['id']} of v{baseline.number} as the baseline.")
                return int(r["id"])
        return None

    # -- running ----------------------------------------------------------------------------------

    def _evaluate(self, set_id: int, version: Version, total: int) -> int:
        self.started = True
        ev = evaluation.start(
            self.store, self.backend, set_id, version, concurrency=self.args.concurrency, secrets=(self.key.value,)
        )
        with _stopping(ev):
            last = time.monotonic()
            while not ev.wait(1.0):
                if time.monotonic() - last >= PROGRESS_EVERY_S:
                    last = time.monotonic()
                    p = ev.progress()
                    left = f", about {p.eta_s:.0f} s left" if p.eta_s is not None else ""
                    print(
                        f"eval: v{version.number}: {p.done} of {p.total} cases, {p.passed} passed, {p.failed} failed, "
                        f"{p.ungraded} ungraded{left}",
                        file=sys.stderr,
                        flush=True,
                    )
        if ev.error:
            _refuse(f"The run of v{version.number} failed: {ev.error.rstrip('.')}.", UNGRADED)
        return ev.replay_id


@contextmanager
def _stopping(ev: Any) -> Iterator[None]:
    """Ctrl+C stops the run (finished cases are kept; the Test sets page can resume it)."""
    try:
        yield
    except KeyboardInterrupt:
        ev.stop()
        ev.wait(30.0)
        print(f"eval: stopped run {ev.replay_id}; resume it from the Test sets page.", file=sys.stderr)
        raise


# -- printing ---------------------------------------------------------------------------------------


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.1%}"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _ms(value: float | None) -> str:
    return "—" if value is None else usage.duration(value)


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
            .rstrip() for r in rows]  # fmt: skip


def table(report: dict[str, Any]) -> str:
    """The report as text: a line on what ran, one row per grader (with the baseline beside), the pass
    rate, tokens, cost and latency. Grader names are the criteria's; no model output is printed."""
    s, b = report["run"], report["baseline"]
    lines = list(report["notes"])
    lines.append(
        f"Test set {report['test_set']['name']!r}: {s['assistant'] or 'assistant'} v{s['version']} ({s['model']}), "
        f"run {s['run']}, {s['done']} of {s['cases']} cases"
    )
    head = ["grader", "pass rate", "mean score", "errors"]
    base_by_name = {g["name"]: g for g in b["graders"]} if b else {}
    if b:
        head += [f"v{b['version']} pass rate", f"v{b['version']} mean score"]
    rows = [head]
    for g in s["graders"]:
        row = [g["name"], _pct(g["pass_rate"]), _score(g["mean_score"]), str(g["errors"])]
        if b:
            bg = base_by_name.get(g["name"])
            row += [_pct(bg["pass_rate"]), _score(bg["mean_score"])] if bg else ["—", "—"]
        rows.append(row)
    every = ["all graders", _pct(s["pass_rate"]), "", ""]
    if b:
        every += [_pct(b["pass_rate"]), ""]
    rows.append(every)
    lines += _grid(rows)
    lines.append(f"{s['passed']} passed, {s['failed']} failed, {s['ungraded']} ungraded (ungraded count as not passed)")
    tokens = f"{s['input_tokens']:,} in / {s['output_tokens']:,} out"
    if s["usage_unknown"]:
        tokens += f" + {s['usage_unknown']} unknown"
    cost = usage.money(s["cost"]) if s["cost"] is not None else ("unknown" if s["usage_unknown"] else "no price")
    lines.append(
        f"tokens {tokens} · cost {cost} · latency p50 {_ms(s['p50_latency_ms'])}, p90 {_ms(s['p90_latency_ms'])}"
    )
    if b:
        how = "reused" if report["baseline_reused"] else "run now"
        lines.append(f"baseline: v{b['version']}, run {b['run']} ({how}): pass rate {_pct(b['pass_rate'])}")
        for word in ("regressed", "fixed"):
            cases = report[word]
            lines.append(f"{word}: " + (", ".join(f"#{n}" for n in cases) if cases else "none"))
    mark = {OK: "PASS", BELOW: "FAIL", UNGRADED: "UNGRADED"}[report["exit_code"]]
    lines.append(f"{mark}: {report['outcome']}")
    return "\n".join(lines)
