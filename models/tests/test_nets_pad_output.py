"""pad_output=True: the dense task nets return their output zero-padded back to the input size
(the bioimage.io zoo form, halo declared instead of a negative size offset)."""

from __future__ import annotations

import warnings

import pytest
import torch

from emzoo.export.test_tensors import valid_spatial_shape
from emzoo.registry import get_preset

DENSE = ["lsd-small-mtlsd", "synful-small", "micron-small"]


def _pair(name):
    preset = get_preset(name)
    torch.manual_seed(0)
    net = preset.build().eval()
    padded = type(net)(**{**net.init_kwargs, "pad_output": True}).eval()
    padded.load_state_dict(net.state_dict())  # strict: the keys are unchanged
    return preset, net, padded


@pytest.mark.parametrize("name", DENSE)
def test_padded_output_is_the_valid_output_centred_in_zeros(name):
    torch.set_num_threads(1)
    preset, net, padded = _pair(name)
    assert net.init_kwargs["pad_output"] is False and padded.init_kwargs["pad_output"] is True
    assert net.state_dict().keys() == padded.state_dict().keys()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(padded)
    for k in (0, 1):  # two sizes: the pads come from runtime shapes, not cached ones
        x = torch.randn(2, preset.in_channels, *valid_spatial_shape(preset, k))
        with torch.no_grad():
            y, yp, ys = net(x), padded(x), scripted(x)
        assert yp.shape == (*y.shape[:2], *x.shape[2:])
        lo = [(i - o) // 2 for i, o in zip(x.shape[2:], y.shape[2:], strict=True)]
        centre = tuple(slice(a, a + o) for a, o in zip(lo, y.shape[2:], strict=True))
        assert torch.equal(yp[(..., *centre)], y)
        border = torch.ones_like(yp, dtype=torch.bool)
        border[(..., *centre)] = False
        assert border.any() and torch.count_nonzero(yp[border]) == 0
        assert torch.equal(ys, yp)


def test_pad_output_false_leaves_forward_unchanged():
    preset, net, _ = _pair("lsd-small-mtlsd")
    x = torch.randn(1, 1, *valid_spatial_shape(preset, 0))
    with torch.no_grad():
        y = net(x)
    assert y.shape[2:] != x.shape[2:]
