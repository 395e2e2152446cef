"""CREMI-style HDF5 (volumes/raw, volumes/labels/neuron_ids, annotations/...) → EMVolume.

Annotation locations are relative to the ``/annotations`` ``offset`` attribute (nm), volumes
carry ``resolution`` and an optional ``offset`` (as the CREMI python package writes them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emzoo.data.volume import EMVolume, Synapses
from emzoo.errors import InvalidInput, MissingDependency


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the train extra
        raise MissingDependency(
            "h5py is not installed", hint="pip install 'emzoo[train]'"
        ) from None
    return h5py


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def read_cremi(path: str | Path) -> EMVolume:
    h5py = _h5py()
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"{path} does not exist", hint="check the path of the CREMI HDF5 file")
    with h5py.File(path, "r") as f:
        if "volumes/raw" not in f:
            raise InvalidInput(f"{path} has no volumes/raw", hint="is this a CREMI-format file?")
        raw = f["volumes/raw"]
        voxel = tuple(float(v) for v in raw.attrs.get("resolution", (1.0, 1.0, 1.0)))
        offset = tuple(float(o) for o in raw.attrs.get("offset", (0.0, 0.0, 0.0)))
        volume = EMVolume(
            raw=np.asarray(raw[...]), voxel_size=voxel, offset=offset, attrs={"source": str(path)}
        )
        if "volumes/labels/neuron_ids" in f:
            labels = f["volumes/labels/neuron_ids"]
            label_offset = tuple(float(o) for o in labels.attrs.get("offset", (0.0, 0.0, 0.0)))
            if labels.shape != raw.shape or label_offset != offset:
                raise InvalidInput(
                    f"{path}: neuron_ids {labels.shape} at {label_offset} nm does not cover raw {raw.shape} at {offset} nm",
                    hint="crop raw and labels to the same region (padded CREMI files have larger raw)",
                )
            volume.neurons = np.asarray(labels[...]).astype(np.uint64)
        if "volumes/labels/mask" in f:
            volume.mask = np.asarray(f["volumes/labels/mask"][...]).astype(np.uint8)
        if "annotations" in f and "annotations/ids" in f:
            volume.synapses = _synapses(f["annotations"], path)
    return volume


def _synapses(group, path) -> Synapses:
    ids = np.asarray(group["ids"][...], np.uint64)
    locations = np.asarray(group["locations"][...], np.float64).reshape(-1, 3)
    locations = locations + np.asarray(group.attrs.get("offset", (0.0, 0.0, 0.0)), np.float64)
    types = _text(group["types"][...]) if "types" in group else []
    if len(ids) != len(locations):
        raise InvalidInput(
            f"{path}: {len(ids)} annotation ids but {len(locations)} locations",
            hint="fix the annotations group",
        )
    where = {int(i): k for k, i in enumerate(ids.tolist())}
    if "presynaptic_site/partners" not in group:
        return Synapses.empty()
    partners = np.asarray(group["presynaptic_site/partners"][...], np.uint64).reshape(-1, 2)
    rows = []
    for pre, post in partners.tolist():
        if pre not in where or post not in where:
            raise InvalidInput(
                f"{path}: partner pair ({pre}, {post}) refers to an unknown annotation id",
                hint="fix annotations/presynaptic_site/partners",
            )
        if types and (
            types[where[pre]] != "presynaptic_site" or types[where[post]] != "postsynaptic_site"
        ):
            raise InvalidInput(
                f"{path}: partner pair ({pre}, {post}) is not (presynaptic_site, postsynaptic_site)",
                hint="partners are stored as (pre id, post id)",
            )
        rows.append((where[pre], where[post]))
    pre_idx = np.array([r[0] for r in rows], np.int64)
    post_idx = np.array([r[1] for r in rows], np.int64)
    return Synapses(locations[pre_idx], locations[post_idx], ids[pre_idx], ids[post_idx])
