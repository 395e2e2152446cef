"""Evaluation settings, with the defaults documented in docs/demo-weights.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class EvalOptions:
    # LSD: fragments (min_seed_distance voxels) + mean-affinity agglomeration threshold. 0.3 was
    # chosen on the *training* volume's target affinities (a perfect prediction): ARE 0.081 at
    # 0.3, 0.128 at 0.5, 0.080 at 0.1 — lower thresholds gain nothing there and risk merges on
    # noisy predictions
    seg_threshold: float = 0.3
    min_seed_distance: int = 10
    # Synful: mask threshold, component score filter, matching distance (post and pre, nm)
    synful_threshold: float = 0.5
    synful_min_score: float = 0.0
    synful_distance_nm: float = 100.0
    # Micron: soft-mask threshold and the distance within which a voxel counts as on a track.
    # The soft-mask target (LSD size channel, sigma 4 nm) is 0 off the 1-voxel tracks and on them
    # between 0.16 (a track crossing the sections: 0.399² in-plane) and 0.40 (the centre weight of
    # a unit Gaussian, a track in the section plane), so the originals' 0.5 finds nothing even on
    # a perfect prediction; 0.15 keeps every track voxel of the target.
    micron_threshold: float = 0.15
    micron_tolerance_nm: float = 40.0
    # onnxruntime intra-op threads (None: its default)
    threads: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)
