"""Augmentation for gunpowder pipelines: TorchAugment runs any kornia / batched-torch transform."""

from emzoo.augment.torch_augment import TorchAugment, resolve_device

__all__ = ["TorchAugment", "resolve_device"]
