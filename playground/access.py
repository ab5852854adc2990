"""Who may come into a deployment, as the deployer chose it (issue 15, item 1). No Streamlit here.

The access model, read from the environment and the secrets on every run:

- **open** (nothing configured): anyone who reaches the app uses it, as on a laptop. When the page is
  reached under a host name other than the machine itself and a deployment key is configured, every
  visitor is told that anyone with the link spends that key (`shows_key_banner`).
- **password**: `PLAYGROUND_PASSWORD` in the environment or `password` in the secrets. Nothing of the app
  is drawn before it is typed; it admits one browser session (Streamlit sets no cookie outside
  `st.login`, so a reload asks again). It is compared in constant time, and failures slow later attempts
  down, per session and across the process, without ever locking anyone out (`Throttle`).
- **sign-in** (an `[auth]` section in the secrets): `st.login` through one provider (`[auth]` itself) or
  several (`[auth.NAME]`, a button each, `providers`). Signing in says who someone is, not whether they
  may come in: the top-level `allowed` list of the secrets does (emails, `@domain`s, or `"*"` for any
  signed-in account), and with none nobody comes in. An email the provider says is not verified
  (`email_verified` sent and not true) is refused too. `decide` is the whole rule; a person let in owns
  what they make under their email, lower-cased (client.owner_for). The `admins` list names people
  (emails only) who come in whatever `allowed` says, and who have admin powers when the provider says
  their email is verified (`Verdict.admin`; its silence lets them in, not into those powers).
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
ALLOWED_SECRET = "allowed"
ADMINS_SECRET = "admins"
ANYONE = "*"
WRONG_PASSWORD = "That password is not right."
# Where the gate keeps the email of the person it let in for this run (app_pages/_gate.py writes it on
# every run of a sign-in deployment, app_pages/_common.connection reads it to choose the log's owner).
PERSON_STATE = "access.person"
ADMIN_STATE = "access.admin"  # True for this run's person when `decide` found them a verified admin

NOT_ALLOWED = "{email} is not on this app's list of people allowed in: ask whoever runs it to add you."
NOBODY_ALLOWED = "Nobody is allowed into this app yet: whoever runs it has to list who may come in."
NOT_VERIFIED = "Your sign-in provider has not verified the email address {email}, so it cannot be let in."
NO_EMAIL = "Your sign-in provider did not say which email address is yours, so you cannot be let in."


class Mode(enum.StrEnum):
    OPEN = "open"
    PASSWORD = "password"
    SIGN_IN = "sign-in"


class AccessConfigError(ValueError):
    """The secrets name a password the app cannot use; the gate says so and admits nobody."""


@dataclass(frozen=True)
class Access:
    mode: Mode
    password: str | None = field(default=None, repr=False)  # never in a traceback or a log line
    # Sign-in only: the providers' names (None: the one configured in `[auth]` itself), who may come in
    # (`allowed`, lower-cased) and the admins (emails, lower-cased, let in too).
    providers: tuple[str | None, ...] = ()
    allowed: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


def read_access(secrets: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Access:
    """The access mode configured for this deployment: sign-in, then password, else open.

    `secrets` is the secrets mapping (st.secrets as a dict); `environ` defaults to os.environ. The
    password in the secrets wins over the environment's, as the API key's does (client.resolve_key).
    Raises AccessConfigError when `password` is in the secrets but is not text: falling back to open
    would serve the app to anyone while its deployer believes it closed.
    """
    environ = os.environ if environ is None else environ
    if AUTH_SECRET in secrets:
        # Sign-in wins over a password: its allow-list, not a shared secret, decides who comes in.
        # Raises AccessConfigError for an `allowed` or `admins` the gate cannot read (nobody comes in).
        return Access(
            Mode.SIGN_IN,
            providers=providers(secrets),
            allowed=allow_list(secrets),
            admins=_emails(secrets, ADMINS_SECRET, domains=False),
        )
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


# -- sign-in ----------------------------------------------------------------------------------------

# Settings a provider's section holds; a table among them is one of the provider's (not a provider).
_PROVIDER_TABLES = {"client_kwargs"}


def providers(secrets: Mapping[str, Any]) -> tuple[str | None, ...]:
    """The sign-in providers configured in `[auth]`, as `st.login` takes them: None for one configured
    in `[auth]` itself (its `client_id`, `server_metadata_url`…), then each `[auth.NAME]` table.
    Raises AccessConfigError when `auth` is not a table or names no provider at all."""
    auth = secrets.get(AUTH_SECRET)
    if not isinstance(auth, Mapping):
        raise AccessConfigError(f"`{AUTH_SECRET}` in the secrets must be a table: `[{AUTH_SECRET}]`.")
    named = [str(k) for k, v in auth.items() if isinstance(v, Mapping) and k not in _PROVIDER_TABLES]
    for table in (auth, *(auth[n] for n in named)):
        if misplaced := [k for k in (ALLOWED_SECRET, ADMINS_SECRET) if k in table]:
            # In TOML whatever follows `[auth]` belongs to it: the list meant for the top level is lost.
            raise AccessConfigError(
                f"`{misplaced[0]}` is inside `[{AUTH_SECRET}]` in the secrets: move it above the "
                f"`[{AUTH_SECRET}]` line."
            )
    found: list[str | None] = [None] if "client_id" in auth or "server_metadata_url" in auth else []
    found += named
    if not found:
        raise AccessConfigError(
            f"`[{AUTH_SECRET}]` in the secrets names no sign-in provider: give it `client_id`, "
            f"`client_secret` and `server_metadata_url`, or add `[{AUTH_SECRET}.NAME]` tables."
        )
    return tuple(found)


def provider_label(name: str | None) -> str:
    """The sign-in button's text for a provider."""
    return "Sign in" if name is None else f"Sign in with {name.replace('-', ' ').title()}"


