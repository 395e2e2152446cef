"""Checkpoints: ``<out>/checkpoints/checkpoint_<iteration>.pt``, a torch dict (gunpowder's keys
``model_state_dict``/``optimizer_state_dict`` plus what resuming and the bundle need)."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emzoo.errors import InvalidInput

_NAME = re.compile(r"checkpoint_(\d+)\.pt$")


def checkpoint_path(out: Path, iteration: int) -> Path:
    return Path(out) / "checkpoints" / f"checkpoint_{iteration:08d}.pt"


def rng_states() -> dict[str, Any]:
    """Every RNG's state in types ``torch.load(weights_only=True)`` accepts (tensors, ints,
    tuples), so the exporter can read the checkpoint without unpickling code."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"].cpu())
    n = states["numpy"]
    keys = n["keys"].cpu().numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached_gaussian"]))
    version, internal, gauss = states["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([t.cpu() for t in states["cuda"]])


def save_checkpoint(
    out: Path,
    iteration: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    preset: str,
    record: dict,
    training: dict | None = None,
) -> Path:
    path = checkpoint_path(out, iteration)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(
        {
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "iteration": iteration,
            "preset": preset,
            "rng_states": rng_states(),
            "training_record": record,
            # the bundle's training section (spec/bundle.schema.json), read by `emzoo export`
            "training": training,
        },
        tmp,
    )
    tmp.replace(path)  # a crash mid-write never leaves a truncated "latest" checkpoint
    return path


def latest_checkpoint(out: Path) -> Path | None:
    folder = Path(out) / "checkpoints"
    found = [
        (int(m.group(1)), p) for p in folder.glob("checkpoint_*.pt") if (m := _NAME.search(p.name))
    ]
    return max(found)[1] if found else None


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # any unreadable file is the same problem for the user
        raise InvalidInput(
            f"cannot read checkpoint {path}: {err}",
            hint="point --out at a folder written by `emzoo train`, or drop --resume",
        ) from err
    for key in ("model_state_dict", "optimizer_state_dict", "iteration"):
        if key not in ckpt:
            raise InvalidInput(
                f"checkpoint {path} has no {key!r}", hint="it was not written by emzoo train"
            )
    return ckpt
