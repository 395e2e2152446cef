"""TorchAugment: a gunpowder node that runs any Kornia 3D augmentation (or batched torch callable)
on raw and replays its geometry, by nearest neighbour, on labels and masks.

How the same random transform reaches every array:
1. raw (float, e.g. after gp.Normalize) goes through ``transform`` as a (1, C, D, H, W) tensor;
   kornia samples its parameters and records the source→destination pixel matrix
   (``transform.transform_matrix``; identity for intensity augmentations).
2. That matrix is re-expressed in world space — about raw's grid, so arrays with other ROIs or
   voxel sizes (raw bigger than labels in valid-U-Net training) move exactly as raw does — and
   applied to labels and masks by an integer gather (uint64 ids never pass through floats).
Intensity augmentations therefore touch raw only. A plain callable without ``transform_matrix``
is treated as intensity-only.

Context: kornia keeps the tensor shape, so voxels rotated in from outside the array are zeros.
``context`` (world units per axis) grows every upstream request by that margin and the result is
cropped back to the request, so the requested ROI sees real data. Without it, mask arrays mark the
padded-in voxels with 0 (pass an all-ones mask to learn where the transform ran out of data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import gunpowder as gp
import numpy as np
import torch

from emzoo.augment.geometry import from_kornia, index_frame, is_identity, warp_nearest
from emzoo.errors import InvalidInput


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None``/"auto" → the GPU when there is one, else the CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _align_corners_of(transform: Callable) -> bool:
    """The align_corners flag the transform's geometric warps use (they must agree)."""
    flags = set()
    if isinstance(transform, torch.nn.Module):
        for module in transform.modules():
            f = getattr(module, "flags", None)
            if isinstance(f, dict) and "align_corners" in f and f["align_corners"] is not None:
                flags.add(bool(f["align_corners"]))
    if len(flags) > 1:
        raise InvalidInput(
            "the transform mixes align_corners=True and align_corners=False warps",
            hint="construct every geometric kornia augmentation with the same align_corners "
            "(True is exact; False is corrected for)",
        )
    return flags.pop() if flags else True


