"""Catch a network whose output stopped depending on its input.

A learning rate too high for a classifier with small fully connected layers can drive every
ReLU of a layer below zero within a few hundred steps (seen with synister-small at 10x the
originals' rate). From then on the output is the same for every input, no gradient reaches
the layers below, and the loss sits at the class prior's entropy forever: the run looks
alive but cannot recover. The trainer asks this watch at every log step and warns once.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

CONSTANT_STD = 1e-6  # spread (std over batch and space) below which an output counts as constant


def output_spread(heads: Mapping[str, Tensor]) -> float:
    """The largest per-channel std over batch and spatial positions among all heads."""
    spread = 0.0
    for h in heads.values():
        h = h.detach().float()
        if h.ndim < 2 or h.numel() <= h.shape[1]:
            continue  # one value per channel: nothing to compare
        flat = h.transpose(0, 1).reshape(h.shape[1], -1)
        spread = max(spread, float(flat.std(dim=1).max()))
    return spread


class ConstantOutputWatch:
    """Warns when the output has been constant at ``patience`` log steps in a row."""

    def __init__(self, patience: int = 5) -> None:
        self.patience = patience
        self.streak = 0
        self.warned_at: int | None = None

    def update(self, step: int, heads: Mapping[str, Tensor], lr: float) -> str | None:
        if output_spread(heads) >= CONSTANT_STD:
            self.streak = 0
            return None
        self.streak += 1
        if self.streak < self.patience or self.warned_at is not None:
            return None
        self.warned_at = step
        return (
            f"warning: at iteration {step} the network's output has been the same for every "
            f"input over {self.patience} log steps (dead ReLUs): it cannot recover. Restart "
            f"from an earlier checkpoint or from scratch with a lower --lr (now {lr:g})."
        )
