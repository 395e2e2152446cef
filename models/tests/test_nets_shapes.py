"""Shape arithmetic and parameter counts without weights agree with real torch networks."""

from __future__ import annotations

import pytest
import torch

from emzoo.errors import InvalidInput
from emzoo.nets.shapes import (
    UNetGeometry,
    check_input_shape,
    describe,
    nearest_valid,
    parameter_count,
)
from emzoo.registry import list_presets

torch.set_num_threads(1)

SMALL_DENSE = ["lsd-small-vanilla", "lsd-small-mtlsd", "synful-small", "micron-small"]
DENSE = [p.name for p in list_presets() if p.output_kind == "dense"]


def _preset(name):
    return next(p for p in list_presets() if p.name == name)


@pytest.mark.parametrize("name", SMALL_DENSE)
def test_arithmetic_equals_real_forward_on_small_presets(name):
    preset = _preset(name)
    torch.manual_seed(0)
    net = preset.build().eval()
    step = preset.valid_step
    shapes = [
        preset.train_input_shape,
        preset.valid_min,
        tuple(m + 3 * s for m, s in zip(preset.valid_min, step, strict=True)),
    ]
    with torch.no_grad():
        for shape in shapes:
            out = net(torch.randn(1, preset.in_channels, *shape))
            assert tuple(out.shape[2:]) == check_input_shape(preset, shape)
            assert out.shape[1] == len(preset.output_channel_names)


@pytest.mark.parametrize("name", DENSE)
def test_arithmetic_equals_meta_forward_on_every_dense_preset(name):
    preset = _preset(name)
    with torch.device("meta"):
        net = preset.build()
    for shape in (preset.train_input_shape, preset.predict_input_shape, preset.valid_min):
        out = net(torch.empty(1, preset.in_channels, *shape, device="meta"))
        assert tuple(out.shape[2:]) == check_input_shape(preset, shape)
        assert out.shape[1] == len(preset.output_channel_names)


@pytest.mark.parametrize("name", [*SMALL_DENSE, "synister-small"])
def test_meta_parameter_count_equals_real_count(name):
    preset = _preset(name)
    real = sum(p.numel() for p in preset.build().parameters())
    assert parameter_count(preset) == real


@pytest.mark.parametrize("name", DENSE)
def test_valid_sizes_are_exactly_min_plus_k_step(name):
    preset = _preset(name)
    g = UNetGeometry.from_kwargs(preset.kwargs)
    for d in range(3):
        vmin, step = preset.valid_min[d], preset.valid_step[d]
        for size in range(1, vmin + 4 * step + 1):
            try:
                g.axis_output(size, d)
                ok = True
            except ValueError:
                ok = False
            assert ok == (size >= vmin and (size - vmin) % step == 0), (d, size)


@pytest.mark.parametrize("name", DENSE)
def test_halo_is_symmetric_and_constant(name):
    # bundles and tiled inference describe the output as input - 2·halo for every valid size
    preset = _preset(name)
    diffs = set()
    for k in range(4):
        shape = tuple(m + k * s for m, s in zip(preset.valid_min, preset.valid_step, strict=True))
        out = check_input_shape(preset, shape)
        diffs.add(tuple(i - o for i, o in zip(shape, out, strict=True)))
    assert len(diffs) == 1
    assert all(d % 2 == 0 for d in diffs.pop())


def test_too_small_input_fails_in_the_real_network_too():
    preset = _preset("lsd-small-vanilla")
    net = preset.build()
    smaller = tuple(m - s for m, s in zip(preset.valid_min, preset.valid_step, strict=True))
    with pytest.raises(InvalidInput):
        check_input_shape(preset, smaller)
    with pytest.raises(RuntimeError):
        net(torch.randn(1, 1, *smaller))


def test_invalid_shape_error_names_the_axis_and_suggests_neighbours():
    preset = _preset("lsd-fib25-vanilla")
    with pytest.raises(InvalidInput) as info:
        check_input_shape(preset, (196, 200, 196))
    err = info.value
    assert "y=200" in str(err) and "not divisible" in str(err)
    assert "y: 196 or 208" in err.hint
    assert "z:" not in err.hint  # z is fine
    with pytest.raises(InvalidInput, match="3 positive sizes"):
        check_input_shape(preset, (196, 196))


def test_classifier_accepts_exactly_its_input_size():
    preset = _preset("synister-fafb")
    assert check_input_shape(preset, (16, 160, 160)) == (6,)
    with pytest.raises(InvalidInput) as info:
        check_input_shape(preset, (16, 164, 160))
    assert "16,160,160" in info.value.hint


def test_nearest_valid():
    assert nearest_valid(200, 112, 12) == [196, 208]
    assert nearest_valid(196, 112, 12) == [196]
    assert nearest_valid(50, 112, 12) == [112]


def test_describe_reports_everything_without_weights():
    info = describe(_preset("lsd-zebrafinch-baseline"), (96, 484, 484))
    assert info["output_shape"] == [60, 272, 272]
    assert info["parameters"] / 1e6 == pytest.approx(95.85, abs=0.01)
    assert info["valid_input"] == {"min": [39, 214, 214], "step": [3, 27, 27]}
    assert info["halo"] == [18, 106, 106]
