"""TF1 checkpoint → weights of a PyTorch port (a model instance, or a preset → saved file)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from emzoo.convert.tf_checkpoint import TfCheckpoint, iteration_of, read_checkpoint
from emzoo.convert.tf_mapping import MappingPlan, convert_array, plan_mapping
from emzoo.errors import InvalidInput


@dataclass
class Conversion:
    checkpoint: str  # resolved prefix
    plan: MappingPlan
    state_dict: dict[str, torch.Tensor]


def load_tf_weights(
    model: torch.nn.Module,
    checkpoint: str | os.PathLike[str] | TfCheckpoint,
    *,
    scope: str | None = None,
    head_names: Mapping[str, str] | None = None,
) -> Conversion:
    """Copy a TF1 checkpoint's weights into ``model`` (in place) and return what was mapped.

    ``scope`` overrides the detected outer variable scope; ``head_names`` maps a PyTorch head
    to the TF conv_pass name where the original named it differently (e.g. {"lsds": "foo"}).
    """
    ckpt = checkpoint if isinstance(checkpoint, TfCheckpoint) else read_checkpoint(checkpoint)
    target = model.state_dict()
    plan = plan_mapping(
        {k: tuple(v.shape) for k, v in target.items()},
        ckpt.shapes,
        scope=scope,
        head_names=head_names,
    )
    # The plan covers every state-dict entry exactly once (else it raised), so copying tensor
    # by tensor into the model's own storage is a strict load that never holds a second copy
    # of the weights (the FIB-25 nets have 264 M parameters).
    with torch.no_grad():
        for e in plan.entries:
            target[e.torch_key].copy_(torch.from_numpy(convert_array(ckpt.get(e.tf_name))))
    return Conversion(ckpt.prefix, plan, model.state_dict())


def convert_tf_checkpoint(
    preset: str,
    checkpoint: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    scope: str | None = None,
    head_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build ``preset``'s network, load the TF checkpoint into it and save a torch checkpoint.

    The file is {"model_state_dict", "preset", "source": "tf-checkpoint", …}; ``emzoo export
    --checkpoint`` reads it. Returns the saved dict's metadata (everything but the weights).
    """
    from emzoo.registry import get_preset  # lazy: the catalogue imports every net

    spec = get_preset(preset)
    ckpt = read_checkpoint(checkpoint)
    model = spec.build()
    conv = load_tf_weights(model, ckpt, scope=scope, head_names=head_names)
    meta: dict[str, Any] = {
        "preset": spec.name,
        "source": "tf-checkpoint",
        "tf_checkpoint": conv.checkpoint,
        "iteration": iteration_of(conv.checkpoint),
        "tf_scope": conv.plan.scope.rstrip("/"),
        "tf_decoder_naming": conv.plan.style,
        "tf_heads": dict(conv.plan.heads),
        "variable_map": conv.plan.variable_map(),
        "skipped_tf_variables": len(conv.plan.skipped),
        "other_tf_variables": conv.plan.outside_scope,
        "model_kwargs": dict(getattr(model, "init_kwargs", spec.kwargs)),
        "training": _training_record(conv),
    }
    out_path = Path(out)
    if out_path.is_dir():
        raise InvalidInput(f"--out {out_path} is a folder", hint="give a file name, e.g. model.pt")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model_state_dict": conv.state_dict, **meta}, out_path)
    return meta


def _training_record(conv: Conversion) -> dict[str, Any]:
    """The bundle's training record (spec/bundle.schema.json): trained by the originals' code.

    A TF checkpoint holds no losses, metrics or seed; only the iteration (from the file name)
    and the optimizer (from its slot variables) are known.
    """
    name = Path(conv.checkpoint).name
    scope = conv.plan.scope.rstrip("/") or "(none)"
    record: dict[str, Any] = {
        "data": {
            "description": f"trained by the original authors' TensorFlow 1 code; weights "
            f"converted from checkpoint {name} with emzoo convert-tf",
            "sources": [name],
        },
        "iterations": iteration_of(conv.checkpoint) or 0,
        "seed": None,
        "final_losses": {},
        "held_out_metrics": {},
        "notes": f"TF variable scope {scope}, {conv.plan.style} decoder naming, heads "
        + ", ".join(f"{k}<-{v}_0" for k, v in conv.plan.heads.items())
        + "; the checkpoint records no losses or metrics",
    }
    if any(n.endswith("/Adam") for n in conv.plan.skipped):
        record["optimizer"] = "Adam"
    return record
