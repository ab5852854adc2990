"""Versions of an assistant: what changed between two, a readable diff, and restoring an old one."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from playground.assistant import AssistantConfig
from playground.store import Store, Version


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class VersionDiff:
    instructions: list[str]  # a unified diff of the instructions; empty when they are the same
    fields: list[FieldChange]  # every other field that differs, flattened (tools.functions[0].name)

    @property
    def empty(self) -> bool:
        return not self.instructions and not self.fields


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        if not value:
            return {prefix: "[]"}
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: "" if value is None else (json.dumps(value) if not isinstance(value, str) else value)}


def diff(before: AssistantConfig, after: AssistantConfig) -> VersionDiff:
    lines = list(
        difflib.unified_diff(
            before.instructions.splitlines(), after.instructions.splitlines(), "before", "after", lineterm=""
        )
    )
    a = _flatten({k: v for k, v in before.to_dict().items() if k != "instructions"})
    b = _flatten({k: v for k, v in after.to_dict().items() if k != "instructions"})
    fields = [FieldChange(k, a.get(k, "—"), b.get(k, "—")) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return VersionDiff(lines, fields)


def changed(before: AssistantConfig | None, after: AssistantConfig) -> list[str]:
    """The top-level settings that differ, in the user's words ("instructions", "functions")."""
    if before is None:
        return ["first version"]
    a, b = before.to_dict(), after.to_dict()
    return [k.replace("_", " ") for k in a if a[k] != b.get(k)]


def history(store: Store, assistant_id: int) -> list[dict[str, Any]]:
    """Each version, newest first, with its note and what changed since the one before."""
    versions = store.list_versions(assistant_id)
    rows = []
    for i, v in enumerate(versions):
        previous = versions[i + 1].config if i + 1 < len(versions) else None
        rows.append(
            {
                "id": v.id,
                "version": v.number,
                "saved": v.created_at,
                "note": v.note,
                "changed": ", ".join(changed(previous, v.config)) or "nothing",
                "model": v.config.model,
            }
        )
    return rows


def unsaved_draft(store: Store, assistant_id: int) -> AssistantConfig | None:
    """The draft, if it holds edits that are not the latest version."""
    draft = store.get_draft(assistant_id)
    latest = store.latest_version(assistant_id)
    if draft is None or (latest is not None and draft[0].to_json() == latest.config.to_json()):
        return None
    return draft[0]


def restore(store: Store, version: Version) -> tuple[Version, bool]:
    """Make an old version current again, as a new version (history is never rewritten).

    The draft becomes that version's configuration. Unsaved edits in the draft are kept first, as a
    version of their own; edits that do not validate cannot be a version, so the restore is refused
    (ValueError, one sentence) rather than overwrite them.
    """
    pending = unsaved_draft(store, version.assistant_id)
    if pending is not None:
        if pending.validate():
            raise ValueError(
                "The assistant's draft has unsaved edits with problems; fix or undo them in the Playground first, "
                "so restoring does not overwrite them."
            )
        note = f"unsaved draft, kept before restoring v{version.number}"
        store.save_version(version.assistant_id, pending, note=note)
    config = AssistantConfig.from_dict(version.config.to_dict())
    store.save_draft(version.assistant_id, config)
    return store.save_version(version.assistant_id, config, note=f"restored v{version.number}")


def restored_number(store: Store, version: Version) -> int:
    """The version number `restore` would leave current, without writing anything (a button's label).

    Mirrors restore: valid unsaved edits become a version first, and a config equal to the newest
    version is that version, not a new one.
    """
    latest = store.latest_version(version.assistant_id)
    number, current = (latest.number, latest.config.to_json()) if latest else (0, None)
    pending = unsaved_draft(store, version.assistant_id)
    if pending is not None and not pending.validate():
        number, current = number + 1, pending.to_json()
    return number if version.config.to_json() == current else number + 1
