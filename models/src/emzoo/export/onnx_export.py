"""PyTorch network → model.onnx (single file, opset 17/18, dynamic batch and valid spatial sizes).

Default exporter: torch.export ("dynamo") with the valid sizes declared as derived dimensions
``min + step·k``. torch.export then proves the graph generic over exactly those sizes (it fails at
export if the code specialises on a size), instead of trusting a trace at one size. The legacy
TorchScript-based exporter stays available (``exporter="legacy"``; deprecated in torch ≥ 2.9).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from emzoo.errors import ExportCheckFailed
from emzoo.preset import Preset

MAX_OPSET = 18  # deepImageJ/JDLL maps opsets 6..18 only


def _example_and_dims(preset: Preset):
    from torch.export import Dim

    # batch 2 and k = 2 so no size is 0 or 1 (torch.export specialises those); fake tensors
    # are used, so the size costs nothing
    spatial = [m + 2 * s for m, s in zip(preset.valid_min, preset.valid_step, strict=True)]
    example = torch.zeros(2, preset.in_channels, *spatial)
    dims: dict[int, object] = {0: Dim("batch", min=1, max=4096)}
    for i, (axis, m, s) in enumerate(zip("zyx", preset.valid_min, preset.valid_step, strict=True)):
        if s > 0:
            dims[2 + i] = s * Dim(f"k{axis}", min=0, max=100_000) + m
    return example, (dims,)


def _export_dynamo(net, preset, path, opset, input_name, output_name) -> None:
    example, dynamic_shapes = _example_and_dims(preset)
    # the exporter chats on stdout/logging (progress, missing torchvision ops); keep the CLI clean
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                net,
                (example,),
                str(path),
                dynamo=True,
                opset_version=opset,
                input_names=[input_name],
                output_names=[output_name],
                dynamic_shapes=dynamic_shapes,
                external_data=False,
                verbose=False,
            )
    finally:
        quiet.setLevel(level)


def _export_legacy(net, preset, path, opset, input_name, output_name) -> None:
    spatial = list(preset.valid_min)
    example = torch.zeros(1, preset.in_channels, *spatial)
    axes = {0: "batch"} | {
        2 + i: f"in_{a}" for i, (a, s) in enumerate(zip("zyx", preset.valid_step, strict=True)) if s
    }
    out_axes = {0: "batch"} | (
        {
            2 + i: f"out_{a}"
            for i, (a, s) in enumerate(zip("zyx", preset.valid_step, strict=True))
            if s
        }
        if preset.output_kind == "dense"
        else {}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (example,),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=[input_name],
            output_names=[output_name],
            dynamic_axes={input_name: axes, output_name: out_axes},
        )


def export_onnx(
    net: torch.nn.Module,
    preset: Preset,
    path: Path,
    *,
    opset: int = 18,
    exporter: str = "dynamo",
    input_name: str = "raw",
    output_name: str = "prediction",
) -> int:
    """Write ``path``; returns the opset actually in the file. Raises if it is not one checked file."""
    if not 17 <= opset <= MAX_OPSET:
        raise ExportCheckFailed(f"opset {opset} requested", hint=f"use opset 17..{MAX_OPSET}")
    fn = {"dynamo": _export_dynamo, "legacy": _export_legacy}[exporter]
    try:
        fn(net.eval(), preset, path, opset, input_name, output_name)
    except Exception as err:
        raise ExportCheckFailed(
            f"ONNX export ({exporter}) of {preset.name} failed: {_summary(err)}",
            hint="the network must be exportable with dynamic sizes; try --onnx-exporter legacy to compare",
        ) from err
    return check_onnx_file(path)


def _summary(err: BaseException) -> str:
    """The cause line of a torch.onnx error (its first lines are boilerplate advice)."""
    text = str(err)
    if "## Exception summary" in text:
        text = text.split("## Exception summary", 1)[1]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else err.__class__.__name__


def check_onnx_file(path: Path) -> int:
    """onnx.checker, no external-data tensors, one input, one output; returns the default-domain opset."""
    stray = [p.name for p in path.parent.iterdir() if p != path and p.name.startswith(path.name)]
    if stray:
        raise ExportCheckFailed(
            f"ONNX export wrote external data files {stray}", hint="report this exporter bug"
        )
    model = onnx.load(str(path), load_external_data=False)
    external = [
        t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
    ]
    if external:
        raise ExportCheckFailed(f"{path.name} references external data for {len(external)} tensors")
    onnx.checker.check_model(str(path), full_check=True)
    if len(model.graph.input) != 1 or len(model.graph.output) != 1:
        raise ExportCheckFailed(
            f"{path.name} has {len(model.graph.input)} inputs and {len(model.graph.output)} outputs; need 1 and 1",
            hint="the network's forward must return one tensor (heads concatenated)",
        )
    opsets = {o.domain: o.version for o in model.opset_import}
    opset = opsets.get("", opsets.get("ai.onnx", 0))
    if opset > MAX_OPSET:
        raise ExportCheckFailed(
            f"{path.name} uses opset {opset} > {MAX_OPSET}", hint="deepImageJ reads opset ≤ 18"
        )
    return opset


class OnnxRunner:
    """onnxruntime CPU session over model.onnx (one input, one output)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x})[0]
