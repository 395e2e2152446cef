"""Voxel-grid geometry for TorchAugment: kornia's pixel matrix → a sampling map on any array's grid.

Conventions: matrices here act on homogeneous (z, y, x, 1) *voxel-centre indices* (index i is the
centre of voxel i), forward direction source → destination, float64. Kornia's matrices act on
(x, y, z, 1); ``from_kornia`` reorders the axes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# (x, y, z, 1) ↔ (z, y, x, 1): the permutation is its own inverse.
_SWAP = np.array(
    [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]],
    dtype=np.float64,
)


def from_kornia(matrix_xyz: np.ndarray, shape: Sequence[int], align_corners: bool) -> np.ndarray:
    """Kornia's (4, 4) pixel matrix of a (D, H, W) tensor → the map it really applied, in zyx indices.

    With ``align_corners=False`` kornia's warp normalises the matrix with corner-aligned frames but
    samples with edge-aligned ones, which silently zooms by (n-1)/n about the centre; the true
    index map is then K⁻¹·M·K with K(i) = (i + ½)(n - 1)/n per axis. Flips commute with K, so the
    correction is right for any chain of affine warps and flips that share the flag.
    """
    m = _SWAP @ np.asarray(matrix_xyz, dtype=np.float64) @ _SWAP
    if align_corners:
        return m
    n = np.asarray(shape, dtype=np.float64)
    k = np.eye(4)
    k[:3, :3] = np.diag((n - 1) / n)
    k[:3, 3] = 0.5 * (n - 1) / n
    return np.linalg.inv(k) @ m @ k


def index_frame(offset, voxel_size, ref_offset, ref_voxel_size) -> np.ndarray:
    """Matrix taking voxel indices of one grid to (fractional) voxel indices of a reference grid.

    Voxel i of a grid with world offset o and voxel size v is centred at o + (i + ½)·v.
    """
    o, v = np.asarray(offset, np.float64), np.asarray(voxel_size, np.float64)
    ro, rv = np.asarray(ref_offset, np.float64), np.asarray(ref_voxel_size, np.float64)
    a = np.eye(4)
    a[:3, :3] = np.diag(v / rv)
    a[:3, 3] = (o - ro) / rv + 0.5 * v / rv - 0.5
    return a


def is_identity(matrix: np.ndarray, tol: float = 1e-9) -> bool:
    return bool(np.abs(matrix - np.eye(4)).max() <= tol)


def warp_nearest(
    data: np.ndarray, dst_to_src: np.ndarray, device: torch.device | str = "cpu"
) -> np.ndarray:
    """Nearest-neighbour resampling of the last three axes: out[i] = data[round(dst_to_src · i)].

    Works on the integer values themselves (a gather), never through floats, so uint64 instance
    ids of any size come out bit-identical; voxels that map outside ``data`` become 0.
    """
    spatial = data.shape[-3:]
    lead = data.shape[:-3]
    flat = np.ascontiguousarray(data).reshape((-1, *spatial))
    # torch has no general uint64 kernels: reinterpret the bits as int64 (same for uint32 → int64).
    if flat.dtype == np.uint64:
        src = torch.from_numpy(flat.view(np.int64))
    elif flat.dtype == np.bool_:
        src = torch.from_numpy(flat.astype(np.uint8))
    else:
        src = torch.from_numpy(flat)
    src = src.to(device)
    # float64 on CPU; CUDA float32 is exact enough for index coordinates < 1e6 voxels
    ftype = torch.float64 if torch.device(device).type == "cpu" else torch.float32
    m = np.asarray(dst_to_src, dtype=np.float64)
    # broadcast 1-D index axes instead of materialising a meshgrid per term
    zyx = [
        torch.arange(n, dtype=ftype, device=device).reshape([-1 if a == k else 1 for a in range(3)])
        for k, n in enumerate(spatial)
    ]
    projective = bool(np.any(m[3, :3] != 0))
    if projective:
        hom = sum(float(m[3, j]) * zyx[j] for j in range(3)) + float(m[3, 3])
    idx = []
    valid = torch.ones(spatial, dtype=torch.bool, device=device)
    for k, n in enumerate(spatial):
        c = sum(float(m[k, j]) * zyx[j] for j in range(3)) + (float(m[k, 3]) + 0.5)
        if projective:
            c = (c - 0.5) / hom + 0.5
        i = torch.floor(c).to(torch.int64)
        valid &= (i >= 0) & (i < n)
        idx.append(i.clamp_(0, n - 1))
    flat_idx = (idx[0] * spatial[1] + idx[1]) * spatial[2] + idx[2]
    src2 = src.reshape(src.shape[0], -1)
    out = torch.take_along_dim(src2, flat_idx.reshape(1, -1).expand(src2.shape[0], -1), dim=1)
    out = out.reshape(src.shape) * valid.to(out.dtype)
    res = out.cpu().numpy()
    if flat.dtype == np.uint64:
        res = res.view(np.uint64)
    elif flat.dtype == np.bool_:
        res = res.astype(np.bool_)
    return res.reshape((*lead, *spatial))
