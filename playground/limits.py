"""Spending limits: what a deployment pays for, per person per day (UTC) and in all, in turns, tokens
and estimated cost.

A deployment sets them in its secrets (README "Deploy for a team"):

    [limits]
    person_turns = 200        # per person per day
    person_tokens = 500000
    person_cost = 2.0         # USD, estimated from data/prices.csv
    daily_turns = 2000        # the whole deployment per day
    daily_tokens = 5000000
    daily_cost = 20.0

They apply to requests the deployment pays for: a provider configured with a key (in the secrets or
the environment), or with none (a local server). A visitor's own key typed for a provider without a
deployment key is theirs and not limited; the command line is not limited (it runs on its own key).

Each request a turn sends (a chat turn, each side of a compare, each evaluation case, a retry, a
function answer) is counted when it starts, in one write transaction that checks today's totals with it
included (`Store.charge`): requests made at once cannot overshoot together. It counts with an estimate
(characters / 4 for what is sent, and the output cap or 1,000 tokens for the reply), replaced by what the
server reports when the request finishes; a request whose usage is never reported keeps its estimate.
When a limit is reached, the request is refused with one sentence saying which limit and when it
resets (midnight UTC).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from playground import usage
from playground.errors import LimitReached, Problem
from playground.store import Store

CHARS_PER_TOKEN = 4
REPLY_TOKENS = 1000  # assumed for a reply when the request sets no output cap


@dataclass(frozen=True)
class Limits:
    """Caps per day (UTC); None: no cap of that kind."""

    person_turns: int | None = None
    person_tokens: int | None = None
    person_cost: float | None = None
    daily_turns: int | None = None
    daily_tokens: int | None = None
    daily_cost: float | None = None

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, Any]) -> Limits:
        """The `[limits]` table of the secrets; ValueError (one sentence) for a value that is not a
        number above 0 or a name that is not a limit (a typo must not leave a deployment unlimited)."""
        table = secrets.get("limits") or {}
        if not isinstance(table, Mapping):
            raise ValueError("`limits` in the secrets must be a table: [limits] with person_turns = 200 and so on.")
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in table.items():
            if name not in known:
                raise ValueError(f"Unknown limit `{name}` in [limits]; the limits are {', '.join(sorted(known))}.")
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
            if number is None or not math.isfinite(number) or number <= 0:
                raise ValueError(f"The limit `{name}` must be a number above 0.")
            values[name] = float(number) if name.endswith("cost") else int(number)
        return cls(**values)


def today(now: datetime.datetime | None = None) -> str:
    return (now or datetime.datetime.now(datetime.UTC)).date().isoformat()


def resets_in(now: datetime.datetime | None = None) -> str:
    """How long until midnight UTC, as a person reads it: "3 h 12 min", "45 min"."""
    now = now or datetime.datetime.now(datetime.UTC)
    midnight = datetime.datetime.combine(now.date() + datetime.timedelta(days=1), datetime.time(), datetime.UTC)
    minutes = max(1, math.ceil((midnight - now).total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


_WHAT = {
    "person_turns": ("your", "turns", "{:,.0f} turns"),
    "person_tokens": ("your", "tokens", "{:,.0f} tokens"),
    "person_cost": ("your", "cost", "${:,.2f}"),
    "daily_turns": ("this deployment's", "turns", "{:,.0f} turns"),
    "daily_tokens": ("this deployment's", "tokens", "{:,.0f} tokens"),
    "daily_cost": ("this deployment's", "cost", "${:,.2f}"),
}


def refusal(limits: Limits, totals: Mapping[str, float], now: datetime.datetime | None = None) -> str | None:
    """Why a request may not go, given today's totals with it included (`Store.charge`), or None."""
    for name, (whose, kind, shown) in _WHAT.items():
        cap = getattr(limits, name)
        key = f"person_{kind}" if name.startswith("person") else kind
        if cap is not None and totals[key] > cap:
            return (
                f"That would pass {whose} daily limit of {shown.format(cap)} on this deployment; "
                f"it resets at midnight UTC, in {resets_in(now)}."
            )
    return None


