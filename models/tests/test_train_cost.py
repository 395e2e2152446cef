"""Training-cost estimate: MAC counting on the meta device agrees with hand-computed counts."""

from __future__ import annotations

from torch import nn

from emzoo.registry import get_preset
from emzoo.train.cost import forward_macs, preset_training_flops


def test_macs_of_conv_transpose_and_linear_match_the_formulas():
    net = nn.Sequential(
        nn.Conv3d(2, 4, 3),  # 8³ → 6³: 216 out voxels * 4 ch * (2 · 27)
        nn.ConvTranspose3d(4, 3, 2, stride=2),  # 6³ → 12³: 216 in voxels * 4 ch * 3 out * 8
        nn.Flatten(),
        nn.Linear(3 * 12**3, 5),  # 5 * 5184
    ).to("meta")
    expected = 216 * 4 * 2 * 27 + 216 * 4 * 3 * 8 + 5 * 3 * 12**3
    assert forward_macs(net, (8, 8, 8), in_channels=2) == expected


def test_paper_presets_cost_more_than_small_ones():
    small = preset_training_flops(get_preset("lsd-small-mtlsd"))
    paper = preset_training_flops(get_preset("lsd-fib25-mtlsd"))
    assert small > 0 and paper > 1000 * small
