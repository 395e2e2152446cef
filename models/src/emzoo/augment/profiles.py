"""Augmentation profiles: which augmentation nodes a task pipeline gets (``emzoo train --augment``).

* ``originals`` — gunpowder's ElasticAugment / SimpleAugment / IntensityAugment as the originals
  configured them per dataset (originals.md §2.5, §3.4, §4.2, §5.2); GrowBoundary (LSD) stays a
  target step in every profile.
* ``kornia`` — the same profile with the elastic deformation replaced by TorchAugment (kornia
  rotation / scale / flips, runs on the GPU); the section slips and shifts stay (an
  ElasticAugment without deformation or rotation), as do SimpleAugment and IntensityAugment.
* ``kornia-light`` — the pipelines as they were before profiles existed (TorchAugment, then
  SimpleAugment and IntensityAugment): kept bit-for-bit so earlier runs can be reproduced.
* ``none`` — no random augmentation (GrowBoundary still applies: it defines the LSD targets).

Elastic parameters are in voxels, as gunpowder takes them. The originals set them for their
training crops (e.g. 196³ for FIB-25); for smaller crops (the small demo presets) control-point
spacing, jitter, subsampling and maximal misalignment are scaled per axis by crop / original crop
(never up), so a crop holds about as many control points and sections slip by the same fraction
of the crop as in the originals. Jitter keeps its ratio to the spacing (the same strain).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from emzoo.errors import InvalidInput

PROFILES = ("originals", "kornia", "kornia-light", "none")
PAPER_PROFILE = "originals"
# the default of `emzoo train` and build_task: the originals' augmentation (the demo-weight rebuild
# pins `--augment kornia-light`, which its committed weights were trained with)
DEFAULT_PROFILE = PAPER_PROFILE

Triple = tuple[float, float, float]


@dataclass(frozen=True)
class Elastic:
    """gunpowder.ElasticAugment arguments (voxels, z-y-x)."""

    spacing: Triple
    jitter: Triple
    rotation: tuple[float, float] = (0.0, math.pi / 2)
    prob_slip: float = 0.0
    prob_shift: float = 0.0
    max_misalign: int = 0
    subsample: int = 8

    def scaled(self, factor: Triple) -> Elastic:
        spacing = tuple(max(1, round(s * f)) for s, f in zip(self.spacing, factor, strict=True))
        # jitter keeps its ratio to the (rounded) spacing: same strain as the original
        jitter = tuple(
            j * sp / s for j, sp, s in zip(self.jitter, spacing, self.spacing, strict=True)
        )
        misalign = 0
        if self.max_misalign:
            misalign = max(1, round(self.max_misalign * min(factor[1], factor[2])))
        subsample = max(1, min(self.subsample, round(self.subsample * min(factor))))
        return replace(
            self, spacing=spacing, jitter=jitter, max_misalign=misalign, subsample=subsample
        )

    def misalignment_only(self) -> Elastic | None:
        """The section slips/shifts of this augmentation without deformation or rotation."""
        if not (self.prob_slip or self.prob_shift):
            return None
        return replace(self, jitter=(0.0, 0.0, 0.0), rotation=(0.0, 0.0))

    def node(self):
        import gunpowder as gp

        return gp.ElasticAugment(
            control_point_spacing=[int(s) for s in self.spacing],
            jitter_sigma=list(self.jitter),
            rotation_interval=list(self.rotation),
            prob_slip=self.prob_slip,
            prob_shift=self.prob_shift,
            max_misalign=self.max_misalign,
            subsample=self.subsample,
        )


@dataclass(frozen=True)
class DatasetAugmentation:
    """One original's augmentation: elastic (before / after SimpleAugment), SimpleAugment,
    IntensityAugment, GrowBoundary, and the training crop the voxel parameters were set for."""

    name: str
    reference_input: tuple[int, int, int]
    elastic_before: tuple[Elastic, ...]
    elastic_after: tuple[Elastic, ...]
    mirror_only: tuple[int, ...] | None
    transpose_only: tuple[int, ...] | None
    section_wise_intensity: bool
    grow_boundary_only_xy: bool

    def scaled_to(self, train_input) -> DatasetAugmentation:
        factor = tuple(
            min(1.0, t / r) for t, r in zip(train_input, self.reference_input, strict=True)
        )
        return replace(
            self,
            elastic_before=tuple(e.scaled(factor) for e in self.elastic_before),
            elastic_after=tuple(e.scaled(factor) for e in self.elastic_after),
        )


_CREMI_ELASTIC = Elastic(
    spacing=(4, 40, 40),
    jitter=(0, 2, 2),
    prob_slip=0.05,
    prob_shift=0.05,
    max_misalign=10,
    subsample=8,
)
# lsd_experiments fib25 train.py: an elastic pass without jitter, SimpleAugment, then one with
# jitter and rare one-voxel slips/shifts
FIB25 = DatasetAugmentation(
    name="fib25",
    reference_input=(196, 196, 196),
    elastic_before=(Elastic(spacing=(40, 40, 40), jitter=(0, 0, 0)),),
    elastic_after=(
        Elastic(
            spacing=(40, 40, 40), jitter=(2, 2, 2), prob_slip=0.01, prob_shift=0.01, max_misalign=1
        ),
    ),
    mirror_only=None,
    transpose_only=None,
    section_wise_intensity=False,
    grow_boundary_only_xy=False,
)
ZEBRAFINCH = DatasetAugmentation(
    name="zebrafinch",
    reference_input=(84, 268, 268),
    elastic_before=(replace(_CREMI_ELASTIC, spacing=(4, 4, 10)),),
    elastic_after=(),
    mirror_only=None,
    transpose_only=(1, 2),
    section_wise_intensity=True,
    grow_boundary_only_xy=True,
)
SYNFUL_CREMI = DatasetAugmentation(
    name="synful-cremi",
    reference_input=(42, 430, 430),
    elastic_before=(_CREMI_ELASTIC,),
    elastic_after=(),
    mirror_only=(1, 2),
    transpose_only=(1, 2),
    section_wise_intensity=True,
    grow_boundary_only_xy=True,
)
SYNISTER_FAFB = replace(
    SYNFUL_CREMI, name="synister-fafb", reference_input=(16, 160, 160), mirror_only=None
)
MICRON_CREMI = replace(
    SYNFUL_CREMI, name="micron-cremi", reference_input=(32, 322, 322), mirror_only=None
)
_ANISOTROPIC = {
    "lsd": ZEBRAFINCH,
    "synful": SYNFUL_CREMI,
    "synister": SYNISTER_FAFB,
    "micron": MICRON_CREMI,
}


def check_profile(name: str) -> str:
    if name not in PROFILES:
        raise InvalidInput(
            f"unknown augmentation profile {name!r}", hint="use one of " + ", ".join(PROFILES)
        )
    return name


def dataset_augmentation(task: str, voxel_size, train_input) -> DatasetAugmentation:
    """The original's augmentation for ``task`` on data at ``voxel_size``, scaled to the crop.

    Isotropic data gets FIB-25's (the only isotropic original); serial-section data the task's
    own original (LSD: zebrafinch; Synful / Micron: CREMI; Synister: FAFB)."""
    iso = voxel_size[0] == voxel_size[1] == voxel_size[2]
    base = FIB25 if iso else _ANISOTROPIC[task]
    return base.scaled_to(train_input)
