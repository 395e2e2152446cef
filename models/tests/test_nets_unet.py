"""The mala-topology U-Net and its task nets: paper shapes/parameters, wiring, TorchScript."""

from __future__ import annotations

import json

import pytest
import torch

from emzoo.nets.unet import LsdNet, MicronNet, SynfulNet, UNet
from emzoo.registry import get_preset

torch.set_num_threads(1)


def _meta(preset_name: str):
    with torch.device("meta"):
        return get_preset(preset_name).build()


def _params(net) -> int:
    return sum(p.numel() for p in net.parameters())


def _meta_forward(net, shape) -> tuple[int, ...]:
    return tuple(
        net(torch.empty(1, net.unet.left[0].convs[0].in_channels, *shape, device="meta")).shape
    )


# Expected values: originals reference sheet §1.4 (computed from the TF graphs' arithmetic).
PAPER = [
    ("lsd-fib25-vanilla", (196, 196, 196), (92, 92, 92), 3, 263.72),
    ("lsd-fib25-vanilla", (268, 268, 268), (164, 164, 164), 3, 263.72),
    ("lsd-fib25-mtlsd", (196, 196, 196), (92, 92, 92), 13, 263.73),
    ("lsd-fib25-mtlsd", (268, 268, 268), (164, 164, 164), 13, 263.73),
    ("lsd-fib25-acrlsd", (196, 196, 196), (92, 92, 92), 3, 263.73),
    ("lsd-fib25-acrlsd", (364, 364, 364), (260, 260, 260), 3, 263.73),
    ("lsd-fib25-lsd", (304, 304, 304), (200, 200, 200), 10, 263.72),
    ("lsd-zebrafinch-baseline", (84, 268, 268), (48, 56, 56), 3, 95.85),
    ("lsd-zebrafinch-baseline", (96, 484, 484), (60, 272, 272), 3, 95.85),
    ("lsd-zebrafinch-mtlsd", (96, 484, 484), (60, 272, 272), 13, 95.86),
    ("lsd-zebrafinch-long-range", (84, 268, 268), (48, 56, 56), 12, 95.85),
    ("synful-cremi-st", (42, 430, 430), (6, 218, 218), 4, 10.65),
    ("synful-cremi-st", (90, 1132, 1132), (54, 920, 920), 4, 10.65),
    ("synful-cremi-mt", (42, 430, 430), (6, 218, 218), 4, 12.86),
    ("micron-cremi", (32, 322, 322), (4, 54, 54), 10, 87.75),
    ("micron-cremi", (79, 808, 808), (51, 540, 540), 10, 87.75),
]


@pytest.mark.parametrize(("name", "shape_in", "shape_out", "channels", "mparams"), PAPER)
def test_paper_shapes_and_parameters(name, shape_in, shape_out, channels, mparams):
    net = _meta(name)
    assert _params(net) / 1e6 == pytest.approx(mparams, abs=0.01)
    in_ch = get_preset(name).in_channels
    out = net(torch.empty(1, in_ch, *shape_in, device="meta"))
    assert tuple(out.shape) == (1, channels, *shape_out)


def test_mala_channel_ladders():
    assert _meta("lsd-fib25-vanilla").unet.channels == [12, 72, 432, 2592]
    assert _meta("lsd-zebrafinch-baseline").unet.channels == [12, 60, 300, 1500]
    assert _meta("micron-cremi").unet.channels == [12, 60, 300, 1500]
    assert _meta("synful-cremi-st").unet.channels == [4, 20, 100, 500]


def test_upsampling_maps_lower_to_upper_channels_with_kernel_equal_stride():
    net = _meta("lsd-zebrafinch-baseline").unet
    factors = [[1, 3, 3], [1, 3, 3], [3, 3, 3]]
    for level, up in enumerate(net.up[0]):
        assert (up.in_channels, up.out_channels) == (net.channels[level + 1], net.channels[level])
        assert list(up.kernel_size) == factors[level] == list(up.stride)
        # right side input = [skip C(l), upsampled C(l)] = 2·C(l) (funlib.learn.torch: C(l)+C(l+1))
        assert net.right[0][level].convs[0].in_channels == 2 * net.channels[level]


def test_num_fmaps_out_widens_only_the_top_right_pass():
    unet = _meta("lsd-fib25-mtlsd").unet
    assert [c.out_channels for c in unet.right[0][0].convs] == [14, 14]
    assert [c.out_channels for c in unet.right[0][1].convs] == [72, 72]
    # max(num_fmaps_out, C0): a smaller request keeps C0
    small = UNet(num_fmaps=12, fmap_inc_factors=2, downsample_factors=[[2, 2, 2]], num_fmaps_out=4)
    assert small.out_channels == 12


