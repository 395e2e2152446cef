"""Training cost from the architecture: multiply-accumulates of one forward pass, counted on
PyTorch's meta device (shapes only, no memory), for presets too big to run here."""

from __future__ import annotations

import math

import torch
from torch import nn

_COUNTED = (nn.Conv3d, nn.ConvTranspose3d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def _macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    k = math.prod(module.kernel_size)
    if isinstance(module, (nn.ConvTranspose3d, nn.ConvTranspose2d)):
        # every input voxel scatters a kernel-sized block into all output channels
        return inp.numel() * (module.out_channels // module.groups) * k
    return out.numel() * (module.in_channels // module.groups) * k


def forward_macs(net: nn.Module, input_shape: tuple[int, ...], in_channels: int = 1) -> int:
    """MACs of one forward pass of ``net`` on a (1, C, *input_shape) input (net on meta)."""
    total = 0

    def hook(module, args, out):
        nonlocal total
        total += _macs(module, args[0], out)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, _COUNTED)]
    try:
        with torch.no_grad():
            x = torch.empty((1, in_channels, *input_shape), device="meta")
            fh = getattr(net, "forward_heads", None)
            (fh or net)(x)
    finally:
        for h in handles:
            h.remove()
    return total


def preset_training_flops(preset) -> int:
    """FLOPs of one training iteration at batch 1: forward + backward ≈ 3 forwards, 2 FLOPs/MAC."""
    with torch.device("meta"):
        net = preset.build()
    return 6 * forward_macs(net, tuple(preset.train_input_shape), preset.in_channels)
