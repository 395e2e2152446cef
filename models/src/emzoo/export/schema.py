"""spec/bundle.schema.json: where it lives and validating a bundle dict against it.

The schema sits in the repository's spec/ folder because the TypeScript side loads the same file;
EMZOO_BUNDLE_SCHEMA overrides the location for installs outside the repository.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from emzoo.errors import InvalidInput, MissingDependency


def schema_path() -> Path:
    env = os.environ.get("EMZOO_BUNDLE_SCHEMA")
    if env:
        return Path(env)
    # models/src/emzoo/export/schema.py → repository root is four folders up
    return Path(__file__).resolve().parents[4] / "spec" / "bundle.schema.json"


@cache
def load_schema() -> dict[str, Any]:
    path = schema_path()
    if not path.is_file():
        raise MissingDependency(
            f"bundle schema not found at {path}",
            hint="run from a checkout of the repository or set EMZOO_BUNDLE_SCHEMA to spec/bundle.schema.json",
        )
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def schema_errors(bundle: Any, definition: str | None = None) -> list[str]:
    """Every schema violation as 'path: message', sorted by path; empty when valid.

    ``definition`` checks against one entry of the schema's $defs (e.g. "training") instead.
    """
    schema = load_schema()
    if definition is not None:
        schema = {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = []
    for err in validator.iter_errors(bundle):
        # "not valid under any of the given schemas" hides the cause: name the branch's error
        while err.context:
            err = _deepest(err.context)
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        errors.append(f"{where}: {err.message}")
    return sorted(errors)


def _deepest(errors) -> jsonschema.ValidationError:
    # prefer the error deepest in the instance ('training/iterations'), not "is not of type null"
    return max(errors, key=lambda e: (len(e.absolute_path), e.validator != "type"))


def check_against_schema(
    bundle: Any, *, what: str = "bundle.yaml", definition: str | None = None
) -> None:
    errors = schema_errors(bundle, definition)
    if errors:
        listed = "\n  ".join(errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise InvalidInput(
            f"{what} does not match spec/bundle.schema.json:\n  {listed}{more}",
            hint="re-export the bundle with `emzoo export`, or fix the listed keys",
        )
