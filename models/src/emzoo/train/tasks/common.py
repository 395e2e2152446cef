"""Shared pieces of the task pipelines: reading the volume, sources, augmentation, sampling."""

from __future__ import annotations

from pathlib import Path

import gunpowder as gp
import kornia.augmentation as K
import numpy as np

from emzoo.augment import TorchAugment
from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.preset import Preset
from emzoo.train.gp_nodes import NumpySource


def load_volume(path: str | Path) -> EMVolume:
    """zarr / N5 (emzoo layout or CREMI-style names) or CREMI HDF5, fully into memory."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(
            f"training data {path} does not exist", hint="write one with `emzoo synth`"
        )
    from emzoo.data import read_volume

    volume = read_volume(path)
    volume.attrs.setdefault("path", str(path))
    return volume


def load_volumes(paths, preset: Preset) -> EMVolume:
    """One volume, or several laid side by side (emzoo.data.mosaic) with gaps wider than any
    request of ``preset`` (input box plus the augmentation margins), so samples never mix."""
    from emzoo.data.mosaic import mosaic

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    volumes = [load_volume(p) for p in paths]
    gap = 2 * int(max(preset.train_input_shape)) + 16
    return mosaic(volumes, gap)


def _ints(values, what: str) -> tuple[int, int, int]:
    out = tuple(round(float(v)) for v in values)
    if any(abs(float(v) - o) > 1e-6 for v, o in zip(values, out, strict=True)):
        raise InvalidInput(
            f"{what} {tuple(values)} is not whole nm", hint="gunpowder needs integer nm"
        )
    return out  # type: ignore[return-value]


def grid_of(volume: EMVolume, preset: Preset) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(voxel size, offset) in integer nm; the data's voxel size must be the preset's."""
    vs = _ints(volume.voxel_size, "voxel size")
    want = _ints(preset.voxel_size_nm, "preset voxel size")
    if vs != want:
        mode = "isotropic" if len(set(want)) == 1 else "anisotropic"
        raise InvalidInput(
            f"data voxel size {vs} nm differs from preset {preset.name}'s {want} nm",
            hint=f"train on data at {want} nm (e.g. `emzoo synth --mode {mode}`) or pick a preset for this data",
        )
    return vs, _ints(volume.offset, "offset")


def source(key: gp.ArrayKey, data: np.ndarray, offset, voxel_size):
    """An in-memory array padded with zeros outside its ROI (any request fits)."""
    return NumpySource(key, data, offset, voxel_size) + gp.Pad(key, None)


def merged(*pipelines):
    return pipelines + gp.MergeProvider()


def anisotropic(voxel_size) -> bool:
    return voxel_size[0] != voxel_size[1]


def geometric_augmentation(voxel_size) -> K.AugmentationSequential:
    """Random rotation (about z only for anisotropic sections, plus small tilts when isotropic),
    mild scaling, flips: in voxel index space, so it needs y and x voxel sizes to be equal."""
    if anisotropic(voxel_size):
        rot = K.RandomAffine3D(degrees=((0, 0), (0, 0), (-180, 180)), p=1.0, align_corners=True)
        flips = [K.RandomHorizontalFlip3D(p=0.5), K.RandomVerticalFlip3D(p=0.5)]
    else:
        rot = K.RandomAffine3D(
            degrees=((-15, 15), (-15, 15), (-180, 180)), scale=(0.9, 1.1), p=1.0, align_corners=True
        )
        flips = [
            K.RandomHorizontalFlip3D(p=0.5),
            K.RandomVerticalFlip3D(p=0.5),
            K.RandomDepthicalFlip3D(p=0.5),
        ]
    return K.AugmentationSequential(rot, *flips)


def augmentation_context(shape_voxels, voxel_size) -> tuple[int, int, int]:
    """World margin so a rotation about z (and ±15° tilts, x0.9 scale when isotropic) of the
    requested box samples real data: 0.3 of the box per side (0 in z for sections)."""
    ctx = [int(np.ceil(0.3 * s)) * v for s, v in zip(shape_voxels, voxel_size, strict=True)]
    if anisotropic(voxel_size):
        ctx[0] = 0
    return tuple(ctx)  # type: ignore[return-value]


def torch_augment(raw, voxel_size, in_shape, labels=(), masks=(), vectors=(), device=None):
    return TorchAugment(
        geometric_augmentation(voxel_size),
        raw=raw,
        labels=labels,
        masks=masks,
        vectors=vectors,
        context=augmentation_context(in_shape, voxel_size),
        device=device,
    )


def intensity_augment(raw, voxel_size):
    # section-wise (one scale/shift per z slice) for serial sections, as the originals did
    slab = (1, -1, -1) if anisotropic(voxel_size) else None
    return gp.IntensityAugment(raw, 0.9, 1.1, -0.1, 0.1, slab=slab)


def output_shape(preset: Preset) -> tuple[int, int, int]:
    from emzoo.nets.shapes import describe

    return tuple(describe(preset)["output_shape"])  # type: ignore[return-value]


def spec(shape_voxels, voxel_size) -> gp.ArraySpec:
    vs = gp.Coordinate(voxel_size)
    return gp.ArraySpec(roi=gp.Roi((0, 0, 0), gp.Coordinate(shape_voxels) * vs), voxel_size=vs)


