"""The preset catalogue: names, facts the exporter reads, and consistency with the nets."""

from __future__ import annotations

import json

import pytest
import torch

from emzoo.errors import UnknownName
from emzoo.nets.shapes import check_input_shape, parameter_count
from emzoo.registry import get_preset, list_presets

PAPER = {
    "lsd-fib25-vanilla",
    "lsd-fib25-lsd",
    "lsd-fib25-mtlsd",
    "lsd-fib25-acrlsd",
    "lsd-zebrafinch-baseline",
    "lsd-zebrafinch-mtlsd",
    "lsd-zebrafinch-long-range",
    "synful-cremi-st",
    "synful-cremi-mt",
    "synister-fafb",
    "micron-cremi",
}
DEMO = {"lsd-small-vanilla", "lsd-small-mtlsd", "synful-small", "synister-small", "micron-small"}
ISO = {"synful-fibsem-iso", "synister-fibsem-iso"}
DOI = {
    "lsd": "10.1038/s41592-022-01711-z",
    "synful": "10.1038/s41592-021-01183-7",
    "synister": "10.1016/j.cell.2024.03.016",
    "micron": "10.1007/978-3-030-59722-1_10",
}


def test_catalogue_names_and_paper_flags():
    names = {p.name for p in list_presets()}
    assert PAPER | DEMO | ISO <= names
    for p in list_presets():
        assert p.paper == (p.name in PAPER), p.name


def test_unknown_preset_lists_known_names():
    with pytest.raises(UnknownName) as info:
        get_preset("lsd-fib25-vanila")
    assert "lsd-fib25-vanilla" in str(info.value)
    assert "synister-fafb" in str(info.value)
    assert info.value.exit_code == 2


@pytest.mark.parametrize("preset", list_presets(), ids=lambda p: p.name)
def test_preset_facts_are_consistent_with_the_network(preset):
    with torch.device("meta"):
        net = preset.build()
    shape = preset.train_input_shape
    out = net(torch.empty(1, preset.in_channels, *shape, device="meta"))
    assert out.shape[1] == len(preset.output_channel_names)
    # the recorded kwargs are JSON and rebuild the same structure (bundle architecture kwargs)
    with torch.device("meta"):
        twin = type(net)(**json.loads(json.dumps(net.init_kwargs)))
    assert {k: v.shape for k, v in twin.state_dict().items()} == {
        k: v.shape for k, v in net.state_dict().items()
    }
    assert len(set(preset.output_channel_names)) == len(preset.output_channel_names)
    assert all(n.isidentifier() for n in preset.output_channel_names)
    assert len(preset.input_channel_names) == preset.in_channels
    assert len(preset.semantics["channel_activations"]) == out.shape[1]
    assert preset.citations[0].doi == DOI[preset.task]
    check_input_shape(preset, preset.train_input_shape)
    check_input_shape(preset, preset.predict_input_shape)
    # every head's channels appear in the output, in head order (classifiers: one "head")
    heads = preset.semantics.get("heads")
    if heads is not None:
        assert list(heads) == list(net.heads)
        flat = [c for names in heads.values() for c in names]
        assert sorted(flat) == sorted(preset.output_channel_names)


def test_affinity_neighbourhoods():
    std = [[-1, 0, 0], [0, -1, 0], [0, 0, -1]]
    assert get_preset("lsd-fib25-vanilla").semantics["affinity_offsets"] == std
    assert get_preset("lsd-fib25-mtlsd").output_channel_names[-3:] == ("aff_z1", "aff_y1", "aff_x1")
    long_range = get_preset("lsd-zebrafinch-long-range").semantics["affinity_offsets"]
    assert long_range == [
        *std,
        [-3, 0, 0], [0, -3, 0], [0, 0, -3],
        [-5, 0, 0], [0, -9, 0], [0, 0, -9],
        [-15, 0, 0], [0, -27, 0], [0, 0, -27],
    ]  # fmt: skip


def test_task_semantics():
    mtlsd = get_preset("lsd-fib25-mtlsd")
    assert mtlsd.output_channel_names[:3] == ("lsd_offset_z", "lsd_offset_y", "lsd_offset_x")
    assert mtlsd.output_channel_names[9] == "lsd_size"
    assert mtlsd.semantics["lsd_sigma_nm"] == 80.0
    assert get_preset("lsd-zebrafinch-mtlsd").semantics["lsd_sigma_nm"] == 120.0
    acrlsd = get_preset("lsd-fib25-acrlsd")
    assert acrlsd.in_channels == 11 and acrlsd.input_channel_names[0] == "raw"
    synful = get_preset("synful-cremi-mt")
    assert synful.output_channel_names == ("syn_indicator", "vector_z", "vector_y", "vector_x")
    assert synful.semantics["vector_units"] == "nm"
    assert synful.semantics["head_decoder"] == {"partner_vector": 0, "syn_indicator": 1}
    assert get_preset("synful-cremi-st").semantics["head_decoder"]["syn_indicator"] == 0
    micron = get_preset("micron-cremi")
    assert micron.output_channel_names[9] == "soft_mask"
    assert micron.semantics["soft_mask_channel"] == 9
    assert micron.semantics["channel_activations"][9] == "clip01"
    synister = get_preset("synister-fafb")
    assert synister.output_kind == "classes" and synister.valid_step == (0, 0, 0)
    assert synister.semantics["class_names"][0] == "gaba"


def test_voxel_sizes():
    assert get_preset("lsd-fib25-vanilla").voxel_size_nm == (8.0, 8.0, 8.0)
    assert get_preset("lsd-zebrafinch-mtlsd").voxel_size_nm == (20.0, 9.0, 9.0)
    for name in ("synful-cremi-st", "synister-fafb", "micron-cremi"):
        assert get_preset(name).voxel_size_nm == (40.0, 4.0, 4.0)
    for name in ISO:
        assert get_preset(name).voxel_size_nm == (8.0, 8.0, 8.0)


def test_isotropic_variants_have_isotropic_downsampling_and_physical_extent():
    synful = get_preset("synful-fibsem-iso")
    assert all(len(set(f)) == 1 for f in synful.kwargs["downsample_factors"])
    assert len(set(synful.train_input_shape)) == 1
    synister = get_preset("synister-fibsem-iso")
    assert all(len(set(f)) == 1 for f in synister.kwargs["downsample_factors"])
    # same physical crop as FAFB's (16,160,160) at 40x4x4 nm = 640 nm a side
    extent = [
        s * v for s, v in zip(synister.train_input_shape, synister.voxel_size_nm, strict=True)
    ]
    assert extent == [640.0, 640.0, 640.0]


@pytest.mark.parametrize("name", sorted(DEMO))
def test_demo_presets_are_small(name):
    preset = get_preset(name)
    params = parameter_count(preset)
    # a committed demo bundle holds the weights three times (ONNX, TorchScript, state dict) plus
    # the zoo variant: float32 weights of at most 2 MB keep it within a few MB
    assert params < 500_000
    assert params * 4 < 2_000_000
    assert max(preset.train_input_shape) <= 110
