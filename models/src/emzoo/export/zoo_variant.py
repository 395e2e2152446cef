"""The bundle's zoo variant (``zoo/``): the same network and weights with ``pad_output=True``, so
its output has the input's size and the invalid border (the halo) is zero-filled.

Why: bioimage.io consumers that tile (bioimageio.core's blockwise prediction, which ilastik's
tiktorch uses) overlap blocks by the output ``halo`` and expect output blocks at the input block's
positions; they fail on outputs declared as already cropped (``size.offset = -2·halo``). The main
artefacts (valid output) stay untouched because runtime/, the server and the predict CLI use them;
the bioimage.io exporter packages this variant instead when it is present.

ONNX uses the legacy exporter: 1-2 s instead of ~40 s of dynamo shape reasoning per small net,
and its graph was verified equal to PyTorch at k = 0..3 at batch 1 and 2 (the size sweep below
re-checks it on every export).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emzoo.errors import ExportCheckFailed
from emzoo.export.onnx_export import OnnxRunner, export_onnx
from emzoo.export.roundtrip import Tolerance, compare, require
from emzoo.export.state_dict_export import predict_isolated
from emzoo.export.test_tensors import make_test_input, preprocess
from emzoo.export.torchscript_export import TorchScriptRunner, export_torchscript
from emzoo.preset import Preset

ZOO_DIR = "zoo"
ZOO_ONNX = "zoo/model.onnx"
ZOO_TORCHSCRIPT = "zoo/model.torchscript.pt"
# Written by earlier exports only (still valid, still checked): it is test_output.npy in a zero
# border, mostly border (9-32 MB on the small presets), so it is derived where needed instead.
ZOO_TEST_OUTPUT = "zoo/test_output.npy"
ZOO_KWARGS = {"pad_output": True}
ZOO_EXPORTER = "legacy"


def padded_twin(net: torch.nn.Module, kwargs: dict[str, Any]) -> torch.nn.Module:
    """The same class and weights with pad_output=True (state-dict keys are identical)."""
    twin = type(net)(**{**kwargs, **ZOO_KWARGS})
    twin.load_state_dict(net.state_dict())
    return twin.eval()


def centre_and_border(padded: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Splits a padded output into its centre (the valid output's place) and its border values."""
    lo = [(p - v) // 2 for p, v in zip(padded.shape[2:], valid.shape[2:], strict=True)]
    centre = tuple(slice(a, a + v) for a, v in zip(lo, valid.shape[2:], strict=True))
    mask = np.ones(padded.shape, dtype=bool)
    mask[(..., *centre)] = False
    return padded[(..., *centre)], padded[mask]


def pad_valid(valid: np.ndarray, x_shape: tuple) -> np.ndarray:
    """The valid output centred in a zero border of the input's spatial size (the zoo test output)."""
    lo = [(s - v) // 2 for s, v in zip(x_shape[2:], valid.shape[2:], strict=True)]
    spatial = zip(lo, x_shape[2:], valid.shape[2:], strict=True)
    pads = [(0, 0), (0, 0)] + [(a, s - v - a) for a, s, v in spatial]
    return np.pad(valid.astype(np.float32), pads)


def check_padded(padded: np.ndarray, valid: np.ndarray, x_shape: tuple, tol: Tolerance, what: str):
    want = (*valid.shape[:2], *x_shape[2:])
    if padded.shape != want:
        raise ExportCheckFailed(f"{what}: padded output {padded.shape}, expected {want}")
    centre, border = centre_and_border(padded, valid)
    require(compare(centre, valid, f"{what} centre", tol), f"{what} centre vs the valid output")
    if border.size and np.count_nonzero(border):
        raise ExportCheckFailed(f"{what}: the halo border is not zero-filled")


def _run(net, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def write_zoo_variant(
    net: torch.nn.Module,
    preset: Preset,
    folder: Path,
    *,
    x: np.ndarray,
    y: np.ndarray,
    callable_name: str,
    kwargs: dict[str, Any],
    opset: int,
    tolerance: Tolerance,
    size_check: bool,
    seed: int,
    step: Callable[[str], None],
) -> dict[str, Any]:
    """Writes zoo/ (ONNX, TorchScript), checks each against PyTorch; returns the
    bundle.yaml ``zoo_variant`` mapping. ``x`` is the preprocessed test input, ``y`` its valid output."""
    twin = padded_twin(net, kwargs)
    (folder / ZOO_DIR).mkdir()
    yz = _run(twin, x)
    check_padded(yz, y, x.shape, tolerance, "zoo variant")  # yz stays in memory, not written

    opset_used = export_onnx(twin, preset, folder / ZOO_ONNX, opset=opset, exporter=ZOO_EXPORTER)
    onnx_run = OnnxRunner(folder / ZOO_ONNX)
    e_onnx = require(compare(onnx_run(x), yz, "zoo ONNX", tolerance), "zoo ONNX (onnxruntime CPU)")
    export_torchscript(twin, folder / ZOO_TORCHSCRIPT)
    ts_run = TorchScriptRunner(folder / ZOO_TORCHSCRIPT)
    e_ts = require(compare(ts_run(x), yz, "zoo TorchScript", tolerance), "zoo TorchScript")
    zoo_kwargs = {**kwargs, **ZOO_KWARGS}
    e_sd = require(
        compare(
            predict_isolated(folder, callable_name, zoo_kwargs, x), yz, "zoo state dict", tolerance
        ),
        "state_dict.pt + architecture.py with pad_output",
    )
    step(
        f"zoo variant ok (padded output {yz.shape}): ONNX {e_onnx.max_abs:.2e}, "
        f"TorchScript {e_ts.max_abs:.2e}, state dict {e_sd.max_abs:.2e}"
    )

    sizes = []
    if size_check:  # batch 1 only: the batch axis is the main artefacts' and checked there
        for k in [0, 1, 2] if any(preset.valid_step) else [0]:
            xk = preprocess(make_test_input(preset, k, seed + 31 * (k + 1)), preset.preprocessing)
            ref = _run(twin, xk)
            what = f"zoo variant at k {k}"
            eo = require(compare(onnx_run(xk), ref, f"{what} ONNX", tolerance), f"{what} ONNX")
            et = require(compare(ts_run(xk), ref, f"{what} TorchScript", tolerance), f"{what} TS")
            sizes.append(
                {
                    "batch": 1,
                    "k": k,
                    "input_shape": list(xk.shape),
                    "output_shape": list(ref.shape),
                    "onnx_max_abs": eo.max_abs,
                    "torchscript_max_abs": et.max_abs,
                }
            )
        step(f"zoo variant size check k = {[r['k'] for r in sizes]}: ok")

    return {
        "kind": "padded-output",
        "kwargs": dict(ZOO_KWARGS),
        "weights": {
            "onnx": {"file": ZOO_ONNX, "opset": opset_used, "exporter": ZOO_EXPORTER},
            "torchscript": {"file": ZOO_TORCHSCRIPT, "torch_version": torch.__version__},
        },
        "roundtrip": {
            "onnx": e_onnx.as_dict(),
            "torchscript": e_ts.as_dict(),
            "state_dict": e_sd.as_dict(),
            "sizes": sizes,
        },
    }
