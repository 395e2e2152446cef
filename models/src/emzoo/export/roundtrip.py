"""Exported artefact vs PyTorch: error statistics and the pass/fail rule of an export.

The rule is bioimage.io's, so a bundle that passes here passes `bioimage-export test` and
bioimageio.core with the tolerance the package declares: an element passes when
``|a - e| ≤ atol + rtol·|e|``. ``atol`` grows with the output's magnitude: float32 rounding in a
convolution is relative to the size of the terms it sums, so an output in nm (Synful's partner
vectors reach hundreds) carries errors a hundred times those of a probability, near zero too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from emzoo.errors import ExportCheckFailed

TOLERANCE_ABS = 1e-4  # the floor of atol
TOLERANCE_REL = 1e-3  # rtol (bioimage.io's default)
TOLERANCE_SCALE = 1e-5  # atol = max(TOLERANCE_ABS, TOLERANCE_SCALE · max |e|): ~100 float32 eps
RELATIVE_FLOOR = 1e-3  # |expected| below this counts as this in max_rel (bioimage.io's floor)


@dataclass(frozen=True)
class Tolerance:
    abs: float = TOLERANCE_ABS
    rel: float = TOLERANCE_REL
    scale: float = TOLERANCE_SCALE

    def atol(self, expected: np.ndarray) -> float:
        peak = float(np.abs(expected).max()) if expected.size else 0.0
        return max(self.abs, self.scale * peak)

    def as_dict(self) -> dict[str, float]:
        return {"tolerance_abs": self.abs, "tolerance_rel": self.rel, "tolerance_scale": self.scale}

    @staticmethod
    def of(roundtrip: dict[str, Any]) -> Tolerance:
        """A bundle's recorded rule; bundles written before rel/scale existed used atol only."""
        return Tolerance(
            roundtrip["tolerance_abs"],
            roundtrip.get("tolerance_rel", 0.0),
            roundtrip.get("tolerance_scale", 0.0),
        )


@dataclass(frozen=True)
class Errors:
    max_abs: float
    max_rel: float
    used: float = 0.0  # max over elements of |a - e| / (atol + rtol·|e|): passes when ≤ 1
    atol: float = TOLERANCE_ABS
    rtol: float = TOLERANCE_REL

    def as_dict(self) -> dict[str, float]:
        return {"max_abs": self.max_abs, "max_rel": self.max_rel}


def compare(
    actual: np.ndarray, expected: np.ndarray, what: str, tol: Tolerance | None = None
) -> Errors:
    tol = tol or Tolerance()
    if actual.shape != expected.shape:
        raise ExportCheckFailed(
            f"{what}: output shape {actual.shape}, PyTorch gives {expected.shape}"
        )
    if not np.all(np.isfinite(actual)):
        raise ExportCheckFailed(f"{what}: output has NaN or inf")
    atol = tol.atol(expected)
    if actual.size == 0:
        return Errors(0.0, 0.0, 0.0, atol, tol.rel)
    e = np.abs(expected.astype(np.float64))
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    rel = diff / np.maximum(e, RELATIVE_FLOOR)
    used = diff / (atol + tol.rel * e)
    return Errors(float(diff.max()), float(rel.max()), float(used.max()), atol, tol.rel)


def require(errors: Errors, what: str) -> Errors:
    if not errors.used <= 1.0:
        raise ExportCheckFailed(
            f"{what} differs from PyTorch by up to {errors.max_abs:.3g}, beyond the tolerance "
            f"|a - e| ≤ {errors.atol:.3g} + {errors.rtol:g}·|e| ({errors.used:.2f} times what is allowed)",
            hint="the exported graph does not compute the network; no bundle was written",
        )
    return errors


def require_not_flat(x: np.ndarray, what: str) -> None:
    """bioimage.io refuses test tensors with every value inside (-1e-4, 1e-4)."""
    if x.size and float(x.min()) > -1e-4 and float(x.max()) < 1e-4:
        raise ExportCheckFailed(
            f"{what} is near zero everywhere", hint="bioimage.io rejects such test tensors"
        )
