"""Local shape descriptors (Sheridan et al. 2022): label volume → 10 (3D) or 6 (2D) channels in [0, 1].

Same formulas and float32 arithmetic as ``lsd.train.local_shape_descriptor`` (originals §2.4), so
the result matches the reference to rounding. Faster because each label is filtered only inside
its own bounding box: every aggregated quantity is zero outside the object, so a filter with a
zero ('constant') boundary gives the same values there as on the whole volume.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from emzoo.errors import InvalidInput

LSD_CHANNELS_3D = (
    "offset_z", "offset_y", "offset_x",
    "var_zz", "var_yy", "var_xx",
    "pearson_zy", "pearson_zx", "pearson_yx",
    "size",
)  # fmt: skip
LSD_CHANNELS_2D = ("offset_y", "offset_x", "var_yy", "var_xx", "pearson_yx", "size")


def _per_axis(value: float | Sequence[float], ndim: int, what: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in np.atleast_1d(np.asarray(value, dtype=np.float64)))
    if len(values) == 1:
        values = values * ndim
    if len(values) != ndim or any(v <= 0 for v in values):
        raise InvalidInput(
            f"{what} {value!r} does not fit a {ndim}D volume",
            hint=f"give one positive number or {ndim} (one per axis, z,y,x order)",
        )
    return values


def _sphere(radius: float, ndim: int) -> np.ndarray:
    # As the reference: arange(-r, r) has an even length, so the sphere is one voxel off-centre.
    r2 = np.arange(-radius, radius) ** 2
    dist2 = sum(np.expand_dims(r2, [a for a in range(ndim) if a != d]) for d in range(ndim))
    return (dist2 <= radius**2).astype(np.float32)


def _aggregate(array: np.ndarray, sigma_voxel: tuple[float, ...], mode: str) -> np.ndarray:
    if mode == "gaussian":
        return ndimage.gaussian_filter(
            array, sigma=sigma_voxel, mode="constant", cval=0.0, truncate=3.0
        )
    return ndimage.convolve(array, _sphere(sigma_voxel[0], array.ndim), mode="constant", cval=0.0)


def _stats(coords: np.ndarray, mask: np.ndarray, sigma_voxel, sigma, mode) -> np.ndarray:
    """Descriptor of one object on its (sub-sampled) crop: (C, *crop_shape) float32."""
    ndim = mask.ndim
    masked_coords = coords * mask
    count = _aggregate(mask, sigma_voxel, mode)
    count[count == 0] = 1
    mean = np.array([_aggregate(masked_coords[d], sigma_voxel, mode) for d in range(ndim)])
    mean /= count
    mean_offset = mean - coords
    # unique entries of the coordinate outer product, in the reference's order
    pairs = (
        [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)] if ndim == 3 else [(0, 0), (1, 1), (0, 1)]
    )
    covariance = np.array(
        [_aggregate(masked_coords[i] * masked_coords[j], sigma_voxel, mode) for i, j in pairs]
    )
    covariance /= count
    covariance -= np.array([mean[i] * mean[j] for i, j in pairs])
    variance = covariance[:ndim]  # copies (fancy slicing in the reference), clipped for stability
    variance = variance.copy()
    variance[variance < 1e-3] = 1e-3
    pearson = covariance[ndim:].copy()
    for k, (i, j) in enumerate(pairs[ndim:]):
        pearson[k] /= np.sqrt(variance[i] * variance[j])
    for d in range(ndim):
        variance[d] /= sigma[d] ** 2
    return np.concatenate([mean_offset, variance, pearson, count[None]])


def local_shape_descriptors(
    labels: np.ndarray,
    sigma: float | Sequence[float],
    voxel_size: float | Sequence[float] = 1,
    mode: str = "gaussian",
    downsample: int = 1,
) -> np.ndarray:
    """LSDs of a 2D or 3D label volume (0 = background).

    ``sigma`` and ``voxel_size`` are in world units (nm), scalar or per axis. ``mode`` is
    'gaussian' or 'sphere' (sphere needs the same sigma in voxels on every axis); ``downsample``
    computes the statistics on a grid sub-sampled by that stride and repeats them back.
    Returns float32 (10, z, y, x) or (6, y, x), channels as ``LSD_CHANNELS_3D``/``_2D``.
    """
    labels = np.asarray(labels)
    ndim = labels.ndim
    if ndim not in (2, 3):
        raise InvalidInput(
            f"labels must be 2D or 3D, got shape {labels.shape}", hint="pass (z,y,x) or (y,x)"
        )
    if mode not in ("gaussian", "sphere"):
        raise InvalidInput(f"unknown LSD mode {mode!r}", hint="use 'gaussian' or 'sphere'")
    sigma = _per_axis(sigma, ndim, "sigma")
    voxel_size = _per_axis(voxel_size, ndim, "voxel_size")
    df = int(downsample)
    if df < 1 or any(s % df for s in labels.shape):
        raise InvalidInput(
            f"labels shape {labels.shape} is not divisible by downsample factor {downsample}",
            hint="crop or pad the labels to a multiple of the factor, or use downsample=1",
        )
    sub_voxel = tuple(v * df for v in voxel_size)
    sigma_voxel = tuple(s / v for s, v in zip(sigma, sub_voxel, strict=True))
    if mode == "sphere" and len(set(sigma_voxel)) != 1:
        raise InvalidInput(
            f"sphere mode needs the same radius in voxels on every axis, got {sigma_voxel}",
            hint="scale sigma per axis with the voxel size, or use mode='gaussian'",
        )

    channels = 10 if ndim == 3 else 6
    out = np.zeros((channels, *labels.shape), dtype=np.float32)
    ids, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(labels.shape)
    sub_shape = tuple(s // df for s in labels.shape)
    axes = [np.arange(n) * v for n, v in zip(sub_shape, sub_voxel, strict=True)]
    coords = np.array(np.meshgrid(*axes, indexing="ij"), dtype=np.float32)
    sub_inverse = inverse[(slice(None, None, df),) * ndim]

    boxes = ndimage.find_objects(inverse + 1)
    for index, label in enumerate(ids):
        if label == 0:
            continue
        box = boxes[index]
        # sub-grid crop holding the object's sub-sampled voxels and every p // df of its voxels
        sub_box = tuple(slice(b.start // df, (b.stop - 1) // df + 1) for b in box)
        sub_mask = (sub_inverse[sub_box] == index).astype(np.float32)
        descriptor = _stats(coords[(slice(None), *sub_box)], sub_mask, sigma_voxel, sigma, mode)
        for axis in range(1, ndim + 1):
            descriptor = np.repeat(descriptor, df, axis=axis)
        # align the repeated crop with the full-resolution bounding box
        start = tuple(b.start - sb.start * df for b, sb in zip(box, sub_box, strict=True))
        local = descriptor[
            (
                slice(None),
                *(slice(s, s + b.stop - b.start) for s, b in zip(start, box, strict=True)),
            )
        ]
        inside = inverse[box] == index
        out[(slice(None), *box)][:, inside] = local[:, inside]

    max_distance = np.array(
        sigma if mode == "gaussian" else [0.5 * s for s in sigma], dtype=np.float32
    )
    offsets = list(range(ndim))
    pearsons = [6, 7, 8] if ndim == 3 else [4]
    out[offsets] = out[offsets] / max_distance.reshape((ndim,) + (1,) * ndim) * 0.5 + 0.5
    out[pearsons] = out[pearsons] * 0.5 + 0.5
    out[offsets + pearsons] *= labels != 0
    np.clip(out, 0.0, 1.0, out=out)
    return out
