"""Synthetic EM volume with ground truth for LSD, Synful, Synister and Micron.

Geometry is built on a grid padded by some context (so objects continue beyond the borders)
and, for serial sections, by the largest section shift; every section is then cropped with its
own xy shift, which moves image, labels and annotations together as a misaligned stack would.
"""

from __future__ import annotations

import time

import numpy as np

from emzoo.data.synth.grid import Grid
from emzoo.data.synth.modes import get_mode
from emzoo.data.synth.neurites import grow_neurites, label_neurites
from emzoo.data.synth.organelles import place_microtubules, place_mitochondria
from emzoo.data.synth.render import (
    base_image,
    finish,
    membranes,
    paint_microtubules,
    paint_mitochondria,
    paint_synapses,
)
from emzoo.data.synth.synapses import TRANSMITTER_PRIOR, place_sites
from emzoo.data.volume import EMVolume, Microtubules, Synapses
from emzoo.errors import InvalidInput
from emzoo.targets.micron import rasterize_tracks


def _blas_kernels() -> str:
    """Which BLAS kernels made the volume (the geometry depends on their rounding: docs/data.md)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    found = [
        f"{i.get('internal_api')} {i.get('architecture')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return ", ".join(sorted(set(found))) or "unknown"


GENERATOR_VERSION = 2  # 2: microtubules and postsynaptic densities with real-EM contrast


def _section_shifts(rng, mode, n: int) -> np.ndarray:
    shifts = (
        np.round(rng.normal(0, mode.section_jitter_px, (n, 2)))
        if mode.section_jitter_px
        else np.zeros((n, 2))
    )
    big = rng.random(n) < mode.misalign_prob
    shifts[big] += rng.integers(-mode.misalign_px, mode.misalign_px + 1, (int(big.sum()), 2))
    limit = int(np.ceil(3 * mode.section_jitter_px)) + mode.misalign_px
    return np.clip(shifts, -limit, limit).astype(np.int64), limit


class _Crop:
    """Maps padded-grid arrays and nm points to the output volume, section by section."""

    def __init__(self, shape, pad, shifts, voxel_size, offset):
        self.shape, self.pad, self.shifts = shape, pad, shifts
        self.vs = np.asarray(voxel_size, np.float64)
        self.offset = np.asarray(offset, np.float64)

    def array(self, data):
        out = np.empty(self.shape, data.dtype)
        pz, py, px = self.pad
        for k in range(self.shape[0]):
            dy, dx = self.shifts[k]
            out[k] = data[
                pz + k, py + dy : py + dy + self.shape[1], px + dx : px + dx + self.shape[2]
            ]
        return out

    def point(self, p) -> np.ndarray | None:
        k = int(np.floor(p[0] / self.vs[0])) - self.pad[0]
        if not 0 <= k < self.shape[0]:
            return None
        shift = np.array(
            [self.pad[0], self.pad[1] + self.shifts[k][0], self.pad[2] + self.shifts[k][1]]
        )
        q = p - shift * self.vs
        if np.any(q < 0) or np.any(q >= np.asarray(self.shape) * self.vs):
            return None
        return q + self.offset


def generate_volume(
    shape: tuple[int, int, int],
    mode: str = "anisotropic",
    seed: int = 0,
    synapse_density: float = 15.0,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
    mean_radius: float = 70.0,
) -> EMVolume:
    """A deterministic (per seed) synthetic volume; ``synapse_density`` = T-bars per um^3."""
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 4:
        raise InvalidInput(
            f"synthetic shape {shape} is too small",
            hint="give Z,Y,X with every size >= 4, e.g. 40,256,256",
        )
    started = time.perf_counter()
    m = get_mode(mode)
    rng = np.random.default_rng(seed)
    vs = np.asarray(m.voxel_size)
    shifts, limit = _section_shifts(rng, m, shape[0])
    context = np.ceil(60.0 / vs).astype(int)
    pad = (int(context[0]), int(context[1]) + limit, int(context[2]) + limit)
    grid = Grid(
        tuple(s + 2 * p for s, p in zip(shape, pad, strict=True)),
        m.voxel_size,
        m.projection * vs[0] / 2,
    )
    box = np.array([np.zeros(3) - 100.0, np.asarray(grid.shape) * vs + 100.0])

    branches = grow_neurites(rng, box, mean_radius=mean_radius)
    labels = label_neurites(branches, grid)
    n_neurites = max(b.neurite for b in branches)
    transmitters = {n: int(rng.choice(6, p=TRANSMITTER_PRIOR)) for n in range(1, n_neurites + 1)}

    region = tuple(slice(p + 2, p + s - 2) for p, s in zip(pad, shape, strict=True))
    volume_um3 = float(np.prod(np.asarray(shape) * vs)) / 1e9
    sites = place_sites(rng, labels, grid, region, max(1, round(synapse_density * volume_um3)))
    mitos = place_mitochondria(rng, branches, labels, grid)
    tracks = place_microtubules(rng, branches, labels, grid)

    image = base_image(rng, labels, grid, m)
    paint_mitochondria(image, labels, grid, mitos)
    paint_microtubules(image, labels, grid, tracks)
    paint_synapses(rng, image, labels, grid, sites, transmitters)
    dark = membranes(labels, m, grid)
    image = image * (1 - dark) + 0.1 * dark
    track_labels = rasterize_tracks([t for _, t in tracks], grid.shape, m.voxel_size)

    crop = _Crop(shape, pad, shifts, m.voxel_size, offset)
    raw = finish(rng, crop.array(image), m)
    neurons = crop.array(labels)
    mt_labels = crop.array(track_labels)

    # relabel to 1..N in the output and carry the transmitter table along
    present = np.unique(neurons)
    present = present[present != 0]
    mapping = np.zeros(n_neurites + 1, np.uint64)
    mapping[present.astype(np.int64)] = np.arange(1, len(present) + 1, dtype=np.uint64)
    neurons = mapping[neurons.astype(np.int64)]

    rows, next_id = [], 1
    for site in sites:
        pre = crop.point(site.pre)
        posts = [crop.point(post) for post, _, _ in site.posts]
        posts = [p for p in posts if p is not None]
        if pre is None or not posts:
            continue
        pre_id, next_id = next_id, next_id + 1
        for post in posts:
            rows.append((pre, post, pre_id, next_id))
            next_id += 1
    synapses = (
        Synapses(
            np.array([r[0] for r in rows]),
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows], np.uint64),
            np.array([r[3] for r in rows], np.uint64),
        )
        if rows
        else Synapses.empty()
    )

    polylines, ids = [], []
    for track_id, (_, line) in enumerate(tracks, start=1):
        mapped = [crop.point(p) for p in line]
        run: list[np.ndarray] = []
        for q in [*mapped, None]:
            if q is not None:
                run.append(q)
                continue
            if len(run) >= 2:
                polylines.append(np.array(run))
                ids.append(track_id)
            run = []
    present_tracks = set(np.unique(mt_labels).tolist()) - {0}
    keep = [i for i, t in enumerate(ids) if t in present_tracks]
    microtubules = Microtubules.from_polylines([polylines[i] for i in keep], [ids[i] for i in keep])

    return EMVolume(
        raw=raw,
        voxel_size=tuple(float(v) for v in m.voxel_size),
        offset=tuple(float(o) for o in offset),
        neurons=neurons,
        mask=np.ones(shape, np.uint8),
        synapses=synapses,
        neuron_ids=np.arange(1, len(present) + 1, dtype=np.uint64),
        neuron_transmitters=np.array([transmitters[int(n)] for n in present], np.int64),
        microtubules=microtubules,
        microtubule_labels=mt_labels,
        attrs={
            "generator": "emzoo.data.synth",
            "generator_version": GENERATOR_VERSION,
            "mode": m.name,
            "seed": int(seed),
            "shape": list(shape),
            "synapse_density_per_um3": synapse_density,
            "section_shifts_px": shifts.tolist(),
            "blas": _blas_kernels(),
            "seconds": round(time.perf_counter() - started, 3),
        },
    )
