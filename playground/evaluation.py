"""Evaluation runs: a test set on a saved version, cases in parallel, each graded, kept across Stop and restarts.

How a run works:

- `start` checks all it can before anything is sent: the set is this owner's, every case gives the
  version's declared variables, the set's graders parse, the concurrency is 1–32. Then it logs the run
  (`store.start_replay`, with the graders as the set holds them and the concurrency) and hands the work
  to daemon threads of this process, returning an `Evaluation` at once. The caller (a Streamlit script
  run, the command line) only reads `progress()`: leaving the page does not stop the run.
- The work is cut into units: one case for a `separate` set; one source conversation's cases, in
  order on one thread, for a `conversation` set. `concurrency` workers take units from a queue, so
  that many cases (or conversations) are in flight at once.
- Each case is an ordinary logged turn (`turn.start`) on a thread of kind "eval", titled after the run
  and the case (or conversation), which is how a resumed run finds it again. Once the turn settles,
  the graders run on its output when the model answered (completed, or stopped at function calls);
  any other ending is an ungraded result holding the problem's sentence. Each case gets one result
  (`add_replay_result` writes a case once per run).
- A 429 that outlived the SDK's own retries pauses every worker (1 s, doubling up to 30 s while 429s
  keep coming), then the case is sent again on its thread with `turn.retry`, reusing its message;
  after 5 attempts it is an ungraded result.
- While it works, the run's heartbeat (`beat_replay`) is renewed every third of a lease, so a run
  whose process died reads `interrupted` in the log. It ends `completed` (every case has a result),
  `stopped` (`stop()`: no new cases; turns in flight are cancelled and logged as such, not as results)
  or `failed` (an unexpected error: `error` says it in one sentence).
- `resume` continues a stopped, failed or interrupted run with the cases that have no result yet; a
  turn a stop or a crash cut short is sent again in place (`turn.retry`), so no message is doubled.

Runs live in this process (`find`), registered by replay id until they finish; another process sees
them through the log. `find` does not check the owner: read the run through the owner's `Store` first.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import statistics
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from playground import graders, settings, turn, usage
from playground.assistant import fill
from playground.backend import Backend
from playground.cases import Case, missing_variables
from playground.client import redact
from playground.errors import say
from playground.store import Run, Store, Thread, Version

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 32
# 429s: attempts per case, and the pause all workers take after one (doubling while they keep coming).
MAX_ATTEMPTS = 5
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 30.0
# How long `stop` waits for the cancelled turns to be logged, so the page that asked draws them ended.
STOP_WAIT_S = 3.0
# The estimate: characters per token, and the reply a case without an expected output is guessed at.
CHARS_PER_TOKEN = 4
OUTPUT_GUESS_TOKENS = 150
# A refusal lists this many cases, then how many more: an import of thousands must not print them all.
LISTED_PROBLEMS = 10
# Turn endings whose output is graded: the model answered (perhaps with function calls, which an
# evaluation does not answer). Anything else is an upstream failure, ungraded.
ANSWERED = ("completed", "requires_action")
STATUSES = ("running", "completed", "stopped", "failed")


# -- before a run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """What a run should use, from characters (4 to a token): a guess to decide by, not a bill."""

    cases: int
    input_tokens: int
    output_tokens: int
    cost: float | None  # USD; None when the model has no price


def estimate(version: Version, cases: list[dict], prices: dict | None = None, *, mode: str = "separate") -> Estimate:
    """The tokens and cost of running `cases` on `version`: per case its instructions, tools and
    input as sent (variables filled), and its expected output's length as the reply (else a guess,
    no more than the version's max output tokens). In `conversation` mode each case also resends its
    conversation's earlier turns."""
    config = version.config
    tools = len(json.dumps(config.to_dict()["functions"])) if config.functions else 0
    guess = min(OUTPUT_GUESS_TOKENS, config.max_output_tokens or OUTPUT_GUESS_TOKENS)
    input_chars = 0
    output_tokens = 0
    history: dict[Any, int] = {}  # characters of the turns so far, per conversation
    for case in cases:
        values = config.values(case.get("variables") or {})
        text = fill(str(case.get("input") or ""), values)
        expected = case.get("expected")
        reply = math.ceil(len(expected) / CHARS_PER_TOKEN) if expected else guess
        source = case.get("source_thread_id")
        before = history.get(source, 0) if mode == "conversation" else 0
        input_chars += len(fill(config.instructions, values)) + tools + before + len(text)
        history[source] = before + len(text) + reply * CHARS_PER_TOKEN
        output_tokens += reply
    input_tokens = math.ceil(input_chars / CHARS_PER_TOKEN)
    table = usage.current_prices() if prices is None else prices
    return Estimate(
        len(cases), input_tokens, output_tokens, usage.cost(config.model, input_tokens, output_tokens, table)
    )


