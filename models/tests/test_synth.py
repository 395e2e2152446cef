"""Synthetic volumes: speed, determinism and the consistency of every ground-truth part."""

import json
import time

import numpy as np
import pytest
from scipy import ndimage

from emzoo.cli import main
from emzoo.data import read_volume, read_zarr, write_zarr
from emzoo.data.synth import generate_volume
from emzoo.errors import InvalidInput, UnknownName
from emzoo.targets import TRANSMITTERS, micron_targets, partner_vectors, post_synaptic_mask


@pytest.fixture(scope="module")
def aniso():
    started = time.perf_counter()
    volume = generate_volume((40, 256, 256), "anisotropic", seed=7)
    return volume, time.perf_counter() - started


@pytest.fixture(scope="module")
def iso():
    return generate_volume((32, 64, 64), "isotropic", seed=2, synapse_density=80.0)


def test_full_size_anisotropic_volume(aniso):
    volume, _ = aniso
    assert volume.raw.shape == (40, 256, 256) and volume.raw.dtype == np.uint8
    assert volume.voxel_size == (40.0, 4.0, 4.0)
    assert volume.neurons.dtype == np.uint64 and volume.neurons.min() >= 1  # densely labelled
    per_section = np.mean([len(np.unique(s)) for s in volume.neurons])
    assert per_section > 15, "neuropil should show many profiles per section"
    assert 40 < volume.raw.mean() < 220 and volume.raw.std() > 15


def test_membranes_are_darker_than_cytoplasm(aniso):
    volume, _ = aniso
    labels = volume.neurons
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[:, :, 1:] |= labels[:, :, 1:] != labels[:, :, :-1]
    interior = ~ndimage.binary_dilation(edge, np.ones((1, 9, 9), bool))
    assert volume.raw[edge].mean() < volume.raw[interior].mean() - 25


def test_same_seed_same_volume_other_seed_differs():
    a = generate_volume((8, 48, 48), "anisotropic", seed=5)
    b = generate_volume((8, 48, 48), "anisotropic", seed=5)
    c = generate_volume((8, 48, 48), "anisotropic", seed=6)
    assert np.array_equal(a.raw, b.raw) and np.array_equal(a.neurons, b.neurons)
    assert np.array_equal(a.synapses.pre_locations, b.synapses.pre_locations)
    assert np.array_equal(a.microtubules.nodes, b.microtubules.nodes)
    assert not np.array_equal(a.raw, c.raw)


@pytest.mark.parametrize("which", ["aniso", "iso"])
def test_synapses_connect_two_neurons_across_a_contact(which, request):
    volume = request.getfixturevalue(which)
    volume = volume[0] if isinstance(volume, tuple) else volume
    syn = volume.synapses
    assert len(syn) >= 3
    pre_n, post_n = volume.neurons_at(syn.pre_locations), volume.neurons_at(syn.post_locations)
    assert np.all(pre_n > 0) and np.all(post_n > 0) and np.all(pre_n != post_n)
    distance = np.linalg.norm(syn.post_locations - syn.pre_locations, axis=1)
    assert np.all(distance < 400) and np.all(distance > 0)
    # one T-bar, several partners: rows with the same pre id share the location; post ids unique
    for pre_id in np.unique(syn.pre_ids):
        rows = syn.pre_locations[syn.pre_ids == pre_id]
        assert np.all(rows == rows[0])
    assert len(np.unique(syn.post_ids)) == len(syn)
    assert not set(syn.pre_ids.tolist()) & set(syn.post_ids.tolist())
    # every synapse has a transmitter class from the neuron table
    classes = volume.synapse_transmitters()
    assert np.all((classes >= 0) & (classes < len(TRANSMITTERS)))
    assert len(volume.neuron_ids) == len(np.unique(volume.neurons))


def test_vesicle_clouds_darken_presynaptic_boutons(aniso):
    volume, _ = aniso
    labels, raw = volume.neurons, volume.raw.astype(np.float64)
    near, far = [], []
    for pre, neuron in zip(
        volume.synapses.pre_locations, volume.neurons_at(volume.synapses.pre_locations), strict=True
    ):
        z, y, x = np.floor(pre / volume.voxel_size).astype(int)
        window = (slice(z, z + 1), slice(max(y - 30, 0), y + 31), slice(max(x - 30, 0), x + 31))
        section = labels[z] == neuron
        bouton = np.zeros_like(section)
        bouton[window[1:]] = section[window[1:]]
        if (section & ~bouton).sum() < 200:  # the whole profile is bouton: nothing to compare
            continue
        near.append(raw[z][bouton].mean())
        far.append(raw[z][section & ~bouton].mean())
    assert len(near) >= 5 and np.mean(near) < np.mean(far) - 5


