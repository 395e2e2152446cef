"""Generate the bioimage.io model JSON schemas (0.5 and 0.4) and the SPDX/tag lists from the
installed bioimageio.spec package, into spec/schemas/generated/.

Run: .venv/bin/python spec/scripts/generate-rdf-schema.py [--out DIR]
The bioimageio.spec version comes from models/pyproject.toml's `bioimageio` extra
(bioimageio.core==0.10.2, the version ilastik 1.4.2's tiktorch pins).
"""

from __future__ import annotations

import argparse
import json
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

from bioimageio.spec.model import v0_4, v0_5

OUT = Path(__file__).resolve().parent.parent / "schemas" / "generated"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def provenance() -> dict[str, str]:
    return {
        "bioimageio.spec": metadata.version("bioimageio.spec"),
        "bioimageio.core": metadata.version("bioimageio.core"),
        "pydantic": metadata.version("pydantic"),
    }


def model_schema(descr: Any, prov: dict[str, str]) -> dict[str, Any]:
    schema = descr.model_json_schema()
    fv = descr.implemented_format_version
    # $comment is a 2020-12 annotation, so ajv accepts it without an extra keyword.
    comment = f"Generated from bioimageio.spec {prov['bioimageio.spec']} ({descr.__module__}.ModelDescr, format {fv}) by spec/scripts/generate-rdf-schema.py; do not edit."
    return {
        "$schema": DIALECT,
        "$id": f"https://emzoo.local/schemas/bioimageio-model-{fv}.json",
        "$comment": comment,
        **schema,
    }


def write_json(out: Path, name: str, obj: Any) -> None:
    path = out / name
    path.write_text(
        json.dumps(obj, indent=None if name.startswith("spdx") else 1, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: %(default)s)"
    )
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    prov = provenance()
    write_json(out, "model-0.5.json", model_schema(v0_5.ModelDescr, prov))
    write_json(out, "model-0.4.json", model_schema(v0_4.ModelDescr, prov))

    static = files("bioimageio.spec").joinpath("static")
    spdx = json.loads(static.joinpath("spdx_licenses.json").read_text(encoding="utf-8"))
    ids = sorted(lic["licenseId"] for lic in spdx["licenses"] if not lic["isDeprecatedLicenseId"])
    deprecated = sorted(
        lic["licenseId"] for lic in spdx["licenses"] if lic["isDeprecatedLicenseId"]
    )
    write_json(
        out,
        "spdx-licenses.json",
        {
            "licenseListVersion": spdx.get("licenseListVersion"),
            "ids": ids,
            "deprecated": deprecated,
        },
    )
    tags = json.loads(static.joinpath("tag_categories.json").read_text(encoding="utf-8"))
    write_json(out, "tag-categories.json", tags)

    write_json(
        out,
        "provenance.json",
        {
            **prov,
            "model_format_versions": {
                "0.5": v0_5.ModelDescr.implemented_format_version,
                "0.4": v0_4.ModelDescr.implemented_format_version,
            },
            "generator": "spec/scripts/generate-rdf-schema.py",
        },
    )


if __name__ == "__main__":
    main()
