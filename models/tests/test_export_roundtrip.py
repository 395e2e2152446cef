"""The export's pass/fail rule: bioimage.io's |a - e| ≤ atol + rtol·|e|, with atol in proportion
to the output's magnitude (outputs in nm carry proportionally larger float32 rounding)."""

import numpy as np
import pytest

from emzoo.errors import ExportCheckFailed
from emzoo.export.roundtrip import Tolerance, compare, require


def _vectors(rng: np.random.Generator) -> np.ndarray:
    # Synful-like: a probability channel and three partner-vector channels in nm, crossing zero
    y = rng.uniform(-150, 150, size=(1, 4, 8, 8, 8)).astype(np.float32)
    y[:, 0] = rng.uniform(0, 1, size=(1, 8, 8, 8))
    y[0, 1, 0, 0, 0] = 0.0
    return y


def test_rounding_in_proportion_to_an_nm_output_passes():
    y = _vectors(np.random.default_rng(0))
    a = y.copy()
    a[0, 1, 0, 0, 0] = 1.8e-4  # ~1e-6 of the output's peak, at an element that is zero
    e = require(compare(a, y, "ONNX"), "ONNX")
    assert e.max_abs == pytest.approx(1.8e-4)
    assert e.atol == pytest.approx(1e-5 * float(np.abs(y).max()))
    assert 0.1 < e.used < 0.2


def test_a_real_error_on_an_nm_output_fails():
    y = _vectors(np.random.default_rng(1))
    a = y.copy()
    a[0, 1, 0, 0, 0] = 0.05  # far beyond rounding at the zero crossing
    with pytest.raises(
        ExportCheckFailed, match=r"differs from PyTorch by up to 0\.05.*0\.00\d+ \+ 0\.001·\|e\|"
    ):
        require(compare(a, y, "ONNX"), "ONNX")


def test_a_probability_output_keeps_the_absolute_floor():
    y = np.random.default_rng(2).uniform(0, 1, size=(1, 2, 4, 4, 4)).astype(np.float32)
    y[0, 0, 0, 0, 0] = 0.0
    a = y.copy()
    a[0, 0, 0, 0, 0] = 2e-4
    e = compare(a, y, "ONNX")
    assert e.atol == 1e-4 and e.used == pytest.approx(2.0)
    with pytest.raises(ExportCheckFailed):
        require(e, "ONNX")
    a[0, 0, 0, 0, 0] = 0.0
    a[0, 1, 0, 0, 0] = y[0, 1, 0, 0, 0] + 1e-4 + 0.5e-3 * abs(y[0, 1, 0, 0, 0])  # inside rtol
    require(compare(a, y, "ONNX"), "ONNX")


def test_bundles_written_before_rtol_and_scale_keep_their_absolute_rule():
    old = Tolerance.of({"tolerance_abs": 1e-4, "relative_floor": 1e-3})
    assert (old.abs, old.rel, old.scale) == (1e-4, 0.0, 0.0)
    y = np.full((1, 1, 2, 2, 2), 100.0, np.float32)
    a = y + np.float32(0.01)  # inside 1e-4 + 1e-3·100 under the new rule, not under the old one
    require(compare(a, y, "ONNX"), "ONNX")
    with pytest.raises(ExportCheckFailed):
        require(compare(a, y, "ONNX", old), "ONNX")
    assert Tolerance.of(Tolerance().as_dict()) == Tolerance()
