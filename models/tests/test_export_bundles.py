"""emzoo export on the small preset of every task, checked like bioimage.io would check it.

The four exports (default exporter: torch.export "dynamo", random init) run once per session
as CLI subprocesses, two at a time; every test then re-derives its expectations from the
PyTorch network itself (rebuilt from emzoo + the bundle's state_dict.pt), never from the
numbers the exporter recorded.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import yaml

from emzoo.export import validate_bundle
from emzoo.export.schema import schema_errors
from emzoo.export.test_tensors import em_texture
from emzoo.preset import Preset
from emzoo.registry import get_preset

SMALL = ["lsd-small-mtlsd", "synful-small", "micron-small", "synister-small"]
TOL = 1e-4


def _export_command(name: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "emzoo", "export", "--preset", name, "--out", str(out)]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, tuple[Preset, Path, subprocess.CompletedProcess]]:
    root = tmp_path_factory.mktemp("bundles")
    # torch.export is single-threaded symbolic work: run the exports side by side
    workers = max(1, min(len(SMALL), os.cpu_count() or 2))
    with ThreadPoolExecutor(workers) as pool:
        procs = dict(
            zip(SMALL, pool.map(_run, [_export_command(n, root / n) for n in SMALL]), strict=True)
        )
    out = {}
    for name, proc in procs.items():
        preset = get_preset(name)
        assert proc.returncode == 0, (
            f"export of {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        )
        out[name] = (preset, root / name, proc)
    return out


def _net(preset: Preset, folder: Path) -> torch.nn.Module:
    net = preset.build().eval()
    net.load_state_dict(torch.load(folder / "state_dict.pt", weights_only=True))
    return net


def _inputs(preset: Preset, batch: int, k: int) -> np.ndarray:
    spatial = tuple(m + k * s for m, s in zip(preset.valid_min, preset.valid_step, strict=True))
    raw = np.stack(
        [
            np.stack(
                [
                    em_texture(spatial, preset.voxel_size_nm, 100 + 10 * b + c)
                    for c in range(preset.in_channels)
                ]
            )
            for b in range(batch)
        ]
    )
    return (raw * np.float32(2 / 255) - np.float32(1)).astype(np.float32)


def _grid(preset: Preset):
    ks = [0, 1, 2] if any(preset.valid_step) else [0]
    return [(b, k) for b in (1, 2) for k in ks]


def _expected_shape(preset: Preset, bundle: dict, x: np.ndarray) -> tuple[int, ...]:
    c = len(bundle["output"]["channel_names"])
    if preset.output_kind == "classes":
        return (x.shape[0], c)
    return (
        x.shape[0],
        c,
        *(s - 2 * h for s, h in zip(x.shape[2:], bundle["output"]["halo"], strict=True)),
    )


@pytest.mark.parametrize("name", SMALL)
def test_bundle_is_complete_and_valid(bundles, name):
    preset, folder, proc = bundles[name]
    assert "UNTRAINED" in proc.stderr  # the CLI warns when no checkpoint is given
    assert "wrote" in proc.stdout and "exporting ONNX" in proc.stdout  # progress lines
    dense = preset.output_kind == "dense"
    # no zoo/test_output.npy: it is test_output.npy in a zero border, derived where needed
    zoo = ["zoo/model.onnx", "zoo/model.torchscript.pt"] if dense else []
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == (
        sorted(
            [
                "bundle.yaml",
                "model.onnx",
                "model.torchscript.pt",
                "state_dict.pt",
                "architecture.py",
                "test_input.npy",
                "test_output.npy",
                *zoo,
            ]
        )
    )
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")], (
        "temporary folders left behind"
    )
    bundle = yaml.safe_load((folder / "bundle.yaml").read_text())
    assert schema_errors(bundle) == []
    validate_bundle(folder, run=True)  # schema + hashes + tensors + ONNX reproduces test_output
    assert bundle["id"] == name and bundle["preset"] == name and bundle["task"] == preset.task
    assert bundle["trained"] is False and bundle["training"] is None
    assert bundle["input"]["channel_names"] == list(preset.input_channel_names)
    assert bundle["output"]["channel_names"] == list(preset.output_channel_names)
    assert bundle["input"]["valid_size"] == {
        "min": list(preset.valid_min),
        "step": list(preset.valid_step),
    }
    assert bundle["citations"] and bundle["citations"][0]["doi"] == preset.citations[0].doi
    assert bundle["architecture"]["kwargs"] == json.loads(
        json.dumps(_net(preset, folder).init_kwargs)
    )
    for key in ("onnx", "torchscript", "state_dict"):
        assert bundle["roundtrip"][key]["max_abs"] <= TOL
    assert [(r["batch"], r["k"]) for r in bundle["roundtrip"]["sizes"]] == _grid(preset)
    assert ("zoo_variant" in bundle) == dense  # Synister has no dense output to pad
    assert bundle["architecture"]["kwargs"].get("pad_output", False) is False


@pytest.mark.parametrize("name", SMALL)
def test_test_tensors_are_raw_em_and_pytorch_output(bundles, name):
    preset, folder, _ = bundles[name]
    bundle = yaml.safe_load((folder / "bundle.yaml").read_text())
    raw = np.load(folder / "test_input.npy")
    out = np.load(folder / "test_output.npy")
    assert raw.dtype == np.float32 and out.dtype == np.float32
    assert raw.shape[:2] == (1, preset.in_channels)
    ks = {
        (n - m) // st
        for n, m, st in zip(raw.shape[2:], preset.valid_min, preset.valid_step, strict=True)
        if st
    }
    k = next(iter(ks), 0)
    assert len(ks) <= 1 and all(
        n == m + k * st
        for n, m, st in zip(raw.shape[2:], preset.valid_min, preset.valid_step, strict=True)
    ), f"{raw.shape} is not a valid size"
    assert raw.min() >= 0 and raw.max() <= 255 and np.array_equal(raw, np.round(raw))
    assert raw.std() > 10 and raw.max() - raw.min() > 100  # textured, not near zero / flat
    prep = bundle["input"]["preprocessing"]
    assert (prep["gain"], prep["offset"]) == (
        preset.preprocessing.gain,
        preset.preprocessing.offset,
    )
    x = (raw * np.float32(prep["gain"]) + np.float32(prep["offset"])).astype(np.float32)
    with torch.no_grad():
        expected = _net(preset, folder)(torch.from_numpy(x)).numpy()
    assert out.shape == expected.shape == _expected_shape(preset, bundle, x)
    np.testing.assert_allclose(out, expected, atol=1e-6, rtol=0)
    assert not (out.min() > -1e-4 and out.max() < 1e-4)
    if preset.output_kind == "dense":  # big enough to look at: >= 16 voxels where it can grow
        assert all(o >= 16 for o, st in zip(out.shape[2:], preset.valid_step, strict=True) if st)


@pytest.mark.parametrize("name", SMALL)
def test_onnx_matches_pytorch_at_valid_sizes_and_batches(bundles, name):
    preset, folder, _ = bundles[name]
    bundle = yaml.safe_load((folder / "bundle.yaml").read_text())
    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    onnx.checker.check_model(model)
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} <= {17, 18}
    assert not [t for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert len(model.graph.input) == 1 and len(model.graph.output) == 1
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param  # dynamic batch
    for d, step in zip(dims[2:], preset.valid_step, strict=True):
        assert bool(d.dim_param) == (step > 0)  # dynamic exactly where the size may vary
    sess = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    net = _net(preset, folder)
    for batch, k in _grid(preset):
        x = _inputs(preset, batch, k)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
        got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        assert got.shape == ref.shape == _expected_shape(preset, bundle, x), (batch, k)
        assert np.abs(got - ref).max() <= TOL, (batch, k)


@pytest.mark.parametrize("name", SMALL)
def test_torchscript_matches_pytorch_at_valid_sizes_and_batches(bundles, name):
    preset, folder, _ = bundles[name]
    scripted = torch.jit.load(str(folder / "model.torchscript.pt")).eval()
    net = _net(preset, folder)
    for batch, k in _grid(preset):
        x = torch.from_numpy(_inputs(preset, batch, k))
        with torch.no_grad():
            ref, got = net(x), scripted(x)
        assert got.shape == ref.shape, (batch, k)
        assert (got - ref).abs().max().item() <= TOL, (batch, k)


_ISOLATED_CHECK = textwrap.dedent(
    """
    import importlib.abc, json, os, sys
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "emzoo":
                raise ImportError("emzoo must not be needed")
    sys.meta_path.insert(0, Block())
    sys.path.insert(0, os.getcwd())
    import numpy as np, torch, yaml
    import architecture
    b = yaml.safe_load(open("bundle.yaml"))
    arch = b["architecture"]
    net = getattr(architecture, arch["callable"])(**arch["kwargs"])
    net.load_state_dict(torch.load("state_dict.pt", weights_only=True))
    net.eval()
    p = b["input"]["preprocessing"]
    x = np.load("test_input.npy") * np.float32(p["gain"]) + np.float32(p["offset"])
    with torch.no_grad():
        y = net(torch.from_numpy(x.astype(np.float32))).numpy()
    expected = "test_output.npy"
    if sys.argv[1:] == ["zoo"]:  # the zoo variant: same files, kwargs merged with its own
        kwargs = {**arch["kwargs"], **b["zoo_variant"]["kwargs"]}
        net = getattr(architecture, arch["callable"])(**kwargs)
        net.load_state_dict(torch.load("state_dict.pt", weights_only=True))
        with torch.no_grad():
            y = net.eval()(torch.from_numpy(x.astype(np.float32))).numpy()
        h = b["output"]["halo"]  # expected: the valid output in a zero border of h per side
        expected = np.pad(np.load(expected), [(0, 0), (0, 0)] + [(a, a) for a in h])
    print(json.dumps({"max_abs": float(np.abs(y - np.load(expected) if isinstance(expected, str)
                                              else y - expected).max()),
                      "emzoo_loaded": any(m.split(".")[0] == "emzoo" for m in sys.modules)}))
    """
)


@pytest.mark.parametrize("name", SMALL)
def test_architecture_py_and_state_dict_reproduce_without_emzoo(bundles, name):
    _, folder, _ = bundles[name]
    tree = ast.parse((folder / "architecture.py").read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
        if not (isinstance(node, ast.ImportFrom) and node.level)
    }
    assert imported <= set(sys.stdlib_module_names) | {"torch"}, imported
    proc = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _ISOLATED_CHECK],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["max_abs"] <= TOL and result["emzoo_loaded"] is False
    assert not (folder / "__pycache__").exists()


def _padded_net(preset: Preset, folder: Path) -> torch.nn.Module:
    net = preset.build()
    twin = type(net)(**{**net.init_kwargs, "pad_output": True})
    twin.load_state_dict(torch.load(folder / "state_dict.pt", weights_only=True))
    return twin.eval()


DENSE = [n for n in SMALL if get_preset(n).output_kind == "dense"]


@pytest.mark.parametrize("name", DENSE)
def test_zoo_variant_is_the_valid_output_padded_back_to_the_input_size(bundles, name):
    preset, folder, _ = bundles[name]
    bundle = yaml.safe_load((folder / "bundle.yaml").read_text())
    zoo = bundle["zoo_variant"]
    assert zoo["kind"] == "padded-output" and zoo["kwargs"] == {"pad_output": True}
    # not stored (it was 9-32 MB of zero border): validate-bundle and the packager derive it
    assert "test_tensor" not in zoo and "zoo/test_output.npy" not in bundle["files"]
    raw = np.load(folder / "test_input.npy")
    valid = np.load(folder / "test_output.npy")
    prep = bundle["input"]["preprocessing"]
    x = (raw * np.float32(prep["gain"]) + np.float32(prep["offset"])).astype(np.float32)
    with torch.no_grad():
        padded = _padded_net(preset, folder)(torch.from_numpy(x)).numpy()
    assert padded.shape == (*valid.shape[:2], *raw.shape[2:])
    halo = bundle["output"]["halo"]
    centre = tuple(slice(h, h + n) for h, n in zip(halo, valid.shape[2:], strict=True))
    np.testing.assert_allclose(padded[(..., *centre)], valid, atol=1e-6, rtol=0)
    border = np.ones(padded.shape, dtype=bool)
    border[(..., *centre)] = False
    assert border.any() and not padded[border].any()
    for key in ("onnx", "torchscript", "state_dict"):
        assert zoo["roundtrip"][key]["max_abs"] <= TOL
    assert [r["k"] for r in zoo["roundtrip"]["sizes"]] == [0, 1, 2]


@pytest.mark.parametrize("name", DENSE)
def test_zoo_onnx_and_torchscript_match_padded_pytorch_at_valid_sizes(bundles, name):
    preset, folder, _ = bundles[name]
    model = onnx.load(str(folder / "zoo/model.onnx"), load_external_data=False)
    onnx.checker.check_model(model)
    assert {o.version for o in model.opset_import if o.domain in ("", "ai.onnx")} <= {17, 18}
    sess = ort.InferenceSession(str(folder / "zoo/model.onnx"), providers=["CPUExecutionProvider"])
    scripted = torch.jit.load(str(folder / "zoo/model.torchscript.pt")).eval()
    net = _padded_net(preset, folder)
    for batch, k in _grid(preset):
        x = _inputs(preset, batch, k)
        with torch.no_grad():
            ref = net(torch.from_numpy(x)).numpy()
            ts = scripted(torch.from_numpy(x)).numpy()
        got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        assert ref.shape[2:] == x.shape[2:], (batch, k)
        assert got.shape == ts.shape == ref.shape, (batch, k)
        assert np.abs(got - ref).max() <= TOL and np.abs(ts - ref).max() <= TOL, (batch, k)


@pytest.mark.parametrize("name", DENSE[:1])
def test_zoo_variant_rebuilds_from_architecture_py_without_emzoo(bundles, name):
    _, folder, _ = bundles[name]
    proc = subprocess.run(
        [sys.executable, "-I", "-B", "-c", _ISOLATED_CHECK, "zoo"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["max_abs"] <= TOL and result["emzoo_loaded"] is False