def test_microtubules_lie_inside_neurites_and_feed_micron_targets(aniso):
    volume, _ = aniso
    mt = volume.microtubule_labels
    assert mt.dtype == np.uint64 and (mt > 0).sum() > 100
    ids, lines = volume.microtubules.polylines()
    assert len(ids) >= 10 and all(len(line) >= 2 for line in lines)
    # each rasterised track runs entirely through one neuron (checked voxel by voxel when placed)
    for track in np.unique(mt)[1:]:
        assert len(np.unique(volume.neurons[mt == track])) == 1
    # node locations are inside the volume, in nm
    assert np.all(volume.microtubules.nodes >= 0)
    assert np.all(volume.microtubules.nodes < np.array(volume.shape) * volume.voxel_size)
    soft_mask = micron_targets(mt[:8, :64, :64], volume.voxel_size)[9]
    assert soft_mask[mt[:8, :64, :64] > 0].min() > 0


def test_microtubules_show_with_real_em_contrast(aniso):
    """Track voxels are darker than the cytoplasm away from tracks by > 2 noise std (0.12 on
    the 0-1 scale: 31 grey levels); generator version 1 gave about one."""
    volume, _ = aniso
    labels, mt, raw = volume.neurons, volume.microtubule_labels, volume.raw.astype(np.float64)
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[:, :, 1:] |= labels[:, :, 1:] != labels[:, :, :-1]
    membrane = ndimage.binary_dilation(edge, np.ones((1, 5, 5), bool))
    far = ndimage.distance_transform_edt(mt == 0, sampling=volume.voxel_size) > 40
    on_track = raw[(mt > 0) & ~membrane].mean()
    assert on_track < raw[far & ~membrane].mean() - 2 * 0.12 * 255


def test_synful_targets_from_a_synthetic_volume(aniso):
    volume, _ = aniso
    syn = volume.synapses
    mask = post_synaptic_mask(
        syn.post_locations, volume.neurons, volume.voxel_size, volume.offset, radius=40.0
    )
    vectors, vectors_mask = partner_vectors(
        syn.post_locations, syn.pre_locations, volume.neurons, volume.voxel_size, volume.offset
    )
    assert mask.sum() >= len(syn) and vectors_mask.sum() > mask.sum()
    assert np.all(vectors[:, vectors_mask == 0] == 0)
    lengths = np.linalg.norm(vectors[:, vectors_mask > 0], axis=0)
    assert lengths.max() < 500


def test_isotropic_mode(iso):
    assert iso.voxel_size == (8.0, 8.0, 8.0) and iso.raw.shape == (32, 64, 64)
    assert iso.attrs["mode"] == "isotropic" and np.all(
        np.array(iso.attrs["section_shifts_px"]) == 0
    )
    with pytest.raises(UnknownName, match="anisotropic"):
        generate_volume((8, 32, 32), "confocal")


