"""What a preset is: one named network configuration and every fact the export needs about it.

A preset is data (class path + kwargs + facts), so describing it needs no weights and exporting
it never guesses. Presets are registered in emzoo.registry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Literal

Task = Literal["lsd", "synful", "synister", "micron"]
Shape3 = tuple[int, int, int]


@dataclass(frozen=True)
class Preprocessing:
    """Raw intensities → network input, as the originals did: x · gain + offset.

    The originals normalise uint8 raw to [0, 1] then map to [-1, 1]: gain 2/255, offset -1.
    """

    gain: float = 2.0 / 255.0
    offset: float = -1.0


@dataclass(frozen=True)
class Citation:
    text: str
    doi: str


@dataclass(frozen=True)
class Preset:
    name: str
    task: Task
    variant: str  # e.g. "fib25-mtlsd", "cremi-st", "fafb"
    description: str
    model_class: str  # import path "emzoo.nets.unet.LsdNet", the class records its init kwargs
    kwargs: dict[str, Any]
    in_channels: int
    input_channel_names: tuple[str, ...]
    output_channel_names: tuple[str, ...]  # channels of the single exported output, in order
    voxel_size_nm: tuple[float, float, float]  # (z, y, x)
    valid_min: Shape3  # smallest valid input (z, y, x)
    valid_step: Shape3  # valid inputs are valid_min + k * valid_step
    train_input_shape: Shape3
    predict_input_shape: Shape3
    # dense: output (b, c, z, y, x) smaller than the input by 2·halo; classes: output (b, c)
    output_kind: Literal["dense", "classes"] = "dense"
    preprocessing: Preprocessing = field(default_factory=Preprocessing)
    # facts the exporter and server read: affinity offsets, class names, vector units, ...
    semantics: dict[str, Any] = field(default_factory=dict)
    citations: tuple[Citation, ...] = ()
    paper: bool = False  # a configuration from the original papers (vs a small demo preset)

    def model_cls(self) -> type:
        module, _, name = self.model_class.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def build(self, **overrides: Any):
        """Instantiate the network (training form: may return several heads)."""
        return self.model_cls()(**{**self.kwargs, **overrides})
