"""The bundle's test input: a deterministic EM-like texture at raw intensity scale (0..255).

bioimage.io rejects test tensors that are near zero everywhere, and a constant input would hide
a wrong crop or a swapped axis, so the texture has cells with dark membranes, smooth intensity
variation and grain, all from one seed.
"""

from __future__ import annotations

import numpy as np

from emzoo.preset import Preprocessing, Preset


def valid_spatial_shape(preset: Preset, k: int) -> tuple[int, int, int]:
    """Spatial input size min + k·step (z, y, x); axes with step 0 stay at min."""
    return tuple(m + k * s for m, s in zip(preset.valid_min, preset.valid_step, strict=True))  # type: ignore[return-value]


def auto_test_k(
    preset: Preset,
    halo: tuple[int, int, int] | None,
    *,
    min_output: int = 16,
    max_voxels: int = 4_000_000,
) -> int:
    """Smallest k whose output spans >= ``min_output`` voxels on every axis that can grow (a test
    output worth looking at), as long as the input stays under ``max_voxels`` (16 MB float32)."""
    if halo is None or not any(preset.valid_step):
        return 0
    k = 0
    while True:
        spatial = valid_spatial_shape(preset, k)
        if int(np.prod(valid_spatial_shape(preset, k + 1))) > max_voxels:
            return k
        out = [s - 2 * h for s, h in zip(spatial, halo, strict=True)]
        if all(o >= min_output for o, st in zip(out, preset.valid_step, strict=True) if st):
            return k
        k += 1


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, ...], sigma: tuple[float, ...]
) -> np.ndarray:
    # Gaussian low-pass in Fourier space: numpy only, periodic boundary is fine for a texture.
    noise = rng.standard_normal(shape)
    freqs = np.meshgrid(*[np.fft.fftfreq(n) for n in shape], indexing="ij")
    gauss = np.exp(-2 * np.pi**2 * sum((f * s) ** 2 for f, s in zip(freqs, sigma, strict=True)))
    out = np.real(np.fft.ifftn(np.fft.fftn(noise) * gauss))
    return out / (out.std() + 1e-12)


def em_texture(
    shape: tuple[int, int, int], voxel_size_nm: tuple[float, float, float], seed: int
) -> np.ndarray:
    """(z, y, x) float32 with integer values in 0..255: cells ~400 nm across, dark membranes."""
    rng = np.random.default_rng(seed)
    vs = np.asarray(voxel_size_nm, dtype=np.float64)
    extent = np.asarray(shape) * vs
    # ~400 nm cells as in neuropil, smaller in tiny volumes so some membranes are always inside
    cell_nm = float(min(400.0, 0.5 * np.sort(extent)[1]))
    n_cells = int(np.clip(np.prod(extent / cell_nm), 4, 64))
    centres = rng.uniform(0, 1, size=(n_cells, 3)) * extent
    axes = [(np.arange(n) + 0.5) * v for n, v in zip(shape, vs, strict=True)]
    # running nearest and second-nearest centre distance: memory O(voxels), not O(voxels·cells)
    d1 = np.full(shape, np.inf)
    d2 = np.full(shape, np.inf)
    for c in centres:
        d = np.sqrt(
            (axes[0][:, None, None] - c[0]) ** 2
            + (axes[1][None, :, None] - c[1]) ** 2
            + (axes[2][None, None, :] - c[2]) ** 2
        )
        d2 = np.minimum(d2, np.maximum(d1, d))
        d1 = np.minimum(d1, d)
    gap = d2 - d1  # 0 on the boundary between the two nearest cells
    membrane = np.exp(-((gap / (0.5 * vs.min() + 0.04 * cell_nm)) ** 2))
    sigma_vox = tuple(min(max(60.0 / v, 0.5), n / 4) for v, n in zip(vs, shape, strict=True))
    img = (
        165.0
        - 105.0 * membrane
        + 14.0 * _smooth_noise(rng, shape, sigma_vox)
        + 9.0 * rng.standard_normal(shape)
    )
    return np.clip(np.round(img), 0, 255).astype(np.float32)


def make_test_input(preset: Preset, k: int, seed: int, batch: int = 1) -> np.ndarray:
    """(batch, in_channels, z, y, x) float32 raw intensities; channels differ (seed + c)."""
    shape = valid_spatial_shape(preset, k)
    vols = [
        np.stack(
            [
                em_texture(shape, preset.voxel_size_nm, seed + 1000 * b + c)
                for c in range(preset.in_channels)
            ]
        )
        for b in range(batch)
    ]
    return np.ascontiguousarray(np.stack(vols), dtype=np.float32)


def preprocess(raw: np.ndarray, prep: Preprocessing) -> np.ndarray:
    """What every consumer applies before the network (bioimage.io scale_linear), in float32."""
    return (raw * np.float32(prep.gain) + np.float32(prep.offset)).astype(np.float32)
