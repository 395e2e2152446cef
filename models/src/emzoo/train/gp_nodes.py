"""Gunpowder glue for the task pipelines: compute target arrays with numpy functions.

The targets module (emzoo.targets) holds pure numpy functions; ``ArrayFn`` runs one on the
requested ROI grown by the context it needs and crops the results back, so targets are exact at
the borders of the requested region.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import gunpowder as gp
import numpy as np


class ArrayFn(gp.BatchFilter):
    """``outputs = fn(**inputs, offset=..., voxel_size=...)`` over the requested ROI + context.

    Args:
        fn: returns a dict name → array whose last three axes cover the input ROI.
        inputs: argument name → array key (all on the same voxel grid).
        outputs: result name → (array key, dtype).
        context: world units added on every side of the requested output ROI.
        multiple: the input ROI's shape (voxels) is grown to a multiple of this (e.g. the LSD
            downsample factor).
    """

    def __init__(
        self,
        fn: Callable[..., Mapping[str, np.ndarray]],
        inputs: Mapping[str, gp.ArrayKey],
        outputs: Mapping[str, tuple[gp.ArrayKey, type]],
        context: Sequence[int] = (0, 0, 0),
        multiple: int = 1,
    ) -> None:
        self.fn, self.inputs, self.outputs = fn, dict(inputs), dict(outputs)
        self.context = gp.Coordinate(context)
        self.multiple = int(multiple)

    def setup(self) -> None:
        ref = self.spec[next(iter(self.inputs.values()))]
        for key, dtype in self.outputs.values():
            spec = ref.copy()
            spec.dtype = np.dtype(dtype)
            spec.interpolatable = np.issubdtype(spec.dtype, np.floating)
            self.provides(key, spec)
        self.enable_autoskip()

    def _voxel_size(self) -> gp.Coordinate:
        return self.spec[next(iter(self.inputs.values()))].voxel_size

    def prepare(self, request: gp.BatchRequest) -> gp.BatchRequest:
        rois = [request[k].roi for k, _ in self.outputs.values() if k in request]
        roi = rois[0]
        for r in rois[1:]:
            roi = roi.union(r)
        vs = self._voxel_size()
        roi = roi.grow(self.context, self.context).snap_to_grid(vs, mode="grow")
        if self.multiple > 1:
            shape = roi.shape / vs
            grown = gp.Coordinate(-(-s // self.multiple) * self.multiple for s in shape)
            extra = (grown - shape) * vs
            roi = roi.grow(extra // 2, extra - extra // 2)  # may be off-grid only if extra odd·vs
            roi = roi.snap_to_grid(vs, mode="grow")
        deps = gp.BatchRequest()
        for key in self.inputs.values():
            spec = request[key].copy() if key in request else gp.ArraySpec()
            spec.roi = roi if key not in request else roi.union(request[key].roi)
            deps[key] = spec
        self._roi = roi
        return deps

    def process(self, batch: gp.Batch, request: gp.BatchRequest) -> gp.Batch:
        roi = self._roi
        arrays = {name: batch[key].crop(roi).data for name, key in self.inputs.items()}
        results = self.fn(**arrays, offset=tuple(roi.offset), voxel_size=tuple(self._voxel_size()))
        out = gp.Batch()
        for name, (key, dtype) in self.outputs.items():
            if key not in request:
                continue
            spec = self.spec[key].copy()
            spec.roi = roi
            arr = gp.Array(np.asarray(results[name], dtype=dtype), spec)
            out[key] = arr.crop(request[key].roi)
        return out


class NumpySource(gp.BatchProvider):
    """An in-memory numpy volume as a gunpowder source: plain slicing, no dask.

    (gp.ArraySource reads through funlib.persistence's dask arrays, whose thread pool does not
    survive the fork into data worker processes: a worker would wait for it forever.)
    """

    def __init__(self, key: gp.ArrayKey, data: np.ndarray, offset, voxel_size) -> None:
        self.key, self.data = key, data
        vs = gp.Coordinate(voxel_size)
        roi = gp.Roi(gp.Coordinate(offset), gp.Coordinate(data.shape[-3:]) * vs)
        interpolatable = bool(np.issubdtype(data.dtype, np.floating) or data.dtype == np.uint8)
        self.array_spec = gp.ArraySpec(
            roi=roi, voxel_size=vs, interpolatable=interpolatable, dtype=data.dtype
        )

    def setup(self) -> None:
        self.provides(self.key, self.array_spec.copy())

    def provide(self, request: gp.BatchRequest) -> gp.Batch:
        spec = self.array_spec.copy()
        spec.roi = request[self.key].roi
        start = (spec.roi.offset - self.array_spec.roi.offset) / spec.voxel_size
        shape = spec.roi.shape / spec.voxel_size
        window = tuple(slice(s, s + n) for s, n in zip(start, shape, strict=True))
        batch = gp.Batch()
        batch[self.key] = gp.Array(np.array(self.data[(..., *window)]), spec)
        return batch
