"""A paper-size preset goes through the whole export (structure only: random weights).

synful-cremi-st (10.7 M parameters, 43 MB per weights file) with the legacy ONNX exporter and
without the k x batch size check keeps this to ~10 s of CPU. The LSD FIB-25 nets (264 M
parameters, ~1 GB per weights file) are not exported in tests.
"""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from emzoo.export import ExportOptions, export_bundle, validate_bundle
from emzoo.registry import get_preset

PAPER = "synful-cremi-st"


@pytest.mark.slow
def test_paper_preset_exports_structurally(tmp_path):
    preset = get_preset(PAPER)
    assert preset.paper
    out = tmp_path / PAPER
    bundle = export_bundle(
        ExportOptions(preset=PAPER, out=out, exporter="legacy", size_check=False, test_k=0)
    )
    assert validate_bundle(out, run=True)["id"] == PAPER
    n_params = sum(p.numel() for p in preset.build().parameters())
    assert bundle["architecture"]["parameter_count"] == n_params > 10_000_000
    assert bundle["paper"] is True and bundle["trained"] is False
    assert bundle["roundtrip"]["sizes"] == []  # skipped, and recorded as skipped
    assert bundle["output"]["halo"] == [
        (i - o) // 2
        for i, o in zip(
            bundle["input"]["test_tensor"]["shape"][2:],
            bundle["output"]["test_tensor"]["shape"][2:],
            strict=True,
        )
    ]
    assert np.load(out / "test_input.npy").shape == (1, 1, *preset.valid_min)
    assert bundle["roundtrip"]["onnx"]["max_abs"] <= 1e-4
    model = onnx.load(str(out / "model.onnx"), load_external_data=False)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch
    assert all(
        d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim[2:]
    )  # dynamic space
