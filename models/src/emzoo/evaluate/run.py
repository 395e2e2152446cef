"""evaluate_bundle(bundle folder, held-out volume) → metrics, dispatched on the bundle's task."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.predict import Bundle, load_bundle


def _evaluator(task: str):
    from emzoo.evaluate.lsd import evaluate_lsd
    from emzoo.evaluate.micron import evaluate_micron
    from emzoo.evaluate.synful import evaluate_synful
    from emzoo.evaluate.synister import evaluate_synister

    return {
        "lsd": evaluate_lsd,
        "synful": evaluate_synful,
        "synister": evaluate_synister,
        "micron": evaluate_micron,
    }[task]


def held_out_description(volume: EMVolume, data: str | Path) -> str:
    attrs = volume.attrs or {}
    shape = "x".join(str(s) for s in volume.shape)
    voxel = "x".join(f"{v:g}" for v in volume.voxel_size)
    if attrs.get("generator") == "emzoo.data.synth":
        return (
            f"emzoo synth --mode {attrs.get('mode')} --seed {attrs.get('seed')} --shape "
            f"{','.join(str(s) for s in volume.shape)} ({voxel} nm)"
        )
    return f"volume {data} ({shape} voxels at {voxel} nm)"


def evaluate_volume(bundle: Bundle, volume: EMVolume, opts: EvalOptions) -> dict[str, float]:
    if tuple(np.round(volume.voxel_size, 6)) != tuple(np.round(bundle.voxel_size, 6)):
        raise InvalidInput(
            f"the volume's voxel size {tuple(volume.voxel_size)} nm differs from the model's "
            f"{bundle.voxel_size} nm",
            hint="evaluate on data at the model's voxel size (emzoo synth --mode)",
        )
    metrics = _evaluator(bundle.task)(bundle, volume, opts)
    return {k: float(v) for k, v in metrics.items()}


def evaluate_bundle(
    bundle_dir: str | Path,
    data: str | Path,
    opts: EvalOptions | None = None,
    tune_on: str | Path | None = None,
) -> dict[str, Any]:
    """Run the bundle's model.onnx over the volume at ``data`` and score it; returns a report
    {bundle, task, data, held_out, options, metrics, seconds[, tuned]}. With ``tune_on`` (another
    volume, e.g. the training one) the task's threshold is first chosen there
    (emzoo.evaluate.tune) and the report's ``tuned`` holds the sweep."""
    from emzoo.data import read_volume
    from emzoo.evaluate.tune import tune_options

    opts = opts or EvalOptions()
    start = time.perf_counter()
    bundle = load_bundle(bundle_dir)
    for flag, path in (("--data", data), ("--tune-on", tune_on)):
        if path is not None and not Path(path).exists():
            raise InvalidInput(f"{flag} {path} does not exist", hint="write one with `emzoo synth`")
    tuned = None
    if tune_on is not None:
        opts, tuned = tune_options(bundle, read_volume(tune_on), opts)
        if tuned is not None:
            tuned["on"] = held_out_description(read_volume(tune_on), tune_on)
    volume = read_volume(data)
    metrics = evaluate_volume(bundle, volume, opts)
    report = {
        "bundle": str(bundle_dir),
        "id": bundle.meta["id"],
        "task": bundle.task,
        "data": str(data),
        "held_out": held_out_description(volume, data),
        "options": opts.as_dict(),
        "metrics": metrics,
        "seconds": round(time.perf_counter() - start, 3),
    }
    if tuned is not None:
        report["tuned"] = tuned
    return report
