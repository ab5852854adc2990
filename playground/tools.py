"""Function calls: check a call's arguments against its schema, and the registry of Python handlers.

Handlers are plain, safe functions registered by name: no eval, no shell, no network. A function
without a handler is answered by hand in the chat.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from playground.assistant import TOO_DEEP, AssistantConfig, parse_json_object

Handler = Callable[[dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


# IANA names: at most a few slash-separated parts of letters, digits, _ + - (the longest is 32 characters).
_ZONE_RE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_ZONE_MAX = 64


@handler("get_current_time")
def current_time(args: dict[str, Any]) -> dict[str, str]:
    zone = str(args.get("timezone") or "UTC")
    unknown = f"Unknown time zone {_shown(zone)}; use an IANA name such as Europe/Paris."
    if len(zone) > _ZONE_MAX or not _ZONE_RE.fullmatch(zone):
        raise ValueError(unknown)
    try:
        now = dt.datetime.now(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError names the file it tried, which is where the server is installed: never shown.
        raise ValueError(unknown) from None
    return {"timezone": zone, "iso": now.isoformat(timespec="seconds"), "weekday": now.strftime("%A")}


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


_UNITS: dict[str, tuple[str, float]] = {
    # unit: (dimension, factor to the base unit)
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "cm": ("length", 0.01),
    "mi": ("length", 1609.344),
    "ft": ("length", 0.3048),
    "in": ("length", 0.0254),
    "kg": ("mass", 1.0),
    "g": ("mass", 0.001),
    "lb": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "l": ("volume", 1.0),
    "ml": ("volume", 0.001),
    "gal": ("volume", 3.785411784),
}


def _number(value: Any) -> float:
    """The argument as a finite float, or a sentence the model can act on."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("value must be a number.")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError("value is too large to convert.") from None
    if not math.isfinite(number):
        raise ValueError("value must be a finite number.")
    return number


@handler("convert_units")
def convert_units(args: dict[str, Any]) -> dict[str, Any]:
    value, source, target = args.get("value"), str(args.get("from", "")), str(args.get("to", ""))
    value = _number(value)
    if source in ("c", "f") or target in ("c", "f"):
        if {source, target} != {"c", "f"}:
            raise ValueError("Temperatures convert between c and f only.")
        result = value * 9 / 5 + 32 if source == "c" else (value - 32) * 5 / 9
        return {"value": round(_finite(result), 4), "unit": target}
    if source not in _UNITS or target not in _UNITS:
        raise ValueError(f"Known units: {', '.join(sorted(_UNITS))}, c, f.")
    if _UNITS[source][0] != _UNITS[target][0]:
        raise ValueError(f"Cannot convert {_UNITS[source][0]} to {_UNITS[target][0]}.")
    result = value * _UNITS[source][1] / _UNITS[target][1]
    return {"value": round(_finite(result), 6), "unit": target}


def _finite(result: float) -> float:
    if not math.isfinite(result):
        raise ValueError("The result is too large to represent.")
    return result


def check_arguments(config: AssistantConfig, name: str, arguments: str) -> list[str]:
    """Why a call's arguments do not fit its function's schema; empty when they do."""
    fn = next((f for f in config.functions if f.name == name), None)
    if fn is None:
        return [f"The model called {name!r}, which this assistant does not define."]
    args, problem = parse_json_object(arguments or "{}")
    if problem:
        return [f"Arguments: {problem}"]
    schema, _ = parse_json_object(fn.parameters)
    validator = jsonschema.Draft202012Validator(schema or {})
    try:
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '(arguments)'}: {e.message}"
            for e in sorted(validator.iter_errors(args), key=lambda e: list(e.absolute_path))
        ]
    except RecursionError:
        return [f"Arguments: {TOO_DEEP}"]


class HandlerResult(NamedTuple):
    """A handler's output text (always valid JSON when a handler ran) and whether it succeeded."""

    output: str
    ok: bool

    @property
    def problem(self) -> str | None:
        return None if self.ok else handler_problem(self.output) or self.output


def run_handler(name: str, arguments: str) -> HandlerResult:
    """Run the registered handler. Whatever goes wrong becomes an output the model can read, never a
    traceback: `{"error": "..."}` with `ok` False, so the page can flag it too."""
    fn = HANDLERS.get(name)
    if fn is None:
        return HandlerResult(_error(f"No handler is registered for {name!r}."), False)
    try:
        args = json.loads(arguments or "{}")
        if not isinstance(args, dict):
            raise ValueError("arguments must be a JSON object")
        # allow_nan=False: Infinity/NaN are not JSON, and the model would get text no parser reads.
        return HandlerResult(json.dumps(fn(args), ensure_ascii=False, allow_nan=False), True)
    except (ValueError, TypeError, KeyError) as e:
        return HandlerResult(_error(str(e) or type(e).__name__), False)
    except Exception as e:  # a handler bug must not take the page down; the model and the user are told
        return HandlerResult(_error(f"The {name} handler failed ({type(e).__name__}: {e})"), False)


def _error(message: str) -> str:
    return json.dumps({"error": message[:1000]}, ensure_ascii=False)


def handler_problem(output: str | None) -> str | None:
    """The error a handler reported in its output (`{"error": ...}`), or None for a normal output."""
    try:
        value = json.loads(output or "")
    except ValueError:
        return None
    if isinstance(value, dict) and set(value) == {"error"} and isinstance(value["error"], str):
        return value["error"]
    return None