def load_graders(text: str) -> list[graders.Grader]:
    """Graders from their JSON text: a list of testing criteria, or {"testing_criteria": [...]}; blank
    text is none. GraderError (one sentence) on anything else."""
    if not (text or "").strip():
        return []
    return graders.parse_json(text)


def check_cases(version: Version, cases: list[dict]) -> list[str]:
    """What stops these cases from running on `version`, one sentence per problem; empty when nothing does."""
    if not cases:
        return ["The test set has no cases: add at least one."]
    declared = version.config.variables
    problems = []
    for n, case in enumerate(cases):
        given = {str(k): str(v) for k, v in dict(case.get("variables") or {}).items()}
        missing = missing_variables(Case(input=str(case.get("input") or ""), variables=given), declared)
        if missing:
            number = case["position"] + 1 if case.get("position") is not None else n + 1
            noun = "variable" if len(missing) == 1 else "variables"
            problems.append(f"Case {number} lacks the declared {noun} {', '.join(missing)}.")
    return problems


# -- a run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    done: int  # cases with a result in this run, also those from before a resume
    total: int
    passed: int
    failed: int
    ungraded: int  # upstream failures: no verdicts
    elapsed_s: float  # in this process
    eta_s: float | None  # None until a case is done here (and once the run stopped or failed)
    status: str  # running | completed | stopped | failed


@dataclass
class _Unit:
    """Cases that run one after another on one thread: one case, or a source conversation's cases."""

    title: str
    cases: list[dict]
    thread: Thread | None = None  # a resumed run's thread to go on with; None: make one
    retry_message_id: int | None = None  # the first case's message, cut short before: send it again
    settled_run: Run | None = None  # the first case's turn, answered before a crash took its result


