"""Check request bodies against the official OpenAPI spec (../shared/spec), when it is present.

The spec is OpenAPI 3.1, whose schemas are JSON Schema 2020-12, so `jsonschema` validates a body
against `components/schemas/...` directly. The document is loaded and indexed once per process.
"""

from __future__ import annotations

import json
import os
import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
_URI = "urn:openai-openapi"
# The spec writes its tagged unions as `oneOf` whose branches overlap (an input message is both an
# EasyInputMessage and an Item), which the API itself resolves by the `type` tag. Strict `oneOf`
# would refuse valid requests, so it is checked as `anyOf`: a body must still match some branch.
_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"oneOf": jsonschema.Draft202012Validator.VALIDATORS["anyOf"]}
)
_lock = threading.Lock()


def spec_path() -> Path | None:
    """$OPENAI_SPEC, else ../shared/spec/openai-openapi.json (or .yaml) beside the repository."""
    candidates = []
    if os.environ.get("OPENAI_SPEC"):
        candidates.append(Path(os.environ["OPENAI_SPEC"]))
    for base in (ROOT.parent / "shared" / "spec", ROOT / "shared" / "spec"):
        candidates += [base / "openai-openapi.json", base / "openai-openapi.yaml"]
    return next((p for p in candidates if p.is_file()), None)


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(_URI, resource)
        self._routes: list[tuple[str, re.Pattern[str], Any]] = []
        for template, item in document.get("paths", {}).items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, operation in item.items():
                if isinstance(operation, dict):
                    self._routes.append((method.upper(), pattern, operation))
        self._validators: dict[str, jsonschema.protocols.Validator] = {}

    def request_schema(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The JSON request body schema of the operation serving `path` (without /v1), if any."""
        for m, pattern, operation in self._routes:
            if m == method and pattern.match(path):
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if schema is None:
                    return None
                return operation.get("operationId", f"{method} {path}"), schema
        return None

    def problems(self, method: str, path: str, body: Any) -> list[str]:
        """Every way `body` breaks the spec for this operation; [] when it is fine or not covered."""
        found = self.request_schema(method, path)
        if found is None:
            return []
        operation_id, schema = found
        with _lock:
            validator = self._validators.get(operation_id)
            if validator is None:
                # Refs inside the operation's schema point into the document; resolve them from there.
                wrapped = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": _URI + "#op", **schema}
                wrapped = json.loads(json.dumps(wrapped).replace('"$ref": "#/', f'"$ref": "{_URI}#/'))
                validator = _Validator(wrapped, registry=self.registry)
                self._validators[operation_id] = validator
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        return [f"{operation_id}: {_where(e)}: {e.message[:300]}" for e in errors]


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(body)"


@cache
def load() -> Spec | None:
    path = spec_path()
    if path is None:
        return None
    if path.suffix == ".json":
        document = json.loads(path.read_text(encoding="utf-8"))
    else:
        import yaml  # only when the JSON copy is missing

        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Spec(document)
