"""Who may come into a deployment, as the deployer chose it (issue 15, item 1). No Streamlit here.

The access model, read from the environment and the secrets on every run:

- **open** (nothing configured): anyone who reaches the app uses it, as on a laptop. When the page is
  reached under a host name other than the machine itself and a deployment key is configured, every
  visitor is told that anyone with the link spends that key (`shows_key_banner`).
- **password**: `PLAYGROUND_PASSWORD` in the environment or `password` in the secrets. Nothing of the app
  is drawn before it is typed; it admits one browser session (Streamlit sets no cookie outside
  `st.login`, so a reload asks again). It is compared in constant time, and failures slow later attempts
  down, per session and across the process, without ever locking anyone out (`Throttle`).
- **sign-in** (an `[auth]` section in the secrets): `st.login` with an allow-list — not built yet; until it
  is, such a deployment admits nobody rather than falling back to open (`Mode.SIGN_IN`).
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, MutableSequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from playground.client import resolve_key

PASSWORD_ENV = "PLAYGROUND_PASSWORD"
PASSWORD_SECRET = "password"
AUTH_SECRET = "auth"
WRONG_PASSWORD = "That password is not right."


class Mode(enum.StrEnum):
    OPEN = "open"
    PASSWORD = "password"
    SIGN_IN = "sign-in"  # the hook for st.login (issue 15 continues): recognised, refused until built


class AccessConfigError(ValueError):
    """The secrets name a password the app cannot use; the gate says so and admits nobody."""


@dataclass(frozen=True)
class Access:
    mode: Mode
    password: str | None = field(default=None, repr=False)  # never in a traceback or a log line


def read_access(secrets: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Access:
    """The access mode configured for this deployment: sign-in, then password, else open.

    `secrets` is the secrets mapping (st.secrets as a dict); `environ` defaults to os.environ. The
    password in the secrets wins over the environment's, as the API key's does (client.resolve_key).
    Raises AccessConfigError when `password` is in the secrets but is not text: falling back to open
    would serve the app to anyone while its deployer believes it closed.
    """
    environ = os.environ if environ is None else environ
    if AUTH_SECRET in secrets:
        # Later: st.login with an allow-list (issue 15, item 1, sign-in). Deny by default until then.
        return Access(Mode.SIGN_IN)
    configured = secrets.get(PASSWORD_SECRET)
    if configured is not None:
        # TOML reads `password = 1234` as a number; it is still what the deployer means to type.
        if isinstance(configured, bool) or not isinstance(configured, str | int):
            raise AccessConfigError(f"The `{PASSWORD_SECRET}` in the secrets must be text.")
        if str(configured).strip():
            return Access(Mode.PASSWORD, str(configured).strip())
    from_env = environ.get(PASSWORD_ENV, "").strip()
    if from_env:
        return Access(Mode.PASSWORD, from_env)
    return Access(Mode.OPEN)


def password_matches(typed: str, expected: str) -> bool:
    """Whether the typed password is the configured one, in time that does not depend on where they
    differ (compare_digest on bytes: on str it refuses anything beyond ASCII)."""
    return hmac.compare_digest(typed.encode(), expected.encode())


@dataclass
class Throttle:
    """Slows password attempts after failures, per browser session and across the whole process.

    The wait before an attempt is answered grows with the session's recent failures (doubling) and with
    everyone's recent failures (a step each, so fresh sessions cannot dodge it), and never exceeds
    `cap_s`: slowed, never locked out. The global part holds only failure times — no passwords, no
    per-user data — under a lock, since every session's script runs in its own thread.
    """

    window_s: float = 300.0  # failures older than this no longer count
    base_s: float = 0.5  # the wait after a session's first failure; doubles with each further one
    global_step_s: float = 0.05  # added per failure anywhere in the window
    cap_s: float = 4.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep  # tests put a recorder here: they never wait for real
    _failures: deque[float] = field(default_factory=lambda: deque(maxlen=10_000), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def delay(self, session_failures: MutableSequence[float]) -> float:
        """Seconds the next attempt waits, given this session's failure times (pruned in place)."""
        now = self.clock()
        _prune(session_failures, now - self.window_s)
        with self._lock:
            while self._failures and self._failures[0] < now - self.window_s:
                self._failures.popleft()
            everyone = len(self._failures)
        mine = len(session_failures)
        wait = (self.base_s * 2 ** min(mine - 1, 16) if mine else 0.0) + self.global_step_s * everyone
        return min(self.cap_s, wait)

    def record_failure(self, session_failures: MutableSequence[float]) -> None:
        now = self.clock()
        session_failures.append(now)
        with self._lock:
            self._failures.append(now)

    def reset(self) -> None:
        """Forget every failure (tests; a restart does the same)."""
        with self._lock:
            self._failures.clear()


def _prune(times: MutableSequence[float], before: float) -> None:
    times[:] = [t for t in times if t >= before]


# One per process: failures from any session slow everyone's next attempt a little.
THROTTLE = Throttle()


def check_password(
    typed: str, expected: str, session_failures: MutableSequence[float], throttle: Throttle | None = None
) -> bool:
    """Answer one attempt: wait what the recent failures call for, compare, count a failure.

    The wait comes before the answer, right or wrong, so how long an answer takes does not tell a
    right password from a wrong one.
    """
    throttle = throttle or THROTTLE
    throttle.sleep(throttle.delay(session_failures))
    if password_matches(typed, expected):
        return True
    throttle.record_failure(session_failures)
    return False


def host_of(url: str | None = None, host_header: str | None = None) -> str | None:
    """The host name the page was reached under: from the browser's URL, else the Host header.
    None when neither says (no browser: AppTest, a script)."""
    for candidate in (url, f"//{host_header}" if host_header else None):
        if not candidate:
            continue
        try:
            name = urlsplit(candidate).hostname
        except ValueError:  # a malformed address is no known host: treated as a remote one
            return candidate
        if name:
            return name.rstrip(".")
    return None


def is_local_host(host: str) -> bool:
    """localhost or a loopback address (127.0.0.0/8, ::1, also written IPv4-mapped or in brackets)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def shows_key_banner(mode: Mode, host: str | None, secrets: Mapping[str, Any]) -> bool:
    """Whether every visitor is told that anyone with this link uses the deployment's key: in open mode,
    reached under a host other than this machine, with a key in the secrets or the environment (found
    as the connection finds it, client.resolve_key, without a typed key). An unknown host (no browser
    said) shows none: every browser sends its URL."""
    if mode is not Mode.OPEN or host is None or is_local_host(host):
        return False
    return resolve_key(None, secrets) is not None
