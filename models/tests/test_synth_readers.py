"""Readers for real data layouts: CREMI HDF5, zarr/N5 with gunpowder-style attributes."""

import h5py
import numpy as np
import pytest
import zarr

from emzoo.data import read_cremi, read_volume, read_zarr
from emzoo.errors import InvalidInput


def _write_cremi(path, partners=((1, 3), (1, 4), (2, 5)), types=None):
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 255, (5, 20, 24), dtype=np.uint8)
    labels = rng.integers(1, 4, raw.shape).astype(np.uint64)
    with h5py.File(path, "w") as f:
        f.attrs["file_format"] = "0.2"
        f.create_dataset("volumes/raw", data=raw).attrs["resolution"] = (40.0, 4.0, 4.0)
        f["volumes/raw"].attrs["offset"] = (80.0, 40.0, 40.0)
        f.create_dataset("volumes/labels/neuron_ids", data=labels)
        f["volumes/labels/neuron_ids"].attrs["resolution"] = (40.0, 4.0, 4.0)
        f["volumes/labels/neuron_ids"].attrs["offset"] = (80.0, 40.0, 40.0)
        ann = f.create_group("annotations")
        ann.attrs["offset"] = (80.0, 40.0, 40.0)  # locations are relative to this
        ann["ids"] = np.array([1, 2, 3, 4, 5], np.uint64)
        ann["types"] = np.array(
            types or ["presynaptic_site"] * 2 + ["postsynaptic_site"] * 3, dtype=h5py.string_dtype()
        )
        ann["locations"] = np.array(
            [[40, 20, 20], [120, 60, 60], [40, 30, 40], [40, 10, 8], [160, 70, 50]], np.float64
        )
        ann["presynaptic_site/partners"] = np.array(partners, np.uint64)
    return raw, labels


def test_read_cremi_hdf5(tmp_path):
    raw, labels = _write_cremi(tmp_path / "sample.hdf")
    volume = read_volume(tmp_path / "sample.hdf")
    assert np.array_equal(volume.raw, raw) and np.array_equal(volume.neurons, labels)
    assert volume.voxel_size == (40.0, 4.0, 4.0) and volume.offset == (80.0, 40.0, 40.0)
    syn = volume.synapses
    assert syn.pre_ids.tolist() == [1, 1, 2] and syn.post_ids.tolist() == [3, 4, 5]
    # world location = stored location + annotations offset
    assert syn.pre_locations[0].tolist() == [120.0, 60.0, 60.0]
    assert syn.post_locations[2].tolist() == [240.0, 110.0, 90.0]
    # the post of pair 3 lies in voxel ((240-80)/40, (110-40)/4, (90-40)/4) = (4, 17, 12)
    assert volume.neurons_at(syn.post_locations[2:])[0] == labels[4, 17, 12]


def test_read_cremi_rejects_inconsistent_annotations(tmp_path):
    _write_cremi(tmp_path / "bad.hdf", partners=((1, 9),))
    with pytest.raises(InvalidInput, match="unknown annotation id"):
        read_cremi(tmp_path / "bad.hdf")
    _write_cremi(tmp_path / "swapped.hdf", partners=((3, 1),))
    with pytest.raises(InvalidInput, match="is not \\(presynaptic_site"):
        read_cremi(tmp_path / "swapped.hdf")
    with pytest.raises(InvalidInput, match="does not exist"):
        read_cremi(tmp_path / "missing.hdf")
    with h5py.File(tmp_path / "empty.hdf", "w") as f:
        f["other"] = np.zeros(3)
    with pytest.raises(InvalidInput, match="volumes/raw"):
        read_cremi(tmp_path / "empty.hdf")


def test_read_zarr_with_cremi_style_names(tmp_path):
    root = zarr.open_group(str(tmp_path / "c.zarr"), mode="w")
    raw = np.arange(4 * 6 * 8, dtype=np.uint8).reshape(4, 6, 8)
    root.create_dataset("volumes/raw", data=raw).attrs.update(
        {"resolution": [40, 4, 4], "offset": [40, 8, 8]}
    )
    root.create_dataset("volumes/labels/neuron_ids", data=np.ones(raw.shape, np.uint32))
    volume = read_zarr(tmp_path / "c.zarr")
    assert np.array_equal(volume.raw, raw)
    assert volume.neurons.dtype == np.uint64 and volume.voxel_size == (40.0, 4.0, 4.0)
    assert volume.offset == (40.0, 8.0, 8.0) and len(volume.synapses) == 0


def test_read_n5_with_gunpowder_attributes(tmp_path):
    # N5 containers written by the Java tools store resolution/offset in x,y,z order
    root = zarr.open_group(store=zarr.N5Store(str(tmp_path / "d.n5")), mode="w")
    raw = np.arange(3 * 5 * 7, dtype=np.uint8).reshape(3, 5, 7)
    root.create_dataset("volumes/raw/s0", data=raw, chunks=(3, 5, 7)).attrs.update(
        {"resolution": [4, 4, 40], "offset": [0, 8, 120]}
    )
    volume = read_volume(tmp_path / "d.n5")
    assert np.array_equal(volume.raw, raw)
    assert volume.voxel_size == (40.0, 4.0, 4.0) and volume.offset == (120.0, 8.0, 0.0)
    assert volume.neurons is None


def test_read_zarr_errors(tmp_path):
    with pytest.raises(InvalidInput, match="does not exist"):
        read_zarr(tmp_path / "nope.zarr")
    zarr.open_group(str(tmp_path / "e.zarr"), mode="w").create_dataset("other", data=np.zeros(3))
    with pytest.raises(InvalidInput, match="no raw"):
        read_zarr(tmp_path / "e.zarr")
    with pytest.raises(InvalidInput, match="unknown volume format"):
        read_volume(tmp_path / "x.tif")


def test_microtubule_graph_keeps_every_piece_of_a_cut_track():
    from emzoo.data import Microtubules

    pieces = [
        np.array([[0.0, 0, 0], [0, 0, 40]]),
        np.array([[0.0, 80, 0], [0, 80, 40], [0, 80, 80]]),
        np.array([[40.0, 0, 0], [40, 4, 0]]),
    ]
    graph = Microtubules.from_polylines(pieces, [7, 7, 9])
    assert graph.edges.tolist() == [[0, 1], [2, 3], [3, 4], [5, 6]]
    ids, lines = graph.polylines()
    assert ids == [7, 7, 9]
    assert all(np.array_equal(a, b) for a, b in zip(lines, pieces, strict=True))
