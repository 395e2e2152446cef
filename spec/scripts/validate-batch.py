"""Validate many bioimage.io descriptions with bioimageio.spec in one process (for the
differential test in test/spec/differential.test.ts).

Input (stdin): a JSON list of paths to rdf.yaml files or package folders/zips, or of
{"path": ..., "format_version": "latest"} to convert older formats first (as ilastik loads them).
Output (stdout): a JSON list of {"path", "status", "errors": [{"loc", "msg"}], "warnings": int},
in input order. status is the validation summary's ("failed", "valid-format", ...).
"""

from __future__ import annotations

import json
import sys
import warnings


def main() -> None:
    # Loguru and pydantic talk on stderr; keep stdout for the JSON answer.
    from bioimageio.spec import load_description
    from loguru import logger

    logger.remove()
    warnings.simplefilter("ignore")

    paths = json.load(sys.stdin)
    out = []
    for item in paths:
        path, fv = (
            (item, "discover") if isinstance(item, str) else (item["path"], item["format_version"])
        )
        try:
            descr = load_description(path, perform_io_checks=True, format_version=fv)
            summary = descr.validation_summary
            errors = [
                {"loc": "/".join(str(p) for p in e.loc), "msg": e.msg}
                for d in summary.details
                for e in d.errors
            ]
            n_warn = sum(len(d.warnings) for d in summary.details)
            out.append(
                {"path": path, "status": summary.status, "errors": errors, "warnings": n_warn}
            )
        except Exception as e:  # noqa: BLE001  # a crash is a verdict too: it could not be loaded
            out.append(
                {
                    "path": path,
                    "status": "crashed",
                    "errors": [{"loc": "", "msg": repr(e)}],
                    "warnings": 0,
                }
            )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
