"""Output shapes and halo from the network itself, on the meta device (no memory, no compute)."""

from __future__ import annotations

import torch

from emzoo.errors import ExportCheckFailed
from emzoo.export.test_tensors import valid_spatial_shape
from emzoo.preset import Preset


def meta_output_shape(preset: Preset, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.device("meta"):
        net = preset.build().eval()
        with torch.no_grad():
            out = net(torch.empty(input_shape))
    return tuple(out.shape)


def halo(preset: Preset) -> tuple[int, int, int] | None:
    """Per-axis halo (z, y, x) of a dense network; None for a classifier.

    Checked at k = 0, 1, 2: the output must be input - 2·halo with the same halo each time, which
    is what the bundle (and a bioimage.io SizeReference) promises downstream.
    """
    if preset.output_kind != "dense":
        return None
    halos = []
    for k in range(3):
        spatial = valid_spatial_shape(preset, k)
        out = meta_output_shape(preset, (1, preset.in_channels, *spatial))
        if len(out) != 5:
            raise ExportCheckFailed(
                f"{preset.name}: dense output has shape {out}, expected (b, c, z, y, x)"
            )
        diff = [i - o for i, o in zip(spatial, out[2:], strict=True)]
        if any(d < 0 or d % 2 for d in diff):
            raise ExportCheckFailed(
                f"{preset.name}: input {spatial} → output {out[2:]} is not input - 2·halo",
                hint="the preset's valid_min/valid_step do not fit the network",
            )
        halos.append(tuple(d // 2 for d in diff))
    if len(set(halos)) != 1:
        raise ExportCheckFailed(
            f"{preset.name}: halo changes with the input size ({halos} at k = 0, 1, 2)",
            hint="valid_step must keep every crop aligned; fix the preset's valid sizes",
        )
    return halos[0]  # type: ignore[return-value]