def test_fmap_inc_factors_per_level():
    unet = UNet(num_fmaps=4, fmap_inc_factors=[2, 3], downsample_factors=[[2, 2, 2], [2, 2, 2]])
    assert unet.channels == [4, 8, 24]
    with pytest.raises(ValueError, match="fmap_inc_factors"):
        UNet(num_fmaps=4, fmap_inc_factors=[2], downsample_factors=[[2, 2, 2], [2, 2, 2]])


def _one_by_one_unet(factor, kernel_down, right_weights, up_weight):
    """1 channel everywhere, hand-set weights: makes the wiring observable in the output."""
    unet = UNet(
        in_channels=1,
        num_fmaps=1,
        fmap_inc_factors=1,
        downsample_factors=[[factor] * 3],
        kernel_size_down=kernel_down,
        kernel_size_up=[[1]],
    )
    with torch.no_grad():
        for p in unet.parameters():
            p.zero_()
        for conv in (unet.left[0].convs[0], unet.left[1].convs[0]):
            conv.weight.zero_()
            centre = tuple(k // 2 for k in conv.kernel_size)
            conv.weight[(0, 0, *centre)] = 1.0  # identity (+ valid crop)
        unet.up[0][0].weight.fill_(up_weight)
        unet.right[0][0].convs[0].weight.copy_(torch.tensor(right_weights).view(1, 2, 1, 1, 1))
    return unet


def test_concat_order_is_skip_then_upsampled_and_skip_crop_uses_floor_offset():
    # factor 3, bottom conv kernel 2: input 9 -> pool 3 -> conv 2 -> up 6; skip 9 cropped to 6
    # with offset floor(3/2) = 1.
    x = torch.rand(1, 1, 9, 9, 9) + 0.1
    skip_only = _one_by_one_unet(3, [[1], [2]], [1.0, 0.0], 1.0)
    out = skip_only(x)[0]
    assert out.shape == (1, 1, 6, 6, 6)
    torch.testing.assert_close(out, x[:, :, 1:7, 1:7, 1:7])
    up_only = _one_by_one_unet(3, [[1], [1]], [0.0, 1.0], 1.0)
    out = up_only(x)[0]
    pooled = torch.nn.functional.max_pool3d(x, 3)
    expected = pooled.repeat_interleave(3, 2).repeat_interleave(3, 3).repeat_interleave(3, 4)
    torch.testing.assert_close(out, expected)


def test_relu_after_upsampling():
    # a negative transposed-conv weight: with mala's ReLU the up path is 0, so the right conv
    # sees only its bias (0.5); without a ReLU the output would be relu(0.5 - pooled) = 0.
    x = torch.full((1, 1, 4, 4, 4), 2.0)
    unet = _one_by_one_unet(2, [[1], [1]], [0.0, 1.0], -1.0)
    with torch.no_grad():
        unet.right[0][0].convs[0].bias.fill_(0.5)
    torch.testing.assert_close(unet(x)[0], torch.full((1, 1, 4, 4, 4), 0.5))


def test_crop_to_factor_matches_funlib_tensorflow_formula():
    kwargs = {
        "num_fmaps": 2,
        "fmap_inc_factors": 2,
        "downsample_factors": [[1, 3, 3], [1, 3, 3]],
    }
    x = torch.randn(1, 1, 24, 97, 97)
    plain = UNet(**kwargs)(x)[0]
    cropped = UNet(**kwargs, crop_to_factor=True)(x)[0]
    assert tuple(plain.shape[2:]) == (4, 29, 29)
    # by hand along y: 97 -> 93 -> pool 31 -> 27 -> pool 9 -> 5; up 15, crop to the largest
    # 3n+4 <= 15 = 13, convs -> 9; up 27, crop to 9n+4 <= 27 = 22, convs -> 18.
    # z (factor 1) is never cropped.
    assert tuple(cropped.shape[2:]) == (4, 18, 18)


def test_synful_two_decoders_feed_vectors_and_indicator_separately():
    net = SynfulNet(num_heads=2, num_fmaps=2, fmap_inc_factors=2, downsample_factors=[[2, 2, 2]])
    x = torch.randn(1, 1, 20, 20, 20)
    decoders = net.unet(x)
    heads = net.forward_heads(x)
    torch.testing.assert_close(heads["partner_vector"], net.heads["partner_vector"](decoders[0]))
    torch.testing.assert_close(heads["syn_indicator"], net.heads["syn_indicator"](decoders[1]))
    assert not torch.equal(decoders[0], decoders[1])
    out = net(x)
    torch.testing.assert_close(out[:, :1], torch.sigmoid(heads["syn_indicator"]))
    torch.testing.assert_close(out[:, 1:], heads["partner_vector"])


def test_micron_forward_clips_only_the_soft_mask():
    net = MicronNet(num_fmaps=2, fmap_inc_factors=2, downsample_factors=[[1, 2, 2]])
    with torch.no_grad():
        net.heads["lsds"].bias.copy_(torch.linspace(-3, 3, 10))
    x = torch.randn(1, 1, 14, 24, 24)
    raw = net.forward_heads(x)["lsds"]
    out = net(x)
    torch.testing.assert_close(out[:, :9], raw[:, :9])
    torch.testing.assert_close(out[:, 9], raw[:, 9].clamp(0, 1))
    assert raw[:, 9].max() > 1  # the bias makes the clip matter


def test_lsd_heads_are_sigmoid_and_ordered_lsds_then_affs():
    net = LsdNet(
        num_lsds=10,
        num_affinities=3,
        num_fmaps=2,
        fmap_inc_factors=2,
        downsample_factors=[[2, 2, 2]],
        num_fmaps_out=5,
    )
    assert list(net.heads) == ["lsds", "affs"]
    x = torch.randn(1, 1, 20, 20, 20)
    f = net.unet(x)[0]
    heads = net.forward_heads(x)
    torch.testing.assert_close(heads["lsds"], torch.sigmoid(net.heads["lsds"](f)))
    torch.testing.assert_close(net(x), torch.cat([heads["lsds"], heads["affs"]], 1))


def test_state_dict_names_follow_the_contract():
    keys = set(_meta("synful-cremi-mt").state_dict())
    for key in (
        "unet.left.0.convs.0.weight",
        "unet.left.3.convs.1.bias",
        "unet.up.0.2.weight",
        "unet.up.1.0.bias",
        "unet.right.1.0.convs.1.weight",
        "heads.partner_vector.weight",
        "heads.syn_indicator.bias",
    ):
        assert key in keys
    assert "heads.affs.weight" in _meta("lsd-fib25-vanilla").state_dict()
    mtlsd = list(_meta("lsd-fib25-mtlsd").heads)
    assert mtlsd == ["lsds", "affs"]
    assert list(_meta("micron-cremi").heads) == ["lsds"]


@pytest.mark.parametrize("name", ["lsd-small-mtlsd", "synful-small", "micron-small"])
def test_init_kwargs_round_trip_through_json(name):
    torch.manual_seed(0)
    net = get_preset(name).build().eval()
    kwargs = json.loads(json.dumps(net.init_kwargs))
    twin = type(net)(**kwargs).eval()
    assert json.dumps(twin.init_kwargs, sort_keys=True) == json.dumps(kwargs, sort_keys=True)
    twin.load_state_dict(net.state_dict(), strict=True)
    x = torch.randn(1, 1, *get_preset(name).valid_min)
    torch.testing.assert_close(twin(x), net(x))
    for module in net.modules():
        if type(module).__module__ == "emzoo.nets.unet":
            assert isinstance(module.init_kwargs, dict)


@pytest.mark.parametrize("name", ["lsd-small-mtlsd", "synful-small", "micron-small"])
def test_torchscript_keeps_batch_and_spatial_sizes_dynamic(name):
    preset = get_preset(name)
    torch.manual_seed(0)
    net = preset.build().eval()
    scripted = torch.jit.script(net)
    step = preset.valid_step
    sizes = [
        preset.valid_min,
        tuple(m + 2 * s for m, s in zip(preset.valid_min, step, strict=True)),
    ]
    with torch.no_grad():
        for batch, size in zip((1, 2), sizes, strict=True):
            x = torch.randn(batch, 1, *size)
            ref = net(x)
            out = scripted(x)
            assert out.shape == ref.shape
            assert out.shape[0] == batch
            torch.testing.assert_close(out, ref)
            heads = scripted.forward_heads(x)
            assert list(heads) == list(net.heads)


@pytest.mark.slow
def test_onnx_dynamo_export_keeps_batch_and_spatial_sizes_dynamic(tmp_path):
    # The contract the exporter relies on: crops computed from runtime shapes survive
    # torch.export with Dim.DYNAMIC. Tiny two-decoder net with crop_to_factor covers the
    # centre crop, the translation-equivariance crop and the multi-decoder wiring at once.
    import numpy as np
    import onnxruntime as ort

    torch.manual_seed(0)
    net = SynfulNet(
        num_heads=2,
        num_fmaps=2,
        fmap_inc_factors=2,
        downsample_factors=[[1, 3, 3]],
        crop_to_factor=True,
    ).eval()
    dyn = torch.export.Dim.DYNAMIC
    path = tmp_path / "net.onnx"
    torch.onnx.export(
        net,
        (torch.randn(2, 1, 14, 31, 31),),
        str(path),
        dynamo=True,
        dynamic_shapes={"x": {0: dyn, 2: dyn, 3: dyn, 4: dyn}},
        opset_version=18,
    )
    session = ort.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    for batch, shape in ((1, (14, 31, 31)), (3, (15, 40, 43))):
        x = torch.randn(batch, 1, *shape)
        with torch.no_grad():
            ref = net(x).numpy()
        out = session.run(None, {name: x.numpy()})[0]
        assert out.shape == ref.shape
        np.testing.assert_allclose(out, ref, atol=1e-5)
