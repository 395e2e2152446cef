"""Paint an EM-like intensity image (float, 0 = black, 1 = white) from the geometry: cytoplasm
with texture, dark membranes, mitochondria with cristae, microtubules, vesicle clouds, T-bars
and postsynaptic densities. Section effects, blur and noise are added after cropping."""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage

from emzoo.data.synth.grid import Grid
from emzoo.data.synth.modes import Mode
from emzoo.data.synth.organelles import Mitochondrion
from emzoo.data.synth.synapses import VESICLE_STYLES, Site, vesicle_centres


def _paint(image, window, alpha, value):
    image[window] = image[window] * (1 - alpha) + value * alpha


def _soft(dist, radius, edge=2.0):
    return np.clip((radius - dist) / edge + 0.5, 0.0, 1.0)


def base_image(rng, labels, grid: Grid, mode: Mode) -> np.ndarray:
    brightness = rng.uniform(0.58, 0.78, int(labels.max()) + 1).astype(np.float32)
    image = brightness[labels.astype(np.int64)]
    sigma = [60.0 / v for v in grid.voxel_size]
    cloud = ndimage.gaussian_filter(rng.normal(size=grid.shape).astype(np.float32), sigma)
    image += cloud * (0.04 / max(float(cloud.std()), 1e-6))
    # granules (ribosomes, ER fragments): sparse dark specks a few nm wide
    specks = (rng.random(grid.shape) < 0.004).astype(np.float32)
    image -= 0.5 * ndimage.gaussian_filter(specks, [max(0.4, 3.0 / v) for v in grid.voxel_size])
    return image


def membranes(labels, mode: Mode, grid: Grid) -> np.ndarray:
    """Darkness of the cell membranes: in-plane label changes, plus fainter ones across z."""
    edge = np.zeros(labels.shape, np.float32)
    both = grid.voxel_size[1] < 6  # at 4 nm a membrane covers the voxels on both sides
    for axis in (1, 2) if mode.z_membrane < 1 else (0, 1, 2):
        a = [slice(None)] * 3
        b = [slice(None)] * 3
        a[axis], b[axis] = slice(None, -1), slice(1, None)
        diff = labels[tuple(a)] != labels[tuple(b)]
        edge[tuple(a)] = np.maximum(edge[tuple(a)], diff)
        if both:
            edge[tuple(b)] = np.maximum(edge[tuple(b)], diff)
    if mode.z_membrane < 1:
        diff = (labels[:-1] != labels[1:]).astype(np.float32) * mode.z_membrane
        edge[:-1] = np.maximum(edge[:-1], diff)
        edge[1:] = np.maximum(edge[1:], diff)
    sigma = (0.0, 0.7, 0.7) if mode.z_membrane < 1 else (0.6, 0.6, 0.6)
    return np.clip(ndimage.gaussian_filter(edge, sigma) * 1.6, 0.0, 0.85)


def paint_mitochondria(image, labels, grid: Grid, mitos: list[Mitochondrion]) -> None:
    for m in mitos:
        period = 22.0
        for p0, p1 in itertools.pairwise(m.points):
            hit = grid.capsule(p0, p1, m.radius + 4)
            if hit is None:
                continue
            window, dist = hit
            own = labels[window] == m.neurite
            z, y, x = grid.centres(window)
            # cristae: stripes across the axis
            axis = (p1 - p0) / max(np.linalg.norm(p1 - p0), 1e-9)
            phase = (z * axis[0] + y * axis[1] + x * axis[2]) * 2 * np.pi / period
            inside = _soft(dist, m.radius) * own
            rim = np.exp(-(((dist - m.radius) / 3.0) ** 2)) * own
            alpha = np.maximum(inside * (0.45 + 0.2 * (np.sin(phase) > 0.3)), 0.75 * rim)
            _paint(image, window, alpha.astype(np.float32), 0.18)