def estimate(request: Mapping[str, Any], model: str, prices: Mapping[str, usage.Price]) -> tuple[int, float | None]:
    """A request's tokens and cost before it is sent: what it carries by characters, and its output cap
    (or REPLY_TOKENS) for the reply."""
    sent = math.ceil(len(json.dumps(request, ensure_ascii=False)) / CHARS_PER_TOKEN)
    cap = request.get("max_output_tokens") or request.get("max_completion_tokens") or request.get("max_tokens")
    reply = int(cap) if isinstance(cap, int) and cap > 0 else REPLY_TOKENS
    return sent + reply, usage.cost(model, sent, reply, dict(prices))


class Meter:
    """Counts one person's requests against the deployment's limits, in the log at `store`'s path."""

    def __init__(self, store: Store, person: str, limits: Limits) -> None:
        self.store = store
        self.person = person
        self.limits = limits

    def charge(self, request: Mapping[str, Any], model: str) -> int:
        """Count a request as it starts; raises LimitReached (one sentence) when it would pass a limit."""
        tokens, cost = estimate(request, model, usage.current_prices())
        try:
            return self.store.charge(self.person, today(), tokens, cost, lambda totals: refusal(self.limits, totals))
        except ValueError as exc:
            raise LimitReached(Problem("limit_reached", str(exc))) from None

    def settle(self, charge_id: int, model: str, reported: Mapping[str, int] | None) -> None:
        """Put what the server reported in place of the estimate (nothing reported: it stays)."""
        if not reported:
            return
        inp, out = reported.get("input_tokens"), reported.get("output_tokens")
        if inp is None and out is None:
            return
        cost = usage.cost(model, inp, out, usage.current_prices())
        self.store.settle(charge_id, self.person, (inp or 0) + (out or 0), cost)

    def uncharge(self, charge_id: int) -> None:
        """Take back a request upstream refused before doing anything: it counts for nothing."""
        self.store.uncharge(charge_id, self.person)


def meter_for(
    store: Store, key_source: str | None, person: str, secrets: Mapping[str, Any], *, keyless_server: bool = False
) -> Meter | None:
    """The meter a session's requests go through, or None when nothing is limited: no `[limits]`, or a
    key the visitor typed (theirs: they pay) for a provider that takes keys. On a `keyless_server` (the
    deployment's own server, configured with a base URL and no key) whatever is typed as a key changes
    nothing of who pays: still limited. `person`: the signed-in email, else the browser session (without
    sign-in a person is a session; a reload starts a new one, which README says). ValueError (one
    sentence) for limits that cannot be read."""
    caps = Limits.from_secrets(secrets)
    if not caps.any or (key_source == "sidebar" and not keyless_server):
        return None
    return Meter(store, person, caps)


def standing(meter: Meter, now: datetime.datetime | None = None) -> str:
    """Where this person stands today against the limits that apply to them, in one line for the
    sidebar: "Today: 3 of 20 turns · $0.12 of $2.00 · resets in 5 h 3 min"."""
    spent = meter.store.spent(meter.person, today(now))
    caps = meter.limits
    parts = []
    if caps.person_turns is not None:
        parts.append(f"{spent['person_turns']:,} of {caps.person_turns:,} turns")
    if caps.person_tokens is not None:
        parts.append(f"{spent['person_tokens']:,} of {caps.person_tokens:,} tokens")
    if caps.person_cost is not None:
        parts.append(f"${spent['person_cost']:,.2f} of ${caps.person_cost:,.2f}")
    if not parts:  # only the deployment's caps apply
        parts.append(f"{spent['turns']:,} turns on this deployment")
    return f"Today: {' · '.join(parts)} · resets in {resets_in(now)}"
