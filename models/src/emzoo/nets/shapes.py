"""Shape and parameter arithmetic for the nets, without allocating weights.

Output shapes follow the U-Net per axis (valid convs, pools, transposed convs, crops) in plain
integers; parameter counts build the net on torch's "meta" device (no memory). Valid input
sizes are ``valid_min + k · valid_step`` per axis: every pool must divide its input (the
originals either raise or silently floor otherwise) and every map must keep >= 1 voxel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from emzoo.errors import InvalidInput

Shape3 = tuple[int, int, int]
_AXES = ("z", "y", "x")
_SEARCH_LIMIT = 10_000


@dataclass(frozen=True)
class UNetGeometry:
    """What decides a U-Net's shapes: factors, kernels, crop_to_factor (channels don't matter)."""

    downsample_factors: tuple[Shape3, ...]
    kernel_size_down: tuple[tuple[Shape3, ...], ...]
    kernel_size_up: tuple[tuple[Shape3, ...], ...]
    crop_to_factor: bool

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> UNetGeometry:
        """From a UNet/task-net kwargs dict; missing kernels default to two 3x3x3 per level."""
        factors = tuple(_triple(f) for f in kwargs["downsample_factors"])
        levels = len(factors) + 1
        down = kwargs.get("kernel_size_down") or [[3, 3]] * levels
        up = kwargs.get("kernel_size_up") or [[3, 3]] * (levels - 1)
        return cls(
            downsample_factors=factors,
            kernel_size_down=tuple(tuple(_triple(k) for k in ks) for ks in down),
            kernel_size_up=tuple(tuple(_triple(k) for k in ks) for ks in up),
            crop_to_factor=bool(kwargs.get("crop_to_factor", False)),
        )

    @property
    def levels(self) -> int:
        return len(self.downsample_factors) + 1

    def step(self) -> Shape3:
        return tuple(math.prod(f[d] for f in self.downsample_factors) for d in range(3))  # type: ignore[return-value]

    def axis_output(self, size: int, d: int) -> int:
        """Output size along axis ``d`` for input ``size``; raises ValueError saying what fails."""
        skips: list[int] = []
        s = size
        for level in range(self.levels):
            if level > 0:
                f = self.downsample_factors[level - 1][d]
                if s % f:
                    raise ValueError(
                        f"downsampling {level - 1}->{level}: size {s} is not divisible by the factor {f}"
                    )
                s //= f
            s -= sum(k[d] - 1 for k in self.kernel_size_down[level])
            if s < 1:
                raise ValueError(f"level {level}: the left convolutions leave {s} voxels")
            skips.append(s)
        g = skips[-1]
        for level in range(self.levels - 2, -1, -1):
            g *= self.downsample_factors[level][d]
            crop = sum(k[d] - 1 for k in self.kernel_size_up[level])
            if self.crop_to_factor:
                factor = math.prod(f[d] for f in self.downsample_factors[level:])
                g = ((g - crop) // factor) * factor + crop
                if g <= crop:
                    raise ValueError(
                        f"level {level}: too small for crop_to_factor (factor {factor})"
                    )
            if g > skips[level]:
                raise ValueError(f"level {level}: upsampled map {g} is larger than the skip")
            g -= crop
            if g < 1:
                raise ValueError(f"level {level}: the right convolutions leave {g} voxels")
        return g

    def output_shape(self, shape: Shape3) -> Shape3:
        problems = []
        out = []
        for d in range(3):
            try:
                out.append(self.axis_output(shape[d], d))
            except ValueError as err:
                problems.append(f"{_AXES[d]}={shape[d]}: {err}")
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(out)  # type: ignore[return-value]

    def valid_min(self) -> Shape3:
        mins = []
        for d in range(3):
            for s in range(1, _SEARCH_LIMIT):
                try:
                    self.axis_output(s, d)
                except ValueError:
                    continue
                mins.append(s)
                break
            else:
                raise ValueError(f"no valid input size below {_SEARCH_LIMIT} along {_AXES[d]}")
        return tuple(mins)  # type: ignore[return-value]


def _triple(k: int | list[int] | tuple[int, ...]) -> Shape3:
    if isinstance(k, int):
        return (k, k, k)
    t = tuple(int(v) for v in k)
    if len(t) != 3:
        raise ValueError(f"expected 3 values (z, y, x), got {k!r}")
    return t  # type: ignore[return-value]


def nearest_valid(size: int, vmin: int, step: int) -> list[int]:
    """Valid sizes next to ``size`` (the one below, if any, and the one at or above)."""
    if step == 0 or size <= vmin:
        return [vmin]
    k = (size - vmin) // step
    below = vmin + k * step
    return [below] if below == size else [below, below + step]


def _is_classifier(preset) -> bool:
    return preset.output_kind == "classes"


def geometry(preset) -> UNetGeometry:
    return UNetGeometry.from_kwargs(preset.kwargs)


def check_input_shape(preset, shape) -> Shape3:
    """Returns the (z, y, x) output shape (or (classes,)) for a valid input; else InvalidInput.

    The error names each failing axis and why, and the hint lists the nearest valid sizes.
    """
    shape = tuple(int(v) for v in shape)
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidInput(
            f"input shape must be 3 positive sizes (z, y, x), got {shape}",
            hint=f"e.g. --input-shape {','.join(map(str, preset.train_input_shape))}",
        )
    vmin, step = preset.valid_min, preset.valid_step
    if _is_classifier(preset):
        if shape != tuple(vmin):
            raise InvalidInput(
                f"{preset.name} accepts exactly one input shape {tuple(vmin)} (its classifier "
                f"has a fixed input size), got {shape}",
                hint=f"use --input-shape {','.join(map(str, vmin))}",
            )
        n = len(preset.output_channel_names)
        return (n,)  # type: ignore[return-value]
    try:
        return geometry(preset).output_shape(shape)
    except ValueError as err:
        suggestions = [
            f"{axis}: {' or '.join(map(str, nearest_valid(s, m, st)))}"
            for axis, s, m, st in zip(_AXES, shape, vmin, step, strict=True)
            if (s - m) % st or s < m
        ]
        raise InvalidInput(
            f"input shape {shape} does not fit {preset.name}: {err}",
            hint=f"valid sizes per axis are min + k·step with min {tuple(vmin)} and step "
            f"{tuple(step)}; nearest valid: {', '.join(suggestions)}",
        ) from None


def valid_input(kwargs: dict[str, Any]) -> tuple[Shape3, Shape3]:
    """(valid_min, valid_step) for a U-Net task net's kwargs."""
    g = UNetGeometry.from_kwargs(kwargs)
    return g.valid_min(), g.step()


def build_meta(preset):
    """The preset's network on the meta device: real structure, no weight memory."""
    import torch

    with torch.device("meta"):
        return preset.build()


def parameter_count(preset) -> int:
    return sum(p.numel() for p in build_meta(preset).parameters())


def describe(preset, input_shape=None) -> dict[str, Any]:
    """The facts ``emzoo describe`` prints, computed without allocating weights."""
    shape = tuple(input_shape) if input_shape is not None else tuple(preset.train_input_shape)
    out = check_input_shape(preset, shape)
    dense = preset.output_kind == "dense"
    return {
        "preset": preset.name,
        "task": preset.task,
        "input_shape": list(shape),
        "output_shape": list(out),
        "output_kind": preset.output_kind,
        "output_channels": list(preset.output_channel_names),
        # context lost per side: output = input - 2·halo (dense nets only)
        "halo": [(i - o) // 2 for i, o in zip(shape, out, strict=True)] if dense else None,
        "parameters": parameter_count(preset),
        "valid_input": {"min": list(preset.valid_min), "step": list(preset.valid_step)},
        "voxel_size_nm": list(preset.voxel_size_nm),
    }
