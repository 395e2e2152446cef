"""Evaluation settings, with the defaults documented in docs/demo-weights.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class EvalOptions:
    # LSD: fragments (min_seed_distance voxels) + mean-affinity agglomeration threshold
    seg_threshold: float = 0.5
    min_seed_distance: int = 10
    # Synful: mask threshold, component score filter, matching distance (post and pre, nm)
    synful_threshold: float = 0.5
    synful_min_score: float = 0.0
    synful_distance_nm: float = 100.0
    # Micron: soft-mask threshold and the distance within which a voxel counts as on a track.
    # The soft-mask target (LSD size channel, sigma 4 nm) is at most 0.40 on a 1-voxel track
    # (the centre weight of a unit Gaussian), so 0.5 would find nothing even for a perfect
    # prediction: 0.2 = half the target's on-track peak, as 0.5 is half of a [0, 1] mask.
    micron_threshold: float = 0.2
    micron_tolerance_nm: float = 40.0
    # onnxruntime intra-op threads (None: its default)
    threads: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)
