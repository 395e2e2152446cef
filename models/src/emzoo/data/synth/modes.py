"""Imaging modes of the synthetic generator: what differs between ssTEM and FIB-SEM data."""

from __future__ import annotations

from dataclasses import dataclass

from emzoo.errors import UnknownName


@dataclass(frozen=True)
class Mode:
    name: str
    voxel_size: tuple[float, float, float]  # nm (z, y, x)
    section_jitter_px: float  # std of the per-section xy translation (serial sections)
    misalign_prob: float  # chance of a larger per-section shift
    misalign_px: int  # size of such a shift (uniform in +-)
    section_gain_std: float  # per-section brightness/contrast change
    blur_px: tuple[float, float, float]  # point-spread sigma in voxels
    noise_std: float  # Gaussian noise on the [0, 1] intensity scale
    z_membrane: float  # darkness of membranes crossing a section obliquely (z boundaries)
    curtaining: float  # FIB-SEM milling streaks (std of per-column offsets)
    projection: float  # fraction of the voxel's z extent seen at once (TEM section thickness)


MODES = {
    # serial-section TEM, CREMI-like: thick sections, jitter and brightness changes between them
    "anisotropic": Mode(
        "anisotropic", (40.0, 4.0, 4.0), 0.8, 0.05, 6, 0.04, (0.0, 1.0, 1.0), 0.045, 0.12, 0.0, 0.8
    ),
    # FIB-SEM, FIB-25-like: isotropic 8 nm, no sections but milling curtains
    "isotropic": Mode(
        "isotropic", (8.0, 8.0, 8.0), 0.0, 0.0, 0, 0.0, (0.7, 0.7, 0.7), 0.05, 1.0, 0.02, 0.0
    ),
}


def get_mode(name: str) -> Mode:
    try:
        return MODES[name]
    except KeyError:
        raise UnknownName("synthetic mode", name, list(MODES)) from None
