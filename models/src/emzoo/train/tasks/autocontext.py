"""Autocontext (ACRLSD / ACLSD) stage-2 training: a frozen stage-1 LSD net feeds the trained net.

Originals §2.2: stage 1 = a trained LSD-only net run on a larger raw crop (FIB-25: 304³ → LSDs
200³, centre-cropped to 196³); stage 2 = a new U-Net on [raw centre-cropped to the LSD shape,
10 LSDs] (11 channels; ACLSD: the 10 LSDs only) → affinities, loss as the vanilla affinity net.
Stage 1 runs without gradients in eval mode and never enters the optimiser or the checkpoint:
the checkpoint holds stage 2's state dict only, so `emzoo export --checkpoint` reads it for the
stage-2 preset.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from emzoo.errors import InvalidInput
from emzoo.preset import Preset


def stage1_preset(preset: Preset) -> Preset:
    from emzoo.registry import get_preset

    name = preset.semantics.get("autocontext", {}).get("stage1_preset")
    if not name:
        raise InvalidInput(
            f"{preset.name} takes {preset.in_channels} input channels but names no stage-1 preset",
            hint="autocontext presets carry semantics.autocontext.stage1_preset",
        )
    return get_preset(name)


def stage1_input_shape(stage1: Preset, stage2_input) -> tuple[int, int, int]:
    """The smallest valid stage-1 input whose LSD output covers the stage-2 input."""
    from emzoo.nets.shapes import describe

    shape = []
    for d, want in enumerate(stage2_input):
        size = stage1.valid_min[d]
        while True:
            probe = list(stage1.valid_min)
            probe[d] = size
            if describe(stage1, tuple(probe))["output_shape"][d] >= want:
                break
            size += stage1.valid_step[d]
        shape.append(size)
    return tuple(shape)  # type: ignore[return-value]


def load_stage1(path: str | Path, stage1: Preset) -> nn.Module:
    """A stage-1 net from an `emzoo train` checkpoint, a state dict file, or a bundle folder
    (its ``state_dict.pt``); frozen and in eval mode."""
    from emzoo.export.checkpoint import load_weights_into

    net = stage1.build()
    load_weights_into(net, Path(path), stage1, "--stage1")  # checks preset name, keys, shapes
    net.eval().requires_grad_(False)
    return net


def centre_crop(x: Tensor, shape) -> Tensor:
    lo = [(s - t) // 2 for s, t in zip(x.shape[-3:], shape, strict=True)]
    return x[..., lo[0] : lo[0] + shape[0], lo[1] : lo[1] + shape[1], lo[2] : lo[2] + shape[2]]


class Autocontext(nn.Module):
    """raw (stage-1 input size) → frozen stage 1 → LSDs → [cropped raw, LSDs] → stage 2's heads.

    Only stage 2 is a registered submodule: ``parameters()`` and ``state_dict()`` are stage 2's
    (what the optimiser trains and the checkpoint stores); ``to()`` moves both; ``train()``
    keeps stage 1 in eval mode."""

    def __init__(
        self, stage2: nn.Module, stage1: nn.Module, input_shape, with_raw: bool = True
    ) -> None:
        """``input_shape``: stage 2's input (voxels); stage 1's LSDs are centre-cropped to it."""
        super().__init__()
        self.net = stage2
        # not a submodule: stays out of parameters(), state_dict() and DDP
        object.__setattr__(self, "stage1", stage1.eval().requires_grad_(False))
        self.input_shape = tuple(int(s) for s in input_shape)
        self.with_raw = with_raw
        self.init_kwargs = {"input_shape": list(self.input_shape), "with_raw": with_raw}

    def _apply(self, fn, recurse=True):
        super()._apply(fn, recurse)
        self.stage1._apply(fn, recurse)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        self.stage1.eval()
        return self

    def state_dict(self, *args, **kwargs):
        return self.net.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return self.net.load_state_dict(state_dict, strict=strict, assign=assign)

    def stage2_input(self, raw: Tensor) -> Tensor:
        with torch.no_grad():
            lsds = centre_crop(self.stage1.forward_heads(raw)["lsds"], self.input_shape)
        if not self.with_raw:
            return lsds
        return torch.cat([centre_crop(raw, self.input_shape), lsds], dim=1)

    def forward_heads(self, raw: Tensor) -> dict[str, Tensor]:
        return self.net.forward_heads(self.stage2_input(raw))

    def forward(self, raw: Tensor) -> Tensor:
        return self.net(self.stage2_input(raw))
