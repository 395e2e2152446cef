"""Batches from a gunpowder pipeline, as a pure function of the iteration (exact resume, DDP).

Each sample of iteration ``it`` on rank ``r`` is requested with gunpowder's ``random_seed`` =
mix(seed, r, it, j) and centred at a location drawn from the same seed, so two ranks never see the
same stream and a resumed run sees exactly the batches it would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import gunpowder as gp
import numpy as np

from emzoo.train.distributed import mix_seed

# rng → (world (z, y, x) of the sample's centre, non-spatial entries such as Synister's class)
Sampler = Callable[[np.random.Generator], tuple[np.ndarray, Mapping[str, np.ndarray]]]


class GunpowderBatches:
    def __init__(
        self,
        pipeline,
        request: gp.BatchRequest,
        names: Mapping[str, gp.ArrayKey],
        sampler: Sampler,
        seed: int,
        rank: int,
        batch_size: int,
    ) -> None:
        """``request``: shapes and voxel sizes (offsets are replaced); ``names``: batch entry →
        array key (3-D arrays get a channel axis)."""
        self.pipeline, self.request, self.names = pipeline, request, dict(names)
        self.sampler = sampler
        self.seed, self.rank, self.batch_size = seed, rank, batch_size
        self._built = gp.build(pipeline)
        self._built.__enter__()

    def _sample(self, it: int, j: int) -> dict[str, np.ndarray]:
        s = mix_seed(self.seed, self.rank, it, j)
        rng = np.random.default_rng(s)
        centre, extras = self.sampler(rng)
        centre = np.asarray(centre, dtype=np.float64)
        req = gp.BatchRequest(random_seed=s)
        for key, spec in self.request.items():
            spec = spec.copy()
            vs = np.asarray(spec.voxel_size, dtype=np.float64)
            shape = np.asarray(spec.roi.shape, dtype=np.int64)
            # snap the corner to the voxel grid so every array stays aligned
            # (floor, not round: arrays whose sizes differ by whole voxels stay concentric)
            corner = np.floor((centre - shape / 2) / vs).astype(np.int64) * vs.astype(np.int64)
            spec.roi = gp.Roi(gp.Coordinate(corner), spec.roi.shape)
            req[key] = spec
        batch = self.pipeline.request_batch(req)
        out = {}
        for name, key in self.names.items():
            data = batch[key].data
            out[name] = data[None] if data.ndim == 3 else data
        out.update({k: np.asarray(v) for k, v in extras.items()})
        return out

    def __call__(self, it: int) -> dict[str, np.ndarray]:
        samples = [self._sample(it, j) for j in range(self.batch_size)]
        return {k: np.stack([np.asarray(s[k]) for s in samples]) for k in samples[0]}

    def close(self) -> None:
        if self._built is not None:
            self._built.__exit__(None, None, None)
            self._built = None
