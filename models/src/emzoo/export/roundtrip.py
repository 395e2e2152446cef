"""Exported artefact vs PyTorch: error statistics and the pass/fail rule of an export."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emzoo.errors import ExportCheckFailed

TOLERANCE_ABS = 1e-4
RELATIVE_FLOOR = 1e-3  # |expected| below this counts as this (bioimage.io's absolute floor)


@dataclass(frozen=True)
class Errors:
    max_abs: float
    max_rel: float

    def as_dict(self) -> dict[str, float]:
        return {"max_abs": self.max_abs, "max_rel": self.max_rel}


def compare(actual: np.ndarray, expected: np.ndarray, what: str) -> Errors:
    if actual.shape != expected.shape:
        raise ExportCheckFailed(
            f"{what}: output shape {actual.shape}, PyTorch gives {expected.shape}"
        )
    if not np.all(np.isfinite(actual)):
        raise ExportCheckFailed(f"{what}: output has NaN or inf")
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    if diff.size == 0:
        return Errors(0.0, 0.0)
    rel = diff / np.maximum(np.abs(expected.astype(np.float64)), RELATIVE_FLOOR)
    return Errors(max_abs=float(diff.max()), max_rel=float(rel.max()))


def require(errors: Errors, what: str, tolerance: float = TOLERANCE_ABS) -> Errors:
    if not errors.max_abs <= tolerance:
        raise ExportCheckFailed(
            f"{what} differs from PyTorch by up to {errors.max_abs:.3g} (tolerance {tolerance:g})",
            hint="the exported graph does not compute the network; no bundle was written",
        )
    return errors


def require_not_flat(x: np.ndarray, what: str) -> None:
    """bioimage.io refuses test tensors with every value inside (-1e-4, 1e-4)."""
    if x.size and float(x.min()) > -1e-4 and float(x.max()) < 1e-4:
        raise ExportCheckFailed(
            f"{what} is near zero everywhere", hint="bioimage.io rejects such test tensors"
        )