class _Pacer:
    """The pause all workers take after a 429: one rate limit is the whole key's, not one worker's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._streak = 0  # 429s since the last request that got through

    def limited(self) -> None:
        with self._lock:
            pause = min(BACKOFF_MAX_S, BACKOFF_START_S * 2**self._streak)
            self._streak += 1
            self._until = max(self._until, time.monotonic() + pause)

    def eased(self) -> None:
        with self._lock:
            self._streak = 0

    def wait(self, stopping: threading.Event) -> None:
        """Sit out the pause, if there is one; a stop ends it at once."""
        while not stopping.is_set():
            with self._lock:
                left = self._until - time.monotonic()
            if left <= 0:
                return
            stopping.wait(left)


class Evaluation:
    """A run going on in this process: `progress()` to draw it, `stop()`, `wait()`.

    Safe to share across threads and script runs; the work goes on without any caller.
    """

    def __init__(
        self,
        store: Store,
        backend: Callable[[], Backend],
        replay_id: int,
        set_id: int,
        version: Version,
        criteria: list[graders.Grader],
        units: list[_Unit],
        *,
        total: int,
        concurrency: int,
        secrets: tuple[str, ...],
        before: Iterable[int | None] = (),
    ) -> None:
        self.replay_id = replay_id
        self.set_id = set_id
        self.version = version
        self.total = total
        self.error: str | None = None
        # Why the run stopped by itself without failing (a spending limit reached), one sentence.
        self.stopped_because: str | None = None
        self._store = store
        self._backend = backend
        self._graders = criteria
        self._secrets = secrets
        self._concurrency = concurrency
        self._prices = usage.current_prices()
        self._queue: queue.SimpleQueue[_Unit] = queue.SimpleQueue()
        for unit in units:
            self._queue.put(unit)
        self._workers = min(concurrency, len(units))
        self._lock = threading.Lock()
        self._turns: set[turn.Turn] = set()  # in flight: what a stop cancels
        self._stopping = threading.Event()  # no new cases (asked for, or after an unexpected error)
        self._stop_asked = False
        self._finished = threading.Event()
        self._status = "running"
        self._pacer = _Pacer()
        # Results so far: `before` holds the `passed` of those written before a resume.
        earlier = list(before)
        self._done = len(earlier)
        self._passed = sum(p == 1 for p in earlier)
        self._failed = sum(p == 0 for p in earlier)
        self._ungraded = sum(p is None for p in earlier)
        self._done_here = 0
        self._started = time.monotonic()
        self._ended: float | None = None

    # -- public -------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    def progress(self) -> Progress:
        with self._lock:
            done, done_here = self._done, self._done_here
            passed, failed, ungraded = self._passed, self._failed, self._ungraded
            status, ended = self._status, self._ended
        elapsed = (ended if ended is not None else time.monotonic()) - self._started
        eta: float | None = None
        if status == "completed":
            eta = 0.0
        elif status == "running" and done_here:
            # This process's pace (cases in parallel included) over what is left.
            eta = elapsed / done_here * max(0, self.total - done)
        return Progress(done, self.total, passed, failed, ungraded, elapsed, eta, status)

    def stop(self) -> None:
        """No new cases; the turns in flight are cancelled (logged as cancelled, not as results).
        Waits a moment for them to settle; the run then reads `stopped`, its finished cases kept."""
        with self._lock:
            self._stop_asked = True
            self._stopping.set()
            turns = list(self._turns)
        for t in turns:
            t.cancel()
        self.wait(STOP_WAIT_S)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has finished; False if it still runs after `timeout` seconds."""
        return self._finished.wait(timeout)

    # -- the run ------------------------------------------------------------------------------

    def _launch(self) -> None:
        threading.Thread(target=self._run, daemon=True, name=f"eval-{self.replay_id}").start()

    def _run(self) -> None:
        beat = threading.Thread(target=self._beat, daemon=True, name=f"eval-{self.replay_id}-beat")
        beat.start()
        workers = [
            threading.Thread(target=self._work, daemon=True, name=f"eval-{self.replay_id}-{n}")
            for n in range(self._workers)
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        with self._lock:
            if self.error is not None:
                status = "failed"
            elif self._done >= self.total:
                status = "completed"
            else:
                status = "stopped"
        try:
            self._store.finish_replay(self.replay_id, status, self.error or self.stopped_because)
        except Exception as exc:  # the log refused: the run stays `running` and reads interrupted later
            logger.error("evaluation %s could not be finished in the log: %s", self.replay_id, exc)
            with self._lock:
                self.error = self.error or say(exc, *self._secrets)
            status = "failed"
        with self._lock:
            self._status = status
            self._ended = time.monotonic()
        with _lock:
            if _live.get(self.replay_id) is self:
                del _live[self.replay_id]
        self._finished.set()  # last: the beat stops, and waiters see the registry already cleared

    def _beat(self) -> None:
        interval = settings.run_lease_s() / 3
        while not self._finished.wait(interval):
            try:
                self._store.beat_replay(self.replay_id)
            except Exception as exc:  # a missed beat only risks the run reading interrupted
                logger.warning("evaluation %s missed a heartbeat: %s", self.replay_id, exc)

    def _work(self) -> None:
        try:
            backend = self._backend()  # one per worker: its client's connections serve its cases in turn
            while not self._stopping.is_set():
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    return
                self._run_unit(unit, backend)
        except Exception as exc:  # a bug or a log that refuses: the run fails, said in one sentence
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        sentence = say(exc, *self._secrets)
        details = redact("".join(traceback.format_exception(exc)), *self._secrets)  # no key in the log
        logger.error("evaluation %s failed: %s\n%s", self.replay_id, sentence, details)
        with self._lock:
            self.error = self.error or sentence
            self._stopping.set()
            turns = list(self._turns)
        for t in turns:
            t.cancel()

    def _halt(self, sentence: str) -> None:
        """Start no new case; those in flight (already paid for) finish and are kept. The run ends
        `stopped`, saying why, and can be resumed once the limit resets."""
        with self._lock:
            self.stopped_because = self.stopped_because or sentence
            self._stopping.set()

    def _run_unit(self, unit: _Unit, backend: Backend) -> None:
        thread = unit.thread
        retry_message_id = unit.retry_message_id
        cases = unit.cases
        if unit.settled_run is not None and thread is not None:
            # Answered before its process died: its result comes from the log, not from a second send.
            self._record(cases[0], thread, _settled(self._store, thread, unit.settled_run), None)
            cases = cases[1:]
        for case in cases:
            if self._stopping.is_set():
                return
            if thread is None:
                thread = self._store.create_thread(self.version.assistant_id, title=unit.title, kind="eval")
            if not self._run_case(case, thread, backend, retry_message_id):
                return  # stopped mid-case: the conversation's next cases wait for a resume
            retry_message_id = None

    def _run_case(self, case: dict, thread: Thread, backend: Backend, message_id: int | None) -> bool:
        """One case to its result; False when a stop cut it short (then it has none)."""
        variables = case.get("variables") or {}
        attempts = 0
        while True:
            self._pacer.wait(self._stopping)
            if self._stopping.is_set():
                return False  # a message left failed by a 429 is sent again on resume
            attempts += 1
            if message_id is None:
                try:
                    t = turn.start(
                        self._store, backend, thread.id, self.version, case["input"],
                        secrets=self._secrets, variables=variables,
                    )  # fmt: skip
                except ValueError as exc:  # the input is empty once its variables are filled
                    self._record(case, thread, None, str(exc))
                    return True
            else:
                t = turn.retry(
                    self._store, backend, message_id, self.version, secrets=self._secrets, variables=variables
                )
            message_id = t.user_message_id
            done = self._drive(t)
            if done.status == "cancelled" and self._stopping.is_set():
                return False
            if done.problem is not None and done.problem.kind == "limit_reached":
                self._halt(done.problem.message)  # nothing was sent: the case waits for a resume
                return False
            limited = done.problem is not None and done.problem.kind == "rate_limit"
            if not limited:
                self._pacer.eased()
                break
            if attempts >= MAX_ATTEMPTS:
                break
            self._pacer.limited()
        done = self._answer_handled(done, backend, variables)
        if done.status == "cancelled" and self._stopping.is_set():
            return False
        if done.problem is not None and done.problem.kind == "limit_reached":
            self._halt(done.problem.message)  # the answer was not sent; a resume grades the case as it stands
            return False
        self._record(case, thread, done, None)
        return True

    def _answer_handled(self, done: turn.TurnDone, backend: Backend, variables: dict) -> turn.TurnDone:
        """A case whose model called functions that registered handlers answer goes on by itself (as
        the Playground does when someone looks), up to turn.AUTO_ROUNDS_MAX rounds, so it is graded
        on the model's final answer. Calls no handler answers leave it `requires_action`, graded as is."""
        while done.status == "requires_action" and not self._stopping.is_set():
            outputs = turn.auto_outputs(self._store, done.run_id)
            if outputs is None:
                return done
            follow = turn.answer(
                self._store, backend, done.run_id, outputs, self.version, secrets=self._secrets, variables=variables
            )
            done = self._drive(follow)
        return done

    def _drive(self, t: turn.Turn) -> turn.TurnDone:
        with self._lock:
            self._turns.add(t)
            stopping = self._stopping.is_set()
        if stopping:  # a stop came between writing the turn and registering it
            t.cancel()
        try:
            for _ in t.events():
                pass
        finally:
            t.close()
            with self._lock:
                self._turns.discard(t)
        assert t.result is not None  # events() ends with the settled turn
        return t.result

    def _record(self, case: dict, thread: Thread, done: turn.TurnDone | None, unsent: str | None) -> None:
        """Grade the case's output (when the model answered) and write its one result."""
        variables = case.get("variables") or {}
        columns: dict[str, Any] = {"thread_id": thread.id, "model": self.version.config.model}
        verdicts: dict[str, graders.Verdict] | None = None
        if done is None:
            columns.update(output="", status="failed", error=unsent)
        else:
            run = self._store.get_run(done.run_id)
            model = (run.model if run else None) or self.version.config.model
            input_tokens = run.input_tokens if run else None
            output_tokens = run.output_tokens if run else None
            latency_ms = run.latency_ms if run else None
            columns.update(
                run_id=done.run_id,
                output=done.text,
                status=done.status,
                total_tokens=run.total_tokens if run else None,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                model=model,
                latency_ms=latency_ms,
                error=done.problem.message if done.problem else None,
            )
            if done.status in ANSWERED:
                unknown = input_tokens is None and output_tokens is None
                cost = None if unknown else usage.cost(model, input_tokens, output_tokens, self._prices)
                sample = graders.Sample(done.text, latency_ms, cost, output_tokens, done.status)
                item = {"input": case["input"], "expected": case.get("expected"), "tags": case.get("tags") or []}
                item.update(variables)  # {{item.name}} reads a variable as OpenAI's templating does
                verdicts = graders.grade_all(self._graders, sample, item)
            elif columns["error"] is None:
                columns["error"] = f"The turn ended {done.status}."
        passed: int | None = None
        if verdicts is not None:
            passed = int(all(v.passed for v in verdicts.values()))
            scores = [v.score for v in verdicts.values()]
            columns["score"] = statistics.fmean(scores) if scores else None
            columns["verdicts"] = json.dumps(
                [
                    {"name": name, "passed": v.passed, "score": v.score, "reason": v.reason, "error": v.error}
                    for name, v in verdicts.items()
                ],
                ensure_ascii=False,
            )
        columns["passed"] = passed
        written = self._store.add_replay_result(self.replay_id, case["id"], **columns)
        with self._lock:
            self._done += 1  # the case has its result either way (written here, or already there)
            if not written:
                return  # a resume racing another process: its verdict is counted once, by that one
            self._done_here += 1
            if passed == 1:
                self._passed += 1
            elif passed == 0:
                self._failed += 1
            else:
                self._ungraded += 1


# -- the registry, and starting -------------------------------------------------------------------

_live: dict[int, Evaluation] = {}
_claimed: set[int] = set()  # runs being resumed right now (two clicks must not start two)
_lock = threading.Lock()


def find(replay_id: int) -> Evaluation | None:
    """The run going on in this process under that id, if any (not owner-checked: read the run
    through the owner's store first)."""
    with _lock:
        return _live.get(replay_id)


def _check_concurrency(concurrency: int) -> None:
    if not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"Concurrency must be a whole number from 1 to {MAX_CONCURRENCY}; it is {concurrency!r}.")


