"""Augmentation for gunpowder pipelines: TorchAugment runs any kornia / batched-torch transform;
``profiles`` says which augmentation nodes a task pipeline gets (light: the CLI imports it)."""

from __future__ import annotations

__all__ = ["TorchAugment", "resolve_device"]


def __getattr__(name: str):
    # torch and kornia load only when the node is used, not when the CLI reads the profile names
    if name in __all__:
        from emzoo.augment import torch_augment

        return getattr(torch_augment, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