class TorchAugment(gp.BatchFilter):
    """Apply ``transform`` to ``raw`` and the same geometry to ``labels`` and ``masks``.

    Args:
        transform: any kornia.augmentation 3D augmentation or AugmentationSequential, or a
            callable (B, C, D, H, W) float tensor → same shape. Geometric callables expose the
            (B, 4, 4) source→destination pixel matrix (x, y, z order) as ``transform_matrix``.
        raw: float array key (normalise first); its grid is the frame the transform acts in.
        labels: integer arrays (instance ids, any dtype incl. uint64), resampled nearest.
        masks: mask arrays, resampled nearest; voxels pulled in from outside become 0.
        vectors: (3, z, y, x) arrays of world-space displacements (z, y, x; e.g. Synful's partner
            vectors in nm), resampled nearest and rotated/scaled with the transform.
        context: world-unit margin (int or per-axis) added around every requested ROI upstream.
        device: "cpu", "cuda", ... or None/"auto" (GPU when present).
    """

    def __init__(
        self,
        transform: Callable[[torch.Tensor], torch.Tensor],
        raw: gp.ArrayKey,
        labels: Iterable[gp.ArrayKey] = (),
        masks: Iterable[gp.ArrayKey] = (),
        vectors: Iterable[gp.ArrayKey] = (),
        context: int | Sequence[int] | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        self.transform = transform
        self.raw = raw
        self.labels = list(labels)
        self.masks = list(masks)
        self.vectors = list(vectors)
        self.context = context
        self.device = resolve_device(device)
        self.align_corners = _align_corners_of(transform)
        if isinstance(transform, torch.nn.Module):
            transform.to(self.device)

    def setup(self) -> None:
        for key in [self.raw, *self._followers()]:
            if key not in self.spec:
                raise InvalidInput(
                    f"TorchAugment: {key} is not provided upstream",
                    hint="add a source for it before the node or drop it from raw/labels/masks",
                )
            self.updates(key, self.spec[key].copy())
        dtype = self.spec[self.raw].dtype
        if dtype is not None and not np.issubdtype(dtype, np.floating):
            raise self._float_error(dtype)
        self.enable_autoskip()

    def _float_error(self, dtype) -> InvalidInput:
        return InvalidInput(
            f"TorchAugment: {self.raw} has dtype {np.dtype(dtype)}, the transform needs floats",
            hint="put gp.Normalize(raw) before TorchAugment",
        )

    def _followers(self) -> list[gp.ArrayKey]:
        return [*self.labels, *self.masks, *self.vectors]

    def _context(self, dims: int) -> gp.Coordinate:
        if self.context is None:
            return gp.Coordinate((0,) * dims)
        if isinstance(self.context, int):
            return gp.Coordinate((self.context,) * dims)
        return gp.Coordinate(self.context)

    def prepare(self, request: gp.BatchRequest) -> gp.BatchRequest:
        followers = [k for k in self._followers() if k in request]
        if followers and self.raw not in request:
            raise InvalidInput(
                f"TorchAugment: {followers[0]} requested without {self.raw}",
                hint="request the raw array too: the transform is sampled on raw's grid",
            )
        deps = gp.BatchRequest()
        for key in [self.raw, *followers]:
            if key not in request:
                continue
            spec = request[key].copy()
            vs = self.spec[key].voxel_size
            ctx = self._context(spec.roi.dims)
            roi = spec.roi.grow(ctx, ctx).snap_to_grid(vs, mode="grow")
            upstream = self.spec[key].roi
            if upstream is not None and not upstream.contains(roi):
                # clip to what exists; the transform pads the rest with zeros
                roi = roi.intersect(upstream).snap_to_grid(vs, mode="shrink")
            spec.roi = roi
            deps[key] = spec
        return deps

    def process(self, batch: gp.Batch, request: gp.BatchRequest) -> gp.Batch:
        out = gp.Batch()
        raw = batch[self.raw]
        data = raw.data
        if not np.issubdtype(data.dtype, np.floating):
            raise self._float_error(data.dtype)
        spatial = data.shape[-3:]
        x = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)).to(self.device)
        x = x.reshape(1, -1, *spatial)
        # kornia draws from torch's global RNG: seed it from numpy, which gunpowder seeds from the
        # request (deterministic requests → deterministic augmentation), inside a forked RNG so
        # the model's own torch randomness (dropout) is not disturbed.
        seed = int(np.random.randint(0, 2**31 - 1))
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(seed)
            y = self.transform(x)
        if tuple(y.shape) != tuple(x.shape):
            raise InvalidInput(
                f"TorchAugment: the transform changed the shape {tuple(x.shape)} → {tuple(y.shape)}",
                hint="crop with gunpowder requests, not inside the transform",
            )
        out[self.raw] = gp.Array(y.reshape(data.shape).cpu().numpy(), raw.spec.copy())

        matrix = getattr(self.transform, "transform_matrix", None)
        if matrix is None:
            return out  # intensity-only: labels and masks untouched
        m = from_kornia(
            torch.as_tensor(matrix)[0].detach().cpu().numpy(), spatial, self.align_corners
        )
        if is_identity(m):
            return out
        m_inv = np.linalg.inv(m)
        raw_off, raw_vs = raw.spec.roi.offset, raw.spec.voxel_size
        for key in self._followers():
            if key not in batch:
                continue
            arr = batch[key]
            a = index_frame(arr.spec.roi.offset, arr.spec.voxel_size, raw_off, raw_vs)
            dst_to_src = np.linalg.inv(a) @ m_inv @ a
            data = warp_nearest(arr.data, dst_to_src, self.device)
            if key in self.vectors:
                # a displacement d between two moved points becomes L·d (translations cancel);
                # L in world units = V·L_index·V⁻¹ with V = raw's voxel size
                v = np.diag(np.asarray(raw_vs, np.float64))
                lin = v @ m[:3, :3] @ np.linalg.inv(v)
                data = np.einsum("ij,j...->i...", lin, data.astype(np.float64)).astype(data.dtype)
            out[key] = gp.Array(data, arr.spec.copy())
        return out