def _refuse(problems: list[str]) -> None:
    if problems:
        more = len(problems) - LISTED_PROBLEMS
        shown = problems[:LISTED_PROBLEMS] + ([f"And {more} more cases lack variables."] if more > 0 else [])
        raise ValueError(" ".join(shown))


def _title(replay_id: int, mode: str, case: dict) -> str:
    """The name of a case's thread, and how a resumed run finds it again."""
    if mode != "conversation":
        return f"Evaluation {replay_id} · case {case['position'] + 1}"
    source = case.get("source_thread_id")
    return f"Evaluation {replay_id} · conversation {source if source is not None else 'typed by hand'}"


def _units(replay_id: int, mode: str, cases: list[dict]) -> list[_Unit]:
    units: dict[str, _Unit] = {}
    for case in cases:
        title = _title(replay_id, mode, case)
        units.setdefault(title, _Unit(title, [])).cases.append(case)
    return list(units.values())


def _register(evaluation: Evaluation) -> Evaluation:
    with _lock:
        _live[evaluation.replay_id] = evaluation
    evaluation._launch()
    return evaluation


def start(
    store: Store,
    backend: Callable[[], Backend],
    set_id: int,
    version: Version,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    secrets: tuple[str, ...] = (),
) -> Evaluation:
    """Run the test set on `version` in the background and return at once.

    Nothing is sent, and no run logged, when the set is not this owner's (LookupError), a case lacks
    a declared variable or the set has none (ValueError), the set's graders do not parse (GraderError)
    or the concurrency is not 1–32 (ValueError).
    """
    _check_concurrency(concurrency)
    test_set = store.get_test_set(set_id)
    if test_set is None:
        raise LookupError(f"No test set {set_id}.")
    cases = store.test_cases(set_id)
    _refuse(check_cases(version, cases))
    criteria_text = test_set.get("graders") or "[]"
    criteria = load_graders(criteria_text)
    replay_id = store.start_replay(set_id, version.id, graders=criteria_text, concurrency=concurrency)
    units = _units(replay_id, test_set["mode"], cases)
    evaluation = Evaluation(
        store, backend, replay_id, set_id, version, criteria, units,
        total=len(cases), concurrency=concurrency, secrets=secrets,
    )  # fmt: skip
    return _register(evaluation)