def test_zarr_round_trip_and_gunpowder_reads_it(iso, tmp_path):
    path = write_zarr(iso, tmp_path / "v.zarr")
    back = read_zarr(path)
    assert np.array_equal(back.raw, iso.raw) and np.array_equal(back.neurons, iso.neurons)
    assert np.array_equal(back.microtubule_labels, iso.microtubule_labels)
    assert back.voxel_size == iso.voxel_size and back.offset == iso.offset
    for name in ("pre_locations", "post_locations", "pre_ids", "post_ids"):
        assert np.array_equal(getattr(back.synapses, name), getattr(iso.synapses, name))
    assert np.array_equal(back.neuron_transmitters, iso.neuron_transmitters)
    ids, lines = back.microtubules.polylines()
    ids0, lines0 = iso.microtubules.polylines()
    assert ids == ids0 and all(np.array_equal(a, b) for a, b in zip(lines, lines0, strict=True))
    assert back.attrs["seed"] == 2

    gp = pytest.importorskip("gunpowder")
    raw_key, labels_key = gp.ArrayKey("RAW"), gp.ArrayKey("LABELS")
    source = gp.ZarrSource(str(path), {raw_key: "raw", labels_key: "labels/neurons"})
    request = gp.BatchRequest()
    roi = gp.Roi((8 * 4, 8 * 10, 8 * 20), (8 * 8, 8 * 16, 8 * 16))
    request[raw_key] = gp.ArraySpec(roi=roi)
    request[labels_key] = gp.ArraySpec(roi=roi)
    with gp.build(source):
        batch = source.request_batch(request)
    assert batch[raw_key].spec.voxel_size == gp.Coordinate((8, 8, 8))
    assert np.array_equal(batch[raw_key].data, iso.raw[4:12, 10:26, 20:36])
    assert np.array_equal(batch[labels_key].data, iso.neurons[4:12, 10:26, 20:36])


def test_n5_round_trip(iso, tmp_path):
    back = read_volume(write_zarr(iso, tmp_path / "v.n5"))
    assert np.array_equal(back.raw, iso.raw) and np.array_equal(back.neurons, iso.neurons)
    assert back.voxel_size == iso.voxel_size
    assert np.array_equal(back.synapses.post_locations, iso.synapses.post_locations)


def test_cli_writes_a_readable_volume(tmp_path, capsys):
    out = tmp_path / "cli.zarr"
    assert (
        main(
            [
                "synth",
                "--out",
                str(out),
                "--shape",
                "6,40,40",
                "--mode",
                "isotropic",
                "--seed",
                "1",
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["shape"] == [6, 40, 40] and summary["voxel_size"] == [8.0, 8.0, 8.0]
    assert read_zarr(out).raw.shape == (6, 40, 40)
    assert main(["synth", "--out", str(out), "--shape", "6,40"]) == 3
    assert "Z,Y,X" in capsys.readouterr().err
    assert main(["synth", "--out", str(out), "--shape", "6,40,40", "--mode", "sem"]) == 2


def test_crop_keeps_annotations_consistent(aniso):
    volume, _ = aniso
    crop = volume.crop((10, 64, 32), (20, 128, 160))
    assert crop.raw.shape == (20, 128, 160) and crop.offset == (400.0, 256.0, 128.0)
    assert np.array_equal(crop.neurons, volume.neurons[10:30, 64:192, 32:192])
    # neurons under each kept synapse are the same in the crop as in the full volume
    syn = crop.synapses
    assert 0 < len(syn) < len(volume.synapses)
    assert np.array_equal(crop.neurons_at(syn.pre_locations), volume.neurons_at(syn.pre_locations))
    assert np.all(crop.neurons_at(syn.post_locations) > 0)
    assert set(crop.neuron_ids.tolist()) == set(np.unique(crop.neurons).tolist())
    nodes = crop.microtubules.nodes
    assert len(nodes) > 0 and np.all(nodes >= crop.offset)
    assert np.all(nodes < np.asarray(crop.offset) + np.array(crop.shape) * crop.voxel_size)
    with pytest.raises(InvalidInput, match="does not fit"):
        volume.crop((30, 0, 0), (20, 10, 10))


@pytest.mark.skipif(
    __import__("platform").machine().lower() not in ("x86_64", "amd64"),
    reason="OpenBLAS core types are x86-64 names",
)
def test_same_seed_same_volume_on_any_x86_cpu(tmp_path):
    """`emzoo synth` pins OpenBLAS's AVX2 kernels before numpy loads: without the pin, an AVX-512
    machine rounded the geometry's norms differently and this held-out volume of the demo weights
    came out with 120 presynaptic sites and 574 microtubules instead of the 122 and 480 their
    recorded metrics were measured on (docs/data.md)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    out = tmp_path / "held.zarr"
    cmd = [sys.executable, "-m", "emzoo", "synth", "--out", str(out), "--json"]
    cmd += ["--shape", "48,384,384", "--mode", "anisotropic", "--seed", "102"]
    cmd += ["--synapse-density", "60"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert (summary["presynaptic_sites"], summary["microtubules"]) == (122, 480)
    assert "Haswell" in read_zarr(out).attrs["blas"]
