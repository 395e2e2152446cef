"""What a task adapter hands the trainer: a model, a batch provider, and which head feeds which loss.

The trainer knows nothing about LSDs or synapses: a ``Task`` says "input ``raw`` goes into the
model; head ``lsds`` is compared with batch entry ``gt_lsds`` weighted by ``lsds_weights`` using
this function". Task pipelines (emzoo.train.tasks) build these from presets and data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from emzoo.train.config import AdamConfig

Batch = Mapping[str, Tensor]
# batch_for(iteration) → tensors with a leading batch axis; must be a pure function of the
# iteration (and of the seed/rank the provider was built with) so runs resume exactly.
BatchFn = Callable[[int], Batch]
LossFn = Callable[..., Tensor]  # fn(prediction, target[, weights]) → scalar


@dataclass(frozen=True)
class LossTerm:
    """One summand of the total loss: ``scale · fn(heads[head], batch[target], batch[weights])``."""

    head: str
    target: str
    fn: LossFn
    weights: str | None = None
    scale: float = 1.0
    name: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.head

    def __call__(self, heads: Mapping[str, Tensor], batch: Batch) -> Tensor:
        pred, target = heads[self.head], batch[self.target]
        if self.weights is None:
            return self.scale * self.fn(pred, target)
        return self.scale * self.fn(pred, target, batch[self.weights])


@dataclass
class Task:
    name: str  # e.g. the preset name
    model: nn.Module
    batches: BatchFn
    terms: list[LossTerm]
    optimizer: AdamConfig
    input_key: str = "raw"
    record: dict = field(default_factory=dict)  # facts for the training record (data, shapes)
    close: Callable[[], None] | None = None  # release the batch provider (gunpowder teardown)


class Heads(nn.Module):
    """Exposes a network's named heads through ``forward`` (what DDP hooks into).

    Nets with ``forward_heads`` (emzoo.nets) give a dict; a plain module's single output is
    named ``out``.
    """

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        fh = getattr(self.net, "forward_heads", None)
        if fh is not None:
            return fh(x)
        out = self.net(x)
        return out if isinstance(out, dict) else {"out": out}


def total_loss(
    terms: list[LossTerm], heads: Mapping[str, Tensor], batch: Batch
) -> tuple[Tensor, dict[str, Tensor]]:
    parts = {t.label: t(heads, batch) for t in terms}
    total = torch.stack(list(parts.values())).sum()
    return total, parts
