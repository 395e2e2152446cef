"""Write held-out metrics into a bundle's training record (bundle.yaml only: it is not in the
sha256 list, so the other files stay valid); the result is re-validated against the schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emzoo.errors import InvalidInput
from emzoo.export import bundle_yaml
from emzoo.export.validate import validate_bundle


def write_held_out_metrics(bundle_dir: str | Path, report: dict[str, Any]) -> dict[str, Any]:
    folder = Path(bundle_dir)
    bundle = validate_bundle(folder, expect_id=False)
    training = bundle.get("training")
    if not training:
        raise InvalidInput(
            f"{folder} has no training record (an untrained export): nothing to attach metrics to",
            hint="export trained weights with `emzoo export --checkpoint RUN/checkpoints/...pt`",
        )
    training["held_out_metrics"] = dict(report["metrics"])
    tuned = report.get("tuned")
    if tuned:
        settings = tuned.get("settings") or {tuned["option"]: tuned["value"]}
        training["postprocessing"] = {k: float(v) for k, v in settings.items()}
    else:
        training.pop("postprocessing", None)  # the metrics no longer come from tuned settings
    training["data"]["held_out"] = report["held_out"]
    settings = ", ".join(f"{k}={v}" for k, v in report["options"].items() if k != "threads")
    note = f"held-out metrics by emzoo evaluate ({settings})"
    tuned = report.get("tuned")
    if tuned:
        chosen = ", ".join(f"{k} {v}" for k, v in (tuned.get("settings") or {}).items())
        note += f" ({chosen or tuned['option']} chosen by {tuned['metric']} on {tuned['on']})"
    notes = [
        n
        for n in training.get("notes", "").split("; ")
        if n and not n.startswith("held-out metrics by")
    ]
    training["notes"] = "; ".join([*notes, note])
    path = folder / "bundle.yaml"
    tmp = folder.parent / f".{folder.name}.bundle.yaml.tmp"
    bundle_yaml.dump(bundle, tmp)
    original = path.read_text()
    tmp.replace(path)
    try:
        return validate_bundle(folder, expect_id=False)
    except InvalidInput:
        path.write_text(original)  # leave the bundle as it was
        raise
