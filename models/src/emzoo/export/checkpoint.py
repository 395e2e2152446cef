"""--checkpoint FILE → (state dict matching the preset's network, training record or None).

Accepted: a bare state dict, or a dict with ``model_state_dict`` (what gunpowder's torch Train
node writes) plus optional ``preset`` (name) and ``training`` (record, see bundle schema) keys;
where weights seed a net (``--stage1``, ``emzoo train --init-from``) also a bundle folder (its
``state_dict.pt``). Loaded with ``weights_only=True``: a checkpoint is untrusted input and must
not run code.
"""

from __future__ import annotations

import hashlib
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


def _name(preset: Preset | str) -> str:
    return preset if isinstance(preset, str) else preset.name


def load_checkpoint(path: Path, preset: Preset | str) -> Checkpoint:
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
        if named is not None and named != _name(preset):
            raise InvalidInput(
                f"checkpoint {path} was trained for preset {named!r}, not {_name(preset)!r}",
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


def check_matches(model: torch.nn.Module, ckpt: Checkpoint, preset: Preset | str) -> None:
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
        f"checkpoint {ckpt.path} does not fit preset {_name(preset)!r}: " + "; ".join(parts),
        hint="pick the preset the checkpoint was trained with (`emzoo presets` lists them)",
    )


def weights_file(path: Path, flag: str) -> Path:
    """A checkpoint or state-dict file as given, or a bundle folder's ``state_dict.pt``."""
    path = Path(path)
    if path.is_dir():
        if not (path / "state_dict.pt").is_file():
            raise InvalidInput(
                f"{flag} {path} is a folder without state_dict.pt",
                hint="pass an emzoo bundle folder, or a checkpoint or state-dict file",
            )
        return path / "state_dict.pt"
    return path


def load_weights_into(
    model: torch.nn.Module, path: Path, preset: Preset | str, flag: str
) -> dict[str, str]:
    """Loads the weights at ``path`` (file or bundle folder) into ``model`` after checking that
    every key and shape fits; returns where they came from (path, file, sha256) for records."""
    file = weights_file(path, flag)
    ckpt = load_checkpoint(file, preset)
    check_matches(model, ckpt, preset)
    model.load_state_dict(ckpt.state_dict)
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    return {"path": str(path), "file": str(file), "sha256": digest}
