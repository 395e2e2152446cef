"""Losses on tiny tensors whose expected values are computed by hand in the comments."""

import math

import pytest
import torch

from emzoo.errors import InvalidInput
from emzoo.losses import (
    MicronLoss,
    MTLSDLoss,
    SynfulLoss,
    SynisterLoss,
    WeightedMSELoss,
    WeightedSigmoidCrossEntropy,
    micron_weights,
    sum_by_nonzero_weights,
)


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def test_weighted_mse_divides_by_nonzero_weights():
    # squared errors [1, 0, 4, 0]; weights [1, 0, 2, 0.5] -> sum w*l = 1 + 8 = 9; 3 non-zero -> 3
    loss = WeightedMSELoss()(t(1, 2, 3, 4), t(0, 2, 5, 4), t(1, 0, 2, 0.5))
    assert loss.item() == pytest.approx(3.0)
    # no weights: plain mean (1 + 0 + 4 + 0) / 4
    assert WeightedMSELoss()(t(1, 2, 3, 4), t(0, 2, 5, 4)).item() == pytest.approx(1.25)
    # all weights zero: 0, not NaN
    assert WeightedMSELoss()(t(1, 2), t(0, 0), t(0, 0)).item() == 0.0


def test_weights_are_broadcast_before_counting():
    # 3 vector channels, 2 voxels, error 1 everywhere; mask [2, 0] on one channel
    # broadcast -> 3 non-zero weights; sum w*l = 3 * 2 = 6 -> 6 / 3 = 2 (not 6 / 1)
    pred = torch.zeros(1, 3, 1, 1, 2)
    target = torch.ones(1, 3, 1, 1, 2)
    weights = torch.tensor([2.0, 0.0]).reshape(1, 1, 1, 1, 2)
    assert sum_by_nonzero_weights((pred - target) ** 2, weights).item() == pytest.approx(2.0)
    with pytest.raises(InvalidInput, match="broadcast"):
        sum_by_nonzero_weights(pred, torch.ones(1, 2, 1, 1, 2))


def test_sigmoid_cross_entropy():
    # logit 0, label 1: -ln(1/2) = ln 2; logit ln 3 (p = 3/4), label 0: -ln(1/4) = 2 ln 2
    # weights [1, 3]: (ln 2 + 3 * 2 ln 2) / 2 = 3.5 ln 2
    loss = WeightedSigmoidCrossEntropy()(t(0.0, math.log(3)), t(1, 0), t(1, 3))
    assert loss.item() == pytest.approx(3.5 * math.log(2), rel=1e-6)


def test_mtlsd_is_the_sum_of_both_heads():
    # LSD: errors [0.25, 0.25] weights [1, 0] -> 0.25; affs: errors [1, 0] unweighted -> 0.5
    loss_fn = MTLSDLoss()
    loss = loss_fn(t(0.5, 0.5), t(0, 1), t(1, 0), t(1, 1), t(0, 1), None)
    assert loss.item() == pytest.approx(0.75)
    assert MTLSDLoss(affs_scale=2.0)(affs=t(1, 1), affs_target=t(0, 1)).item() == pytest.approx(1.0)
    assert loss_fn.init_kwargs == {"lsd_scale": 1.0, "affs_scale": 1.0}


def test_synful_combines_mask_and_vector_terms():
    # mask: logit 0 vs label 1 -> ln 2 (weight 1, one voxel)
    # vectors (3 ch x 2 voxels): errors^2 ch0 [4, 100], ch1 [0, 100], ch2 [1, 100]; mask [1, 0]
    # -> (4 + 0 + 1) / 3 non-zero = 5/3
    # total with m_loss_scale 2, d_loss_scale 0.5: 2 ln 2 + 5/6
    loss_fn = SynfulLoss(m_loss_scale=2.0, d_loss_scale=0.5)
    vectors = torch.tensor([[2.0, 10.0], [0.0, 10.0], [-1.0, 10.0]]).reshape(1, 3, 1, 1, 2)
    loss = loss_fn(
        mask_logits=torch.zeros(1, 1, 1, 1, 1),
        mask_target=torch.ones(1, 1, 1, 1, 1),
        mask_weights=torch.ones(1, 1, 1, 1, 1),
        vectors=vectors,
        vectors_target=torch.zeros(1, 3, 1, 1, 2),
        vectors_mask=torch.tensor([1.0, 0.0]).reshape(1, 1, 1, 1, 2),
    )
    assert loss.item() == pytest.approx(2 * math.log(2) + 5 / 6, rel=1e-6)
    assert loss_fn.init_kwargs == {"m_loss_scale": 2.0, "d_loss_scale": 0.5}
    # mask-only setup (d_loss_scale 0) ignores vectors
    only_mask = SynfulLoss(d_loss_scale=0.0)(
        torch.zeros(1, 1), torch.ones(1, 1), None, vectors, None, None
    )
    assert only_mask.item() == pytest.approx(math.log(2), rel=1e-6)


def test_synister_cross_entropy():
    # uniform logits over 6 classes -> ln 6; logits [ln 2, 0, 0, 0, 0, 0], class 0 -> -ln(2/7)
    logits = torch.zeros(2, 6)
    logits[1, 0] = math.log(2)
    loss = SynisterLoss()(logits, torch.tensor([3, 0]))
    assert loss.item() == pytest.approx((math.log(6) + math.log(3.5)) / 2, rel=1e-6)


def test_micron_weights_and_loss():
    # soft mask [0, 0.3, 0.7, 0] -> b = [0, 1, 1, 0], sum b = 2 -> w = [1, 2, 2, 1]
    soft = t(0, 0.3, 0.7, 0).reshape(1, 1, 1, 1, 4)
    assert micron_weights(soft).flatten().tolist() == [1, 2, 2, 1]
    # target: all 10 channels equal the soft mask, prediction 0 -> l = [0, .09, .49, 0] per channel
    # sum w*l = 10 * (2 * .09 + 2 * .49) = 11.6 over 40 non-zero weights -> 0.29
    target = soft.expand(1, 10, 1, 1, 4).clone()
    pred = torch.zeros_like(target, requires_grad=True)
    loss = MicronLoss()(pred, target)
    assert loss.item() == pytest.approx(0.29, rel=1e-6)
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() > 0


def test_shape_mismatch_is_reported():
    with pytest.raises(InvalidInput, match="differs"):
        WeightedMSELoss()(torch.zeros(2, 3), torch.zeros(2, 4))


def test_micron_fixed_foreground_weight():
    # the same case with the foreground weight fixed at 5 instead of sum b = 2: w = [1, 5, 5, 1]
    soft = t(0, 0.3, 0.7, 0).reshape(1, 1, 1, 1, 4)
    assert micron_weights(soft, 5.0).flatten().tolist() == [1, 5, 5, 1]
    # sum w*l = 10 * (5 * .09 + 5 * .49) = 29 over 40 non-zero weights -> 0.725
    target = soft.expand(1, 10, 1, 1, 4).clone()
    loss = MicronLoss(foreground_weight=5.0)
    assert loss(torch.zeros_like(target), target).item() == pytest.approx(0.725, rel=1e-6)
    assert loss.init_kwargs == {"soft_mask_channel": 9, "foreground_weight": 5.0}
    # weight 1 is plain MSE: (.09 + .49) * 10 / 40
    assert MicronLoss(foreground_weight=1.0)(torch.zeros_like(target), target).item() == (
        pytest.approx(0.145, rel=1e-6)
    )
    with pytest.raises(InvalidInput, match="must be positive"):
        MicronLoss(foreground_weight=0.0)
