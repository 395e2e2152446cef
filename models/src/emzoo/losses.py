"""Training losses of the originals (torch), each an nn.Module recording its init kwargs.

Every weighted loss reduces like TF1's ``tf.losses`` default SUM_BY_NONZERO_WEIGHTS (originals
section 0): sum(w * l) / #(w != 0), with the weights broadcast to the element-wise loss shape first
(so a 1-channel mask over 3 vector channels counts 3 per voxel); 0 when no weight is non-zero.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from emzoo.errors import InvalidInput


def sum_by_nonzero_weights(
    losses: torch.Tensor, weights: torch.Tensor | float | None = None
) -> torch.Tensor:
    """TF SUM_BY_NONZERO_WEIGHTS reduction of element-wise ``losses``."""
    if weights is None:
        return losses.mean()
    weights = torch.as_tensor(weights, dtype=losses.dtype, device=losses.device)
    try:
        weights = weights.expand_as(losses)
    except RuntimeError:
        raise InvalidInput(
            f"loss weights of shape {tuple(weights.shape)} do not broadcast to {tuple(losses.shape)}",
            hint="give weights with the prediction's shape or with size-1 axes (e.g. one channel)",
        ) from None
    count = torch.count_nonzero(weights)
    total = (losses * weights).sum()
    return total / count if count > 0 else total * 0.0


def _same_shape(pred: torch.Tensor, target: torch.Tensor, what: str) -> None:
    if pred.shape != target.shape:
        raise InvalidInput(
            f"{what}: prediction shape {tuple(pred.shape)} differs from target shape {tuple(target.shape)}",
            hint="crop the target to the network's output size",
        )


class _Recorded(nn.Module):
    def __init__(self, **kwargs) -> None:
        super().__init__()
        self.init_kwargs = dict(kwargs)


class WeightedMSELoss(_Recorded):
    """tf.losses.mean_squared_error(target, pred, weights): LSD, affinity and vector regression."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, pred, target, weights=None):
        _same_shape(pred, target, "WeightedMSELoss")
        return sum_by_nonzero_weights((pred - target) ** 2, weights)


class WeightedSigmoidCrossEntropy(_Recorded):
    """tf.losses.sigmoid_cross_entropy(target, logits, weights): Synful's post-synaptic mask."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, logits, target, weights=None):
        _same_shape(logits, target, "WeightedSigmoidCrossEntropy")
        losses = F.binary_cross_entropy_with_logits(
            logits, target.to(logits.dtype), reduction="none"
        )
        return sum_by_nonzero_weights(losses, weights)


class MTLSDLoss(_Recorded):
    """L = lsd_scale * MSE(lsds; lsds_weights) + affs_scale * MSE(affs; affs_weights) (1:1 in the
    paper); either head may be None for the LSD-only or affinities-only networks."""

    def __init__(self, lsd_scale: float = 1.0, affs_scale: float = 1.0) -> None:
        super().__init__(lsd_scale=lsd_scale, affs_scale=affs_scale)
        self.lsd_scale, self.affs_scale = lsd_scale, affs_scale
        self.mse = WeightedMSELoss()

    def forward(
        self,
        lsds=None,
        lsds_target=None,
        lsds_weights=None,
        affs=None,
        affs_target=None,
        affs_weights=None,
    ):
        terms = []
        if lsds is not None:
            terms.append(self.lsd_scale * self.mse(lsds, lsds_target, lsds_weights))
        if affs is not None:
            terms.append(self.affs_scale * self.mse(affs, affs_target, affs_weights))
        if not terms:
            raise InvalidInput(
                "MTLSDLoss got neither LSDs nor affinities", hint="pass lsds=... and/or affs=..."
            )
        return sum(terms)


class SynfulLoss(_Recorded):
    """L = m_loss_scale * sigmoidCE(mask logit; balance weights)
    + d_loss_scale * MSE(partner vectors; vectors_mask broadcast over the 3 channels)."""

    def __init__(self, m_loss_scale: float = 1.0, d_loss_scale: float = 1.0) -> None:
        super().__init__(m_loss_scale=m_loss_scale, d_loss_scale=d_loss_scale)
        self.m_loss_scale, self.d_loss_scale = m_loss_scale, d_loss_scale
        self.ce = WeightedSigmoidCrossEntropy()
        self.mse = WeightedMSELoss()

    def forward(
        self,
        mask_logits=None,
        mask_target=None,
        mask_weights=None,
        vectors=None,
        vectors_target=None,
        vectors_mask=None,
    ):
        total = 0.0
        if self.m_loss_scale and mask_logits is not None:
            total = total + self.m_loss_scale * self.ce(mask_logits, mask_target, mask_weights)
        if self.d_loss_scale and vectors is not None:
            total = total + self.d_loss_scale * self.mse(vectors, vectors_target, vectors_mask)
        if not torch.is_tensor(total):
            raise InvalidInput(
                "SynfulLoss got no head with a non-zero scale",
                hint="pass mask_logits (m_loss_scale > 0) and/or vectors (d_loss_scale > 0)",
            )
        return total


class SynisterLoss(_Recorded):
    """Unweighted cross-entropy over the 6 transmitter classes (torch CrossEntropyLoss, mean)."""

    def __init__(self) -> None:
        super().__init__()

    def forward(self, logits, classes):
        return F.cross_entropy(logits, classes.long())


def micron_weights(soft_mask: torch.Tensor, foreground_weight: float | None = None) -> torch.Tensor:
    """w = 1 + b * sum(b) - b with b = [soft_mask > 0] (originals 5.2): background 1, foreground
    = number of foreground voxels in the batch. ``foreground_weight``: a fixed foreground weight
    instead (1 = plain MSE); with the originals' count the MSE optimum is near the full target
    wherever a track voxel is merely possible (docs/demo-weights.md, Micron)."""
    b = (soft_mask > 0).to(soft_mask.dtype)
    fg = b.sum() if foreground_weight is None else foreground_weight
    return 1 + b * fg - b


class MicronLoss(_Recorded):
    """Weighted MSE over the 10 channels with ``micron_weights`` of the target soft mask
    (channel ``soft_mask_channel``, 9), the same weight for every channel; ``foreground_weight``
    None is the originals' (the batch's foreground count), a number fixes it."""

    def __init__(self, soft_mask_channel: int = 9, foreground_weight: float | None = None) -> None:
        super().__init__(soft_mask_channel=soft_mask_channel, foreground_weight=foreground_weight)
        if foreground_weight is not None and not foreground_weight > 0:
            raise InvalidInput(
                f"Micron foreground weight {foreground_weight} must be positive",
                hint="e.g. 1 (plain MSE) or 10; leave it unset for the originals' count",
            )
        self.soft_mask_channel = soft_mask_channel
        self.foreground_weight = foreground_weight
        self.mse = WeightedMSELoss()

    def forward(self, pred, target):
        c = self.soft_mask_channel
        weights = micron_weights(target[:, c : c + 1], self.foreground_weight)
        return self.mse(pred, target, weights)
