"""Synapses at contacts between neurites: a presynaptic site (T-bar) in one neurite and 1-4
postsynaptic partner points across the membrane in its neighbours (polyadic, as in the fly),
plus the vesicle style of each transmitter class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emzoo.data.synth.grid import Grid


@dataclass(frozen=True)
class VesicleStyle:
    diameter: float  # nm
    count: int  # vesicles per presynaptic site
    core: float  # darkness of the vesicle interior (dense-core vesicles are dark)
    rim: float  # darkness of the vesicle membrane


# class order = emzoo.targets.TRANSMITTERS. Each class differs from every other in at least one
# of size (>= 10 nm apart, beyond the 8 % jitter) and interior (clear / grey / dense core), so a
# CNN that sees the vesicles can separate them; intensity statistics of the crop alone cannot.
# Counts are 1.5x version 1's: boutons are packed with vesicles.
VESICLE_STYLES = (
    VesicleStyle(30.0, 68, 0.00, 0.75),  # gaba: small clear vesicles, dark rim
    VesicleStyle(42.0, 90, 0.00, 0.55),  # acetylcholine: many larger clear vesicles, faint rim
    VesicleStyle(40.0, 63, 0.35, 0.55),  # glutamate: medium, grey interior
    VesicleStyle(55.0, 39, 0.75, 0.60),  # serotonin: dense-core vesicles
    VesicleStyle(75.0, 24, 0.45, 0.50),  # octopamine: large grey dense-core vesicles
    VesicleStyle(58.0, 48, 0.12, 0.80),  # dopamine: large, nearly clear, dark rim
)
TRANSMITTER_PRIOR = (0.2, 0.3, 0.2, 0.1, 0.1, 0.1)


@dataclass
class Site:
    pre: np.ndarray  # (3,) nm, inside the presynaptic neurite near the membrane
    normal: np.ndarray  # unit vector from pre towards the cleft
    pre_neuron: int
    posts: list[tuple[np.ndarray, np.ndarray, int]]  # (post location, contact point, neuron)


def _unit(v):
    return v / max(float(np.linalg.norm(v)), 1e-9)


def place_sites(
    rng: np.random.Generator,
    labels: np.ndarray,
    grid: Grid,
    region: tuple[slice, slice, slice],
    count: int,
    pre_depth: float = 30.0,
    post_depth: float = 40.0,
    reach: float = 180.0,
    min_spacing: float = 300.0,
) -> list[Site]:
    """Up to ``count`` presynaptic sites at in-plane contacts inside ``region`` (voxel slices)."""
    sub = labels[region]
    contact = np.zeros(sub.shape, bool)
    contact[:, :-1, :] |= sub[:, :-1, :] != sub[:, 1:, :]
    contact[:, :, :-1] |= sub[:, :, :-1] != sub[:, :, 1:]
    candidates = np.argwhere(contact) + [s.start for s in region]
    rng.shuffle(candidates)
    sites: list[Site] = []
    for voxel in candidates[: count * 40]:
        if len(sites) >= count:
            break
        a = int(labels[tuple(voxel)])
        centre = grid.centre(voxel)
        if any(np.linalg.norm(s.pre - centre) < min_spacing for s in sites):
            continue
        window = grid.window(centre - 80.0, centre + 80.0)
        z, y, x = grid.centres(window)
        local = labels[window]
        inside = local == a
        outside = (local != a) & (local != 0)
        if inside.sum() < 10 or outside.sum() < 10:
            continue
        coords = np.stack(np.broadcast_arrays(z, y, x), -1)
        normal = _unit(coords[outside].mean(0) - coords[inside].mean(0))
        pre = centre - normal * pre_depth
        if not grid.contains(pre) or labels[tuple(grid.index(pre))] != a:
            continue
        # partners: the neighbours within reach, nearest voxel first
        window = grid.window(pre - reach, pre + reach)
        z, y, x = grid.centres(window)
        dist = np.sqrt((z - pre[0]) ** 2 + (y - pre[1]) ** 2 + (x - pre[2]) ** 2)
        local = labels[window]
        near = (dist <= reach) & (local != a) & (local != 0)
        if not near.any():
            continue
        neighbours = {}
        near_voxels, near_labels = np.argwhere(near), local[near]
        for idx in np.argsort(dist[near], kind="stable"):
            n = int(near_labels[idx])
            if n not in neighbours:
                neighbours[n] = near_voxels[idx]
        chosen = list(neighbours)[: int(np.clip(1 + rng.poisson(1.2), 1, 4))]
        posts = []
        for n in chosen:
            v = neighbours[n] + [s.start for s in window]
            contact_point = grid.centre(v)
            post = contact_point + _unit(contact_point - pre) * post_depth
            if not grid.contains(post) or labels[tuple(grid.index(post))] != n:
                post = contact_point
            # snap to the voxel centre so the location's voxel is exactly inside the partner
            post = grid.centre(grid.index(post))
            posts.append((post, contact_point, n))
        pre = grid.centre(grid.index(pre))
        sites.append(Site(pre, normal, a, posts))
    return sites


def vesicle_centres(
    rng: np.random.Generator, site: Site, labels: np.ndarray, grid: Grid, style: VesicleStyle
) -> tuple[np.ndarray, np.ndarray]:
    """Vesicle centres (nm) and radii in a cloud behind the T-bar, inside the pre neurite,
    style jittered per synapse so the classes overlap."""
    scale = rng.normal(1.0, 0.08)
    count = max(4, int(style.count * rng.normal(1.0, 0.25)))
    cloud_radius = rng.uniform(90.0, 140.0)
    # boutons are packed with vesicles around the T-bar: the cloud is centred half its radius
    # behind the site (version 1: three quarters, so a small crop saw less of it)
    centre = site.pre - site.normal * cloud_radius * 0.5
    centres, radii = [], []
    for _ in range(count * 6):
        if len(centres) >= count:
            break
        r = 0.5 * style.diameter * scale * rng.normal(1.0, 0.08)
        p = centre + _unit(rng.normal(size=3)) * cloud_radius * rng.random() ** (1 / 3)
        if not grid.contains(p) or labels[tuple(grid.index(p))] != site.pre_neuron:
            continue
        if any(np.linalg.norm(p - q) < r + s + 2.0 for q, s in zip(centres, radii, strict=True)):
            continue
        centres.append(p)
        radii.append(r)
    return np.array(centres).reshape(-1, 3), np.array(radii)