def allow_list(secrets: Mapping[str, Any]) -> tuple[str, ...]:
    """Who may come in, from the top-level `allowed` of the secrets, lower-cased: emails
    (`ann@example.com`), domains (`@example.org`: every address of exactly that domain) and `"*"`
    (any signed-in account). Missing or empty: nobody. A single string counts as a list of one.
    Raises AccessConfigError for an entry that is none of these (a typo must not open the door)."""
    return _emails(secrets, ALLOWED_SECRET, domains=True)


def _emails(secrets: Mapping[str, Any], name: str, *, domains: bool) -> tuple[str, ...]:
    configured = secrets.get(name)
    if configured is None:
        return ()
    entries = [configured] if isinstance(configured, str) else configured
    if not isinstance(entries, list | tuple) or not all(isinstance(e, str) for e in entries):
        raise AccessConfigError(f'`{name}` in the secrets must be a list of text, like ["ann@example.com"].')
    cleaned = tuple(e.strip().lower() for e in entries if e.strip())
    for entry in cleaned:
        if domains and (entry == ANYONE or (entry.startswith("@") and _is_domain(entry[1:]))):
            continue
        if email_parts(entry) is None:
            shape = 'an email, "@domain" or "*"' if domains else "an email"
            raise AccessConfigError(f"`{name}` in the secrets holds {entry!r}, which is not {shape}.")
    return cleaned


def _is_domain(text: str) -> bool:
    return bool(text) and "@" not in text and not text.startswith(".") and not any(c.isspace() for c in text)


def email_parts(email: str) -> tuple[str, str] | None:
    """(local part, domain) of an address, or None when it is not one. The domain is what follows the
    last `@`, as mail delivery reads it."""
    local, at, domain = email.rpartition("@")
    if not at or not local or not _is_domain(domain) or any(c.isspace() for c in local):
        return None
    return local, domain


def _verified(claim: object) -> bool:
    # Most providers send a JSON boolean; some (AWS Cognito among them) send the text "true".
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def is_allowed(email: str, allowed: tuple[str, ...] | list[str]) -> bool:
    """Whether a lower-cased address is on the allow-list: `"*"`, its exact domain, or itself."""
    parts = email_parts(email)
    if parts is None:
        return False
    return any(entry in (ANYONE, f"@{parts[1]}", email) for entry in allowed)


@dataclass(frozen=True)
class Verdict:
    """What the door says to a signed-in account: the email it comes in as, or one sentence why not."""

    email: str | None = None  # lower-cased; set when let in
    refusal: str | None = None  # set when not
    # On the `admins` list with an email the provider says is verified: admin powers (seeing and deleting
    # every row) need the provider's word, not only its silence (a self-asserted address would do).
    admin: bool = False


def decide(user: Mapping[str, Any], configured: Access) -> Verdict:
    """Whether the signed-in account `user` (st.user as a dict: its claims) comes into a sign-in
    deployment configured as `configured` (read_access).

    Let in: an email the provider gives, not said to be unverified (`email_verified`, where sent, must
    be true), that `allowed` admits or `admins` lists. Anything else is refused in one sentence; with
    no `allowed` at all, everyone but the admins is (deny by default)."""
    raw = user.get("email")
    email = raw.strip().lower() if isinstance(raw, str) else ""
    if not email or email_parts(email) is None:
        return Verdict(refusal=NO_EMAIL)
    if "email_verified" in user and not _verified(user["email_verified"]):
        return Verdict(refusal=NOT_VERIFIED.format(email=email))
    if email in configured.admins or is_allowed(email, configured.allowed):
        return Verdict(email=email, admin=email in configured.admins and _verified(user.get("email_verified")))
    if not configured.allowed:
        return Verdict(refusal=NOBODY_ALLOWED)
    return Verdict(refusal=NOT_ALLOWED.format(email=email))


def first_admin(secrets: Mapping[str, Any]) -> str | None:
    """The first address on the `admins` list: what was made before sign-in was turned on becomes
    theirs (`Store.claim_unsigned`). None without a readable list."""
    try:
        admins = _emails(secrets, ADMINS_SECRET, domains=False)
    except AccessConfigError:
        return None
    return admins[0] if admins else None
