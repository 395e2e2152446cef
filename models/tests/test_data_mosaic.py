"""Several training volumes as one (emzoo.data.mosaic) and `emzoo train --data A B`."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emzoo.cli import main
from emzoo.data import write_zarr
from emzoo.data.mosaic import mosaic
from emzoo.data.synth import generate_volume
from emzoo.errors import InvalidInput
from emzoo.export.checkpoint import load_checkpoint
from emzoo.registry import get_preset
from emzoo.train.tasks.common import uniform_sampler


@pytest.fixture(scope="module")
def parts():
    a = generate_volume((12, 64, 80), "anisotropic", seed=3, synapse_density=80)
    # in its own frame: the mosaic moves it next to a
    b = generate_volume(
        (10, 72, 64), "anisotropic", seed=4, synapse_density=80, offset=(400.0, -80.0, 1000.0)
    )
    return a, b


def test_volumes_side_by_side_keep_their_annotations(parts):
    a, b = parts
    gap = 20
    m = mosaic([a, b], gap)
    assert m.shape == (12, 72, 80 + gap + 64)
    assert m.voxel_size == a.voxel_size and m.offset == a.offset
    # raw and labels of each part at its place; gaps and padding are empty and masked out
    np.testing.assert_array_equal(m.raw[:12, :64, :80], a.raw)
    np.testing.assert_array_equal(m.raw[:10, :72, 100:], b.raw)
    assert not m.raw[:, :, 80:100].any() and not m.mask[:, :, 80:100].any()
    assert not m.mask[10:, :, 100:].any() and m.mask[:10, :72, 100:].all()
    assert not m.neurons[:, 64:, :80].any()
    # neuron ids renumbered apart: no id is shared, and every part keeps its own partition
    ids_a = np.unique(m.neurons[:12, :64, :80])
    ids_b = np.unique(m.neurons[:10, :72, 100:])
    assert not set(ids_a.tolist()) & set(ids_b.tolist())
    np.testing.assert_array_equal(m.neurons[:12, :64, :80] - a.neurons, ids_a.min() - 1)
    # synapses: same count, unique ids, each pre location still on its neuron, same classes
    assert len(m.synapses) == len(a.synapses) + len(b.synapses) > 0
    pre_ids = np.concatenate([np.unique(a.synapses.pre_ids), np.unique(b.synapses.pre_ids)])
    assert len(np.unique(m.synapses.pre_ids)) == len(pre_ids)
    expected = np.concatenate([a.synapse_transmitters(), b.synapse_transmitters()])
    np.testing.assert_array_equal(m.synapse_transmitters(), expected)
    assert (m.synapse_transmitters() >= 0).all()
    np.testing.assert_array_equal(
        m.neurons_at(m.synapses.post_locations)[len(a.synapses) :],
        b.neurons_at(b.synapses.post_locations) + (ids_b.min() - 1),
    )
    # microtubules: every node lies on its own track's voxels in the mosaic's track labels
    mt = m.microtubules
    assert len(mt.nodes) == len(a.microtubules.nodes) + len(b.microtubules.nodes)
    vox = np.floor((mt.nodes - np.asarray(m.offset)) / np.asarray(m.voxel_size)).astype(int)
    on_track = m.microtubule_labels[tuple(vox.T)] == mt.node_tracks
    assert on_track.mean() > 0.9  # rasterised lines pass through (almost) every node's voxel
    assert len(m.attrs["tiles"]) == 2 and m.attrs["mosaic"]["gap_voxels"] == gap
    assert [v["seed"] for v in m.attrs["mosaic"]["volumes"]] == [3, 4]


def test_one_volume_is_returned_as_it_is(parts):
    assert mosaic([parts[0]], 10) is parts[0]


def test_voxel_sizes_must_agree(parts):
    iso = generate_volume((16, 16, 16), "isotropic", seed=1)
    with pytest.raises(InvalidInput, match="voxel size"):
        mosaic([parts[0], iso], 10)
    with pytest.raises(InvalidInput, match="no training volume"):
        mosaic([], 10)


def test_uniform_sampling_picks_a_volume_and_never_centres_a_box_in_a_gap(parts):
    a, b = parts
    m = mosaic([a, b], 40)
    vs = np.asarray(m.voxel_size)
    out_shape = (4, 16, 16)
    sample = uniform_sampler(m, vs, m.offset, out_shape)
    rng = np.random.default_rng(0)
    centres = np.array([sample(rng)[0] for _ in range(400)])
    half = np.asarray(out_shape) * vs / 2
    inside = [
        np.all((centres - half >= lo) & (centres + half <= hi), axis=1)
        for lo, hi in np.asarray(m.attrs["tiles"])
    ]
    assert np.all(inside[0] | inside[1])  # every output box lies in one volume
    share = inside[1].mean()  # volumes drawn by size: b holds 10*72*64 of 12*64*80 + that
    assert abs(share - 46080 / (61440 + 46080)) < 0.08


def test_emzoo_train_on_two_volumes_records_both(parts, tmp_path):
    torch.set_num_threads(1)
    paths = [write_zarr(v, tmp_path / f"v{i}.zarr") for i, v in enumerate(parts)]
    out = tmp_path / "run"
    args = ["train", "--preset", "synister-small", "--data", *map(str, paths), "--out", str(out)]
    args += ["--iterations", "1", "--batch-size", "2", "--device", "cpu", "--save-every", "1"]
    assert main(args) == 0
    ckpt = load_checkpoint(
        out / "checkpoints" / "checkpoint_00000001.pt", get_preset("synister-small")
    )
    data = ckpt.training["data"]
    assert data["sources"] == [str(p) for p in paths] and data["synthetic"] is True
    assert "2: seeds 3, 4" in data["description"]
