"""EMVolume <-> zarr 2 (and N5 via zarr's N5Store). Layout in docs/data.md.

Spatial datasets carry ``voxel_size`` and ``offset`` (nm, z,y,x) plus gunpowder's
``resolution``/``offset`` pair, so gunpowder's ZarrSource reads them directly.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from emzoo.data.volume import EMVolume, Microtubules, Synapses
from emzoo.errors import InvalidInput, MissingDependency

LAYOUT_VERSION = 1
# dataset names tried in order when reading (ours first, then CREMI/gunpowder-style names)
RAW_NAMES = ("raw", "volumes/raw", "volumes/raw/s0", "raw/s0")
NEURON_NAMES = (
    "labels/neurons",
    "volumes/labels/neuron_ids",
    "labels/neuron_ids",
    "volumes/labels/neurons",
)
MASK_NAMES = ("labels/mask", "volumes/labels/mask", "volumes/masks/training")


def _zarr():
    try:
        import zarr
    except ImportError:  # pragma: no cover - zarr is in the train extra
        raise MissingDependency(
            "zarr is not installed", hint="pip install 'emzoo[train]'"
        ) from None
    return zarr


def _is_n5(path: Path) -> bool:
    return path.suffix == ".n5" or (path / "attributes.json").exists()


def _store(path: Path, mode: str):
    zarr = _zarr()
    if not _is_n5(path):
        return zarr.DirectoryStore(str(path))
    store_cls = getattr(zarr, "N5FSStore", None) or getattr(zarr, "N5Store", None)
    if store_cls is None:
        raise MissingDependency(
            f"{path} is an N5 container but this zarr has no N5Store",
            hint="install zarr 2.x with N5 support (pip install 'zarr>=2.18,<3' n5 extras) or convert to zarr",
        )
    with warnings.catch_warnings():  # zarr 2 flags N5 stores as going away in zarr 3
        warnings.simplefilter("ignore", FutureWarning)
        return store_cls(str(path))


def _spatial_attrs(volume: EMVolume) -> dict:
    vs = [float(v) for v in volume.voxel_size]
    off = [float(o) for o in volume.offset]
    return {
        "voxel_size": vs,
        "offset": off,
        "resolution": vs,
        "axes": ["z", "y", "x"],
        "units": "nm",
    }


def write_zarr(
    volume: EMVolume, path: str | Path, chunks: tuple[int, int, int] | None = None
) -> Path:
    """Write ``volume`` to a new zarr (or .n5) container at ``path`` (replaced if present)."""
    zarr = _zarr()
    path = Path(path)
    root = zarr.group(store=_store(path, "w"), overwrite=True)
    chunks = chunks or tuple(min(s, c) for s, c in zip(volume.shape, (16, 128, 128), strict=True))
    attrs = _spatial_attrs(volume)

    def spatial(name, data):
        ds = root.create_dataset(name, data=data, chunks=chunks, overwrite=True)
        ds.attrs.update(attrs)

    spatial("raw", volume.raw.astype(np.uint8))
    if volume.neurons is not None:
        spatial("labels/neurons", volume.neurons.astype(np.uint64))
    if volume.mask is not None:
        spatial("labels/mask", volume.mask.astype(np.uint8))
    syn = root.require_group("synapses")
    syn.array(
        "pre_locations",
        np.asarray(volume.synapses.pre_locations, np.float64).reshape(-1, 3),
        overwrite=True,
    )
    syn.array(
        "post_locations",
        np.asarray(volume.synapses.post_locations, np.float64).reshape(-1, 3),
        overwrite=True,
    )
    syn.array("pre_ids", np.asarray(volume.synapses.pre_ids, np.uint64), overwrite=True)
    syn.array("post_ids", np.asarray(volume.synapses.post_ids, np.uint64), overwrite=True)
    syn.array("neuron_ids", np.asarray(volume.neuron_ids, np.uint64), overwrite=True)
    syn.array(
        "neuron_transmitters", np.asarray(volume.neuron_transmitters, np.int64), overwrite=True
    )
    syn.attrs.update(
        {
            "units": "nm",
            "axes": ["z", "y", "x"],
            "transmitter_names": list(volume.transmitter_names),
        }
    )
    if volume.microtubules is not None:
        mt = root.require_group("microtubules")
        mt.array(
            "nodes",
            np.asarray(volume.microtubules.nodes, np.float64).reshape(-1, 3),
            overwrite=True,
        )
        mt.array(
            "node_tracks", np.asarray(volume.microtubules.node_tracks, np.uint64), overwrite=True
        )
        mt.array(
            "edges", np.asarray(volume.microtubules.edges, np.int64).reshape(-1, 2), overwrite=True
        )
        mt.attrs.update({"units": "nm", "axes": ["z", "y", "x"]})
        if volume.microtubule_labels is not None:
            spatial("microtubules/labels", volume.microtubule_labels.astype(np.uint64))
    root.attrs.update({"emzoo_layout": LAYOUT_VERSION, **_jsonable(volume.attrs)})
    return path


def _jsonable(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, np.generic):
            v = v.item()
        elif isinstance(v, tuple):
            v = list(v)
        out[k] = v
    return out


def _find(root, names, what, path, required=True):
    for name in names:
        if name in root and isinstance(root[name], _zarr().Array):  # skip groups (multiscale)
            return root[name]
    if required:
        raise InvalidInput(
            f"{path} has no {what} dataset (looked for {', '.join(names)})",
            hint="write the volume with `emzoo synth` / emzoo.data.write_zarr, or rename the dataset",
        )
    return None


def _geometry(ds, n5: bool) -> tuple[tuple[float, ...], tuple[float, ...]]:
    attrs = dict(ds.attrs)
    if "voxel_size" in attrs:
        vs = attrs["voxel_size"]
    elif "resolution" in attrs:  # gunpowder convention: N5 stores x,y,z
        vs = attrs["resolution"][::-1] if n5 else attrs["resolution"]
    else:
        vs = (1.0, 1.0, 1.0)
    off = attrs.get("offset", (0.0, 0.0, 0.0))
    if n5 and "voxel_size" not in attrs:
        off = off[::-1]
    return tuple(float(v) for v in vs), tuple(float(o) for o in off)


def read_zarr(path: str | Path) -> EMVolume:
    """Read a zarr or N5 container (our layout, or raw + neuron ids under CREMI-style names)."""
    zarr = _zarr()
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", hint="check the path of the zarr/N5 container")
    n5 = _is_n5(path)
    root = zarr.open_group(store=_store(path, "r"), mode="r")
    raw_ds = _find(root, RAW_NAMES, "raw", path)
    voxel_size, offset = _geometry(raw_ds, n5)
    neurons = _find(root, NEURON_NAMES, "neuron label", path, required=False)
    mask = _find(root, MASK_NAMES, "mask", path, required=False)
    volume = EMVolume(
        raw=np.asarray(raw_ds[...]),
        voxel_size=voxel_size,
        offset=offset,
        neurons=None if neurons is None else np.asarray(neurons[...]).astype(np.uint64),
        mask=None if mask is None else np.asarray(mask[...]).astype(np.uint8),
        attrs=dict(root.attrs),
    )
    if "synapses" in root:
        syn = root["synapses"]
        volume.synapses = Synapses(
            np.asarray(syn["pre_locations"][...], np.float64).reshape(-1, 3),
            np.asarray(syn["post_locations"][...], np.float64).reshape(-1, 3),
            np.asarray(syn["pre_ids"][...], np.uint64),
            np.asarray(syn["post_ids"][...], np.uint64),
        )
        if "neuron_ids" in syn:
            volume.neuron_ids = np.asarray(syn["neuron_ids"][...], np.uint64)
            volume.neuron_transmitters = np.asarray(syn["neuron_transmitters"][...], np.int64)
        if "transmitter_names" in syn.attrs:
            volume.transmitter_names = tuple(syn.attrs["transmitter_names"])
    if "microtubules" in root:
        mt = root["microtubules"]
        volume.microtubules = Microtubules(
            np.asarray(mt["nodes"][...], np.float64).reshape(-1, 3),
            np.asarray(mt["node_tracks"][...], np.uint64),
            np.asarray(mt["edges"][...], np.int64).reshape(-1, 2),
        )
        if "labels" in mt:
            volume.microtubule_labels = np.asarray(mt["labels"][...]).astype(np.uint64)
    return volume