def paint_microtubules(image, labels, grid: Grid, tracks) -> None:
    for neurite, line in tracks:
        for p0, p1 in itertools.pairwise(line):
            hit = grid.capsule(p0, p1, 16.0)
            if hit is None:
                continue
            window, dist = hit
            own = labels[window] == neurite
            # real-EM contrast: a dark protein wall (outer diameter 25 nm) around a paler lumen
            wall = np.exp(-(((dist - 10.0) / 4.0) ** 2))
            lumen = _soft(dist, 8.0)
            alpha = np.maximum(0.85 * wall, 0.35 * lumen) * own
            _paint(image, window, alpha.astype(np.float32), 0.12)


def paint_synapses(
    rng, image, labels, grid: Grid, sites: list[Site], transmitters: dict[int, int]
) -> None:
    for site in sites:
        style = VESICLE_STYLES[transmitters[site.pre_neuron]]
        core_dark = float(np.clip(style.core + rng.normal(0, 0.07), 0.0, 0.9))
        for centre, radius in zip(*vesicle_centres(rng, site, labels, grid, style), strict=True):
            hit = grid.capsule(centre, centre, radius + 6)
            if hit is None:
                continue
            window, dist = hit
            # the membrane: a dark ring ~6 nm thick, as a vesicle's bilayer images in real EM
            rim = style.rim * np.exp(-(((dist - radius) / 3.5) ** 2))
            core = core_dark * _soft(dist, radius - 3.0)
            _paint(image, window, np.maximum(rim, core).astype(np.float32), 0.12)
        # T-bar: pedestal from the membrane into the bouton, topped by a platform
        tip = site.pre + site.normal * 25.0
        hit = grid.capsule(tip, site.pre - site.normal * 12.0, 20.0)
        if hit is not None:
            window, dist = hit
            _paint(
                image,
                window,
                (0.85 * _soft(dist, 14.0) * (labels[window] == site.pre_neuron)).astype(np.float32),
                0.06,
            )
        side = np.cross(site.normal, [1.0, 0.0, 0.0])
        side = side / max(np.linalg.norm(side), 1e-9)
        top = site.pre - site.normal * 14.0
        hit = grid.capsule(top - side * 32.0, top + side * 32.0, 12.0)
        if hit is not None:
            window, dist = hit
            _paint(
                image,
                window,
                (0.75 * _soft(dist, 8.0) * (labels[window] == site.pre_neuron)).astype(np.float32),
                0.08,
            )
        # postsynaptic densities: partner cytoplasm right at the contact
        for _, contact, neuron in site.posts:
            window = grid.window(contact - 80.0, contact + 80.0)
            if window is None:
                continue
            local = labels[window]
            if not (local == site.pre_neuron).any():
                continue
            to_pre = ndimage.distance_transform_edt(
                local != site.pre_neuron, sampling=grid.voxel_size
            )
            z, y, x = grid.centres(window)
            near = (
                np.sqrt((z - contact[0]) ** 2 + (y - contact[1]) ** 2 + (x - contact[2]) ** 2)
                < 75.0
            )
            # a dense band as thick as in real EM (~30 nm), darker than the membrane next to it
            psd = (local == neuron) & near & (to_pre <= 30.0)
            _paint(image, window, (0.8 * psd).astype(np.float32), 0.08)


def finish(rng, image: np.ndarray, mode: Mode) -> np.ndarray:
    """Section brightness changes, milling curtains, blur and noise → uint8."""
    if mode.section_gain_std:
        gain = rng.normal(1.0, mode.section_gain_std, (image.shape[0], 1, 1))
        shift = rng.normal(0.0, mode.section_gain_std / 2, (image.shape[0], 1, 1))
        image = image * gain.astype(np.float32) + shift.astype(np.float32)
    if mode.curtaining:
        streaks = (
            ndimage.gaussian_filter1d(rng.normal(0, 1, image.shape[2]), 1.5) * mode.curtaining / 0.3
        )
        drift = np.linspace(-1, 1, image.shape[0])[:, None, None] * mode.curtaining
        image = image + streaks[None, None, :].astype(np.float32) + drift.astype(np.float32)
    image = ndimage.gaussian_filter(image, mode.blur_px)
    image = image + rng.normal(0, mode.noise_std, image.shape).astype(np.float32)
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)
