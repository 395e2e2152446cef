"""--checkpoint FILE → (state dict matching the preset's network, training record or None).

Accepted: a bare state dict, or a dict with ``model_state_dict`` (what gunpowder's torch Train
node writes) plus optional ``preset`` (name) and ``training`` (record, see bundle schema) keys.
Loaded with ``weights_only=True``: a checkpoint is untrusted input and must not run code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from emzoo.errors import InvalidInput
from emzoo.export.schema import check_against_schema
from emzoo.preset import Preset


@dataclass(frozen=True)
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    training: dict[str, Any] | None
    path: Path


def _strip_prefix(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # DistributedDataParallel / torch.compile wrappers prefix every key
    for prefix in ("module.", "_orig_mod."):
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix) :]: v for k, v in sd.items()}
    return sd


def load_checkpoint(path: Path, preset: Preset) -> Checkpoint:
    if not path.is_file():
        raise InvalidInput(
            f"checkpoint {path} does not exist", hint="pass an existing torch checkpoint file"
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds (pickle, zip, unsupported global)
        raise InvalidInput(
            f"cannot read checkpoint {path}: {err.__class__.__name__}: {str(err).splitlines()[0]}",
            hint="pass a file written by torch.save(model.state_dict()) or a gunpowder checkpoint",
        ) from None
    if not isinstance(obj, dict):
        raise InvalidInput(
            f"checkpoint {path} holds a {type(obj).__name__}, not a dict", hint="save a state dict"
        )
    training = None
    if "model_state_dict" in obj:
        named = obj.get("preset")
        if named is not None and named != preset.name:
            raise InvalidInput(
                f"checkpoint {path} was trained for preset {named!r}, not {preset.name!r}",
                hint=f"export with --preset {named}",
            )
        training = obj.get("training")
        if training is not None:
            # fail before the slow export steps, naming the bad key
            check_against_schema(
                training, what=f"checkpoint {path}: training", definition="training"
            )
        sd = obj["model_state_dict"]
    else:
        sd = obj
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in sd.items()):
        raise InvalidInput(
            f"checkpoint {path} is not a state dict (keys must be names, values tensors)",
            hint="checkpoint keys seen: " + ", ".join(list(map(str, obj))[:8]),
        )
    return Checkpoint(state_dict=_strip_prefix(dict(sd)), training=training, path=path)


def check_matches(model: torch.nn.Module, ckpt: Checkpoint, preset: Preset) -> None:
    """Raise naming every missing, unexpected and wrongly shaped key."""
    expected = model.state_dict()
    got = ckpt.state_dict
    missing = [k for k in expected if k not in got]
    unexpected = [k for k in got if k not in expected]
    shapes = [
        f"{k}: checkpoint {tuple(got[k].shape)} vs preset {tuple(expected[k].shape)}"
        for k in expected
        if k in got and tuple(got[k].shape) != tuple(expected[k].shape)
    ]
    if not (missing or unexpected or shapes):
        return

    def lst(items: list[str]) -> str:
        return ", ".join(items[:6]) + (f" (+{len(items) - 6} more)" if len(items) > 6 else "")

    parts = []
    if missing:
        parts.append(f"{len(missing)} missing: {lst(missing)}")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected: {lst(unexpected)}")
    if shapes:
        parts.append(f"{len(shapes)} with other shapes: {lst(shapes)}")
    raise InvalidInput(
        f"checkpoint {ckpt.path} does not fit preset {preset.name!r}: " + "; ".join(parts),
        hint="pick the preset the checkpoint was trained with (`emzoo presets` lists them)",
    )