def resume(
    store: Store,
    backend: Callable[[], Backend],
    replay_id: int,
    *,
    concurrency: int | None = None,
    secrets: tuple[str, ...] = (),
) -> Evaluation:
    """Go on with a stopped, failed or interrupted run (its process gone, e.g. after a restart): only
    the cases without a result, with the run's version and graders. A turn a stop or a crash cut short
    is sent again on its thread, reusing its message.

    LookupError for a run that is not this owner's; ValueError (one sentence) for one still going
    (here or in another process), one completed with nothing left, or cases that now lack variables.
    """
    replay = store.get_replay(replay_id)
    if replay is None:
        raise LookupError(f"No evaluation run {replay_id}.")
    with _lock:
        if replay_id in _live or replay_id in _claimed:
            raise ValueError("This run is still going; stop it before resuming it.")
        _claimed.add(replay_id)
    try:
        if replay["status"] == "running" and not replay["interrupted"]:
            raise ValueError(
                "This run is still going in another process; resume it once that one stops or its heartbeat lapses."
            )
        concurrency = int(replay["concurrency"] or 1) if concurrency is None else concurrency
        _check_concurrency(concurrency)
        version = store.get_version(replay["version_id"])
        if version is None:
            raise LookupError(f"No version {replay['version_id']}.")
        test_set = store.get_test_set(replay["set_id"])
        if test_set is None:
            raise LookupError(f"No test set {replay['set_id']}.")
        cases = store.test_cases(replay["set_id"])
        ids = {c["id"] for c in cases}
        results = [r for r in store.replay_results(replay_id) if r["case_id"] in ids]
        done = {r["case_id"] for r in results}
        left = [c for c in cases if c["id"] not in done]
        if not left and replay["status"] == "completed":
            raise ValueError("This run is complete: every case has a result.")
        if left:
            _refuse(check_cases(version, left))
        criteria_text = replay["graders"] or "[]"
        criteria = load_graders(criteria_text)
        units = _units(replay_id, test_set["mode"], left)
        _find_threads(store, version, replay_id, units, results)
        if not store.resume_replay(replay_id, concurrency=concurrency):
            raise ValueError("Another app process resumed this run a moment ago: it is running there.")
        evaluation = Evaluation(
            store, backend, replay_id, replay["set_id"], version, criteria, units,
            total=len(cases), concurrency=concurrency, secrets=secrets, before=[r["passed"] for r in results],
        )  # fmt: skip
        return _register(evaluation)
    finally:
        with _lock:
            _claimed.discard(replay_id)


