"""Synister's 3D VGG (funlib.learn.torch Vgg3D) and the exported Synister classifier.

Self-contained on purpose: this file imports only torch and the standard library, because the
exporter copies it verbatim as a bundle's ``architecture.py`` (bioimage.io pytorch_state_dict).

Layer layout and parameter names (``features.{i}``, ``classifier.{i}``) are those of
funlib.learn.torch's Vgg3D, so the original Synister checkpoints' model_state_dict loads as is.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

SYNISTER_CLASSES = ["gaba", "acetylcholine", "glutamate", "serotonin", "octopamine", "dopamine"]


class Vgg3D(nn.Module):
    """[Conv3d(3, pad 1) → BatchNorm3d → ReLU] x n per block, MaxPool3d, then 3 Linear layers.

    The classifier's input size is fixed by ``input_size``, so the net accepts exactly one
    spatial input size. ``fc_size`` is 4096 in the originals (configurable for small demos).
    Input (b, input_fmaps, z, y, x); output raw logits (b, output_classes).
    """

    def __init__(
        self,
        input_size: list[int] | None = None,
        fmaps: int = 12,
        downsample_factors: list[list[int]] | None = None,
        fmap_inc: list[int] | None = None,
        n_convolutions: list[int] | None = None,
        output_classes: int = 6,
        input_fmaps: int = 1,
        fc_size: int = 4096,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if input_size is None:
            input_size = [16, 160, 160]
        if downsample_factors is None:
            downsample_factors = [[1, 2, 2], [1, 2, 2], [1, 2, 2], [2, 2, 2]]
        downsample_factors = [[int(v) for v in f] for f in downsample_factors]
        blocks = len(downsample_factors)
        fmap_inc = [2] * blocks if fmap_inc is None else [int(v) for v in fmap_inc]
        n_convolutions = (
            [2] * blocks if n_convolutions is None else [int(v) for v in n_convolutions]
        )
        if len(fmap_inc) != blocks or len(n_convolutions) != blocks:
            raise ValueError("fmap_inc and n_convolutions need one entry per downsample factor")
        if min(n_convolutions) < 1:
            raise ValueError("every block needs at least one convolution")
        self.init_kwargs = {
            "input_size": [int(v) for v in input_size],
            "fmaps": fmaps,
            "downsample_factors": downsample_factors,
            "fmap_inc": fmap_inc,
            "n_convolutions": n_convolutions,
            "output_classes": output_classes,
            "input_fmaps": input_fmaps,
            "fc_size": fc_size,
            "dropout": dropout,
        }

        features: list[nn.Module] = []
        current_fmaps = input_fmaps
        size = [int(v) for v in input_size]
        for i, factor in enumerate(downsample_factors):
            for n in range(n_convolutions[i]):
                features += [
                    nn.Conv3d(current_fmaps if n == 0 else fmaps, fmaps, kernel_size=3, padding=1),
                    nn.BatchNorm3d(fmaps),
                    nn.ReLU(inplace=True),
                ]
            features.append(nn.MaxPool3d(factor))
            if any(s % f for s, f in zip(size, factor, strict=True)):
                raise ValueError(
                    f"block {i}: size {size} is not divisible by downsample factor {factor}; "
                    f"input_size must be a multiple of the product of all factors"
                )
            size = [s // f for s, f in zip(size, factor, strict=True)]
            current_fmaps = fmaps
            fmaps *= fmap_inc[i]
        self.features = nn.Sequential(*features)
        self.flat_features = current_fmaps * size[0] * size[1] * size[2]
        self.classifier = nn.Sequential(
            nn.Linear(self.flat_features, fc_size),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(fc_size, fc_size),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(fc_size, output_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.logits(x)

    def logits(self, x: Tensor) -> Tensor:
        f = self.features(x)
        # flatten in (c, z, y, x) order, as the original's view(b, -1)
        return self.classifier(f.reshape(f.shape[0], -1))


class SynisterNet(Vgg3D):
    """Synister: Vgg3D with class names; ``forward`` returns class probabilities (softmax).

    Classes in the originals' order: gaba, acetylcholine, glutamate, serotonin, octopamine,
    dopamine. ``forward_heads`` gives the raw logits (training form, for CrossEntropyLoss).
    """

    def forward_heads(self, x: Tensor) -> dict[str, Tensor]:
        return {"logits": self.logits(x)}

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.forward_heads(x)["logits"], dim=1)
