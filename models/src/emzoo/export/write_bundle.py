"""The export, step by step, into a temporary folder that is renamed into place only when every
check passed: a failed export never leaves a half-written bundle behind."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from emzoo.errors import ExportCheckFailed, InvalidInput
from emzoo.export.bundle_yaml import ExportFacts, build_bundle, dump
from emzoo.export.checkpoint import check_matches, load_checkpoint
from emzoo.export.hashes import hash_files
from emzoo.export.onnx_export import OnnxRunner, export_onnx
from emzoo.export.roundtrip import RELATIVE_FLOOR, Tolerance, compare, require, require_not_flat
from emzoo.export.schema import check_against_schema
from emzoo.export.shapes import halo as compute_halo
from emzoo.export.state_dict_export import predict_isolated, write_state_dict
from emzoo.export.test_tensors import auto_test_k, make_test_input, preprocess
from emzoo.export.torchscript_export import TorchScriptRunner, export_torchscript
from emzoo.export.zoo_variant import write_zoo_variant
from emzoo.preset import Preset
from emzoo.registry import get_preset

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DEFAULT_AUTHORS = [{"name": "emzoo contributors"}]


@dataclass
class ExportOptions:
    preset: str | Preset  # a name from the registry, or a Preset object
    out: Path
    checkpoint: Path | None = None
    bundle_id: str | None = None  # default: the folder name
    test_k: int | None = None  # test input = valid_min + k · valid_step; None: auto_test_k
    seed: int = 0  # random init (untrained) and test texture
    opset: int = 18
    exporter: str = "dynamo"
    size_check: bool = True  # bioimage.io's parametrised check (k = 0..2, batch 1..2) at export
    force: bool = False  # replace an existing bundle folder
    license: str = "MIT"
    authors: list[dict[str, str]] = field(default_factory=lambda: list(DEFAULT_AUTHORS))
    tolerance: Tolerance = field(default_factory=Tolerance)
    # volumes whose clean inputs replace BatchNorm's running statistics (emzoo.export.bn_calibrate)
    recalibrate_bn: list[Path] = field(default_factory=list)


Progress = Callable[[str], None]


def _run_torch(net: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.from_numpy(x)).numpy()


def _build_network(
    preset: Preset, opts: ExportOptions, say: Progress
) -> tuple[torch.nn.Module, dict | None]:
    torch.manual_seed(opts.seed)
    net = preset.build().eval()
    if opts.checkpoint is None:
        if opts.recalibrate_bn:
            raise InvalidInput(
                "--recalibrate-bn needs --checkpoint", hint="an untrained network has no statistics"
            )
        return net, None
    ckpt = load_checkpoint(opts.checkpoint, preset)
    check_matches(net, ckpt, preset)
    net.load_state_dict(ckpt.state_dict)
    say(f"loaded checkpoint {opts.checkpoint} ({len(ckpt.state_dict)} tensors)")
    training = ckpt.training
    if opts.recalibrate_bn:
        from emzoo.export.bn_calibrate import recalibrate_batchnorm

        done = recalibrate_batchnorm(net, preset, opts.recalibrate_bn, seed=opts.seed)
        note = (
            f"BatchNorm statistics recomputed at export on {done['crops']} un-augmented crops at "
            f"the presynaptic sites of {done['volumes']} training volume(s)"
        )
        say(note)
        if training is not None:
            training = {**training, "notes": f"{training.get('notes', '')}; {note}".lstrip("; ")}
    return net.eval(), training


def _size_check(
    net, preset: Preset, onnx_run, ts_run, opts: ExportOptions, say: Progress
) -> list[dict[str, Any]]:
    ks = [0, 1, 2] if any(preset.valid_step) else [0]
    rows = []
    for batch in (1, 2):
        for k in ks:
            x = preprocess(
                make_test_input(preset, k, opts.seed + 17 * (k + 1), batch), preset.preprocessing
            )
            ref = _run_torch(net, x)
            e_onnx = require(
                compare(onnx_run(x), ref, f"ONNX at batch {batch}, k {k}", opts.tolerance),
                f"ONNX at batch {batch}, k {k}",
            )
            e_ts = require(
                compare(ts_run(x), ref, f"TorchScript at batch {batch}, k {k}", opts.tolerance),
                f"TorchScript at batch {batch}, k {k}",
            )
            rows.append(
                {
                    "batch": batch,
                    "k": k,
                    "input_shape": list(x.shape),
                    "output_shape": list(ref.shape),
                    "onnx_max_abs": e_onnx.max_abs,
                    "torchscript_max_abs": e_ts.max_abs,
                }
            )
            say(
                f"  size check batch {batch} k {k} {tuple(x.shape[2:])} → {tuple(ref.shape[1:])}: ok"
            )
    return rows


def _write(preset: Preset, opts: ExportOptions, folder: Path, say: Progress) -> dict[str, Any]:
    t0 = time.monotonic()

    def step(msg: str) -> None:
        say(f"[{time.monotonic() - t0:6.1f}s] {msg}")

    net, training = _build_network(preset, opts, step)
    n_params = sum(p.numel() for p in net.parameters())
    kwargs = dict(getattr(net, "init_kwargs", preset.kwargs))
    step(f"built {preset.model_class} ({n_params:,} parameters)")
    halo = compute_halo(preset)

    test_k = auto_test_k(preset, halo) if opts.test_k is None else opts.test_k
    raw = make_test_input(preset, test_k, opts.seed)
    x = preprocess(raw, preset.preprocessing)
    y = _run_torch(net, x)
    require_not_flat(raw, "test input")
    require_not_flat(y, "test output")
    if halo is not None and tuple(y.shape[2:]) != tuple(
        s - 2 * h for s, h in zip(x.shape[2:], halo, strict=True)
    ):
        raise ExportCheckFailed(
            f"output {y.shape} does not match input {x.shape} minus 2·halo {halo}"
        )
    np.save(folder / "test_input.npy", raw)
    np.save(folder / "test_output.npy", y.astype(np.float32))
    step(f"test tensors: input {raw.shape} → output {y.shape}")

    step(f"exporting ONNX (opset {opts.opset}, {opts.exporter} exporter)")
    opset = export_onnx(
        net, preset, folder / "model.onnx", opset=opts.opset, exporter=opts.exporter
    )
    onnx_run = OnnxRunner(folder / "model.onnx")
    e_onnx = require(compare(onnx_run(x), y, "ONNX", opts.tolerance), "ONNX (onnxruntime CPU)")
    step(f"ONNX ok: max abs {e_onnx.max_abs:.2e}, max rel {e_onnx.max_rel:.2e}")

    step("exporting TorchScript")
    export_torchscript(net, folder / "model.torchscript.pt")
    ts_run = TorchScriptRunner(folder / "model.torchscript.pt")
    e_ts = require(compare(ts_run(x), y, "TorchScript", opts.tolerance), "TorchScript")
    step(f"TorchScript ok: max abs {e_ts.max_abs:.2e}, max rel {e_ts.max_rel:.2e}")

    callable_name = write_state_dict(net, folder)
    step("checking state_dict.pt + architecture.py in an isolated interpreter")
    e_sd = require(
        compare(
            predict_isolated(folder, callable_name, kwargs, x), y, "state dict", opts.tolerance
        ),
        "state_dict.pt + architecture.py",
    )
    step(f"state dict ok: max abs {e_sd.max_abs:.2e}, max rel {e_sd.max_rel:.2e}")

    sizes = []
    if opts.size_check:
        step("size check: valid sizes k = 0, 1, 2 at batch 1 and 2")
        sizes = _size_check(net, preset, onnx_run, ts_run, opts, say)

    zoo_variant = None
    if halo is not None:  # dense outputs only: the padded form bioimage.io tiling consumers need
        step("zoo variant: pad_output=True (output at the input size, halo zero-filled)")
        zoo_variant = write_zoo_variant(
            net,
            preset,
            folder,
            x=x,
            y=y,
            callable_name=callable_name,
            kwargs=kwargs,
            opset=opts.opset,
            tolerance=opts.tolerance,
            size_check=opts.size_check,
            seed=opts.seed,
            step=step,
        )

    facts = ExportFacts(
        bundle_id=opts.bundle_id or opts.out.name,
        authors=opts.authors,
        license=opts.license,
        callable_name=callable_name,
        kwargs=kwargs,
        parameter_count=n_params,
        halo=halo,
        test_input_shape=tuple(raw.shape),
        test_output_shape=tuple(y.shape),
        opset=opset,
        exporter=opts.exporter,
        trained=opts.checkpoint is not None,
        training=training,
        roundtrip={
            **opts.tolerance.as_dict(),
            "relative_floor": RELATIVE_FLOOR,
            "test_input_shape": list(x.shape),
            "onnx": e_onnx.as_dict(),
            "torchscript": e_ts.as_dict(),
            "state_dict": e_sd.as_dict(),
            "sizes": sizes,
        },
        zoo_variant=zoo_variant,
    )
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    bundle = build_bundle(preset, facts, hash_files(folder, names))
    check_against_schema(bundle)
    dump(bundle, folder / "bundle.yaml")
    step("bundle.yaml written and validated")
    return bundle


def export_bundle(opts: ExportOptions, progress: Progress = lambda _msg: None) -> dict[str, Any]:
    """Export ``opts.preset`` into ``opts.out``; returns the bundle.yaml mapping."""
    preset = opts.preset if isinstance(opts.preset, Preset) else get_preset(opts.preset)
    bundle_id = opts.bundle_id or opts.out.name
    if not ID_PATTERN.match(bundle_id):
        raise InvalidInput(
            f"bundle id {bundle_id!r} is not lowercase letters, digits, '.', '_' or '-'",
            hint="name the --out folder (or pass --id) like lsd-small-mtlsd",
        )
    if opts.out.exists() and not opts.force:
        raise InvalidInput(
            f"{opts.out} already exists", hint="pass --force to replace it, or pick another --out"
        )
    if opts.test_k is not None and opts.test_k < 0:
        raise InvalidInput(f"--test-k {opts.test_k} is negative", hint="use k = 0, 1, 2, ...")
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = opts.out.parent / f".{opts.out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        bundle = _write(preset, opts, tmp, progress)
        if opts.out.exists():
            old = opts.out.parent / f".{opts.out.name}.old-{os.getpid()}"
            os.rename(opts.out, old)
            os.rename(tmp, opts.out)
            shutil.rmtree(old)
        else:
            os.rename(tmp, opts.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return bundle