def volume_box(volume: EMVolume, voxel_size, offset) -> tuple[np.ndarray, np.ndarray]:
    lo = np.asarray(offset, np.float64)
    return lo, lo + np.asarray(volume.shape) * np.asarray(voxel_size, np.float64)


def uniform_sampler(volume: EMVolume, voxel_size, offset, out_shape, mask=None, min_masked=0.0):
    """Centres uniform over the volume such that the output box lies inside it (RandomLocation);
    with ``mask``, retried until at least ``min_masked`` of the output box is masked in."""
    lo, hi = volume_box(volume, voxel_size, offset)
    half = np.asarray(out_shape) * np.asarray(voxel_size) / 2
    # several volumes side by side (emzoo.data.mosaic): pick one by its size, then a centre in it
    tiles = np.asarray(volume.attrs.get("tiles") or [[lo, hi]], np.float64)
    a = tiles[:, 0] + half
    b = np.maximum(tiles[:, 1] - half, a)
    weight = np.prod(tiles[:, 1] - tiles[:, 0], axis=1)
    weight = weight / weight.sum()

    def sample(rng):
        for _ in range(20):
            t = int(rng.choice(len(tiles), p=weight)) if len(tiles) > 1 else 0
            c = rng.uniform(a[t], b[t])
            if mask is None or min_masked <= 0:
                return c, {}
            v0 = np.floor((c - half - lo) / voxel_size).astype(int)
            box = mask[
                tuple(slice(max(0, s), max(0, s + n)) for s, n in zip(v0, out_shape, strict=True))
            ]
            if box.size and box.mean() >= min_masked:
                return c, {}
        return c, {}

    return sample


def near_points_sampler(points, volume, voxel_size, offset, out_shape, p_nonempty, fallback):
    """With probability ``p_nonempty`` centre the output box so it contains a random point
    (RandomLocation(ensure_nonempty=..., p_nonempty=...)), else ``fallback``."""
    points = np.asarray(points, np.float64).reshape(-1, 3)
    half = np.asarray(out_shape) * np.asarray(voxel_size) / 2

    def sample(rng):
        if len(points) and rng.random() < p_nonempty:
            p = points[rng.integers(len(points))]
            return p + rng.uniform(-half * 0.8, half * 0.8), {}
        return fallback(rng)

    return sample


class NotInterpolatable(gp.BatchFilter):
    """Marks an array (a uint8 0/1 mask) as not interpolatable, so ElasticAugment resamples it
    by nearest neighbour instead of linearly, as the originals' mask sources declared."""

    def __init__(self, key: gp.ArrayKey) -> None:
        self.key = key

    def setup(self) -> None:
        spec = self.spec[self.key].copy()
        spec.interpolatable = False
        self.updates(self.key, spec)
        self.enable_autoskip()

    def process(self, batch, request):
        if self.key in batch:
            batch[self.key].spec.interpolatable = False


def augmentation(
    profile: str,
    task: str,
    preset: Preset,
    voxel_size,
    raw,
    labels=(),
    masks=(),
    vectors=(),
    device=None,
    simple: bool = True,
):
    """The augmentation nodes of ``profile`` ("originals", "kornia" or "none"; "kornia-light"
    is each task's own pre-profile code) for the dataset the preset's data look like.

    ``simple=False`` leaves out SimpleAugment (Synful's vector arrays: a transpose would swap
    voxels without swapping the vector components)."""
    from emzoo.augment.profiles import dataset_augmentation

    nodes = []
    if profile == "none":
        return nodes
    d = dataset_augmentation(task, voxel_size, preset.train_input_shape)
    simple_node = gp.SimpleAugment(
        mirror_only=list(d.mirror_only) if d.mirror_only else None,
        transpose_only=list(d.transpose_only) if d.transpose_only else None,
    )
    if profile == "originals":
        nodes += [NotInterpolatable(m) for m in masks]
        nodes += [e.node() for e in d.elastic_before]
        nodes += [simple_node] if simple else []
        nodes += [e.node() for e in d.elastic_after]
    elif profile == "kornia":
        nodes.append(
            torch_augment(
                raw,
                voxel_size,
                preset.train_input_shape,
                labels=labels,
                masks=masks,
                vectors=vectors,
                device=device,
            )
        )
        nodes += [simple_node] if simple else []
        misalign = [e.misalignment_only() for e in (*d.elastic_before, *d.elastic_after)]
        nodes += [NotInterpolatable(m) for m in masks] if any(misalign) else []
        nodes += [m.node() for m in misalign if m is not None]
    else:
        raise ValueError(f"profile {profile!r} is built by the task module")
    slab = (1, -1, -1) if d.section_wise_intensity else None
    nodes.append(gp.IntensityAugment(raw, 0.9, 1.1, -0.1, 0.1, slab=slab))
    return nodes


def chain(pipeline, nodes):
    for node in nodes:
        pipeline += node
    return pipeline


def no_stage1(preset: Preset, stage1) -> None:
    if stage1 is not None:
        raise InvalidInput(
            f"--stage1 is for autocontext LSD presets, not {preset.name}",
            hint="drop --stage1, or pick an autocontext preset (e.g. lsd-small-acrlsd)",
        )