def _find_threads(store: Store, version: Version, replay_id: int, units: list[_Unit], results: list[dict]) -> None:
    """Give each unit of a resumed run the thread it ran on before, and the message to send again
    when its turn was cut short (stopped, or its process died) before it had a result."""
    prefix = f"Evaluation {replay_id} · "
    threads = {
        t.title: t
        for t in store.list_threads(
            version.assistant_id, limit=1_000_000, kinds=("eval",), query=f"Evaluation {replay_id}"
        )
        if t.title.startswith(prefix)
    }
    answered_runs = {r["run_id"] for r in results if r["run_id"] is not None}
    for unit in units:
        thread = threads.get(unit.title)
        if thread is None:
            continue
        unit.thread = thread
        # A turn whose process died is still `in_progress` until some process sweeps it: settle it now
        # (incomplete, its message retryable), so it is not left open beside the attempt sent next.
        store.running_run(thread.id)
        users = [m for m in store.list_messages(thread.id) if m.role == "user"]
        if not users:
            continue
        # The last message is the next case's unless a result holds it (an upstream failure is a
        # result too, and its message stays failed): cases run in order and get results in order.
        last = users[-1]
        attempts = [r for r in store.list_runs(thread.id, bodies=False) if r.user_message_id == last.id]
        if any(r.id in answered_runs for r in attempts):
            continue
        if last.status != "complete":
            unit.retry_message_id = last.id  # cut short by a stop or a crash: send it again in place
        elif attempts and attempts[-1].status in ANSWERED:
            unit.settled_run = attempts[-1]


def _settled(store: Store, thread: Thread, run: Run) -> turn.TurnDone:
    """A turn that ended in the log, as its `TurnDone` would have said it."""
    replies = [m for m in store.list_messages(thread.id) if m.role == "assistant" and m.run_id == run.id]
    text = replies[-1].content if replies else ""
    return turn.TurnDone(run.status, run.id, run.user_message_id or 0, replies[-1].id if replies else None, text)
