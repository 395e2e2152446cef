"""Re-check a finished bundle folder: bundle.yaml parses and matches the schema, every file is
present with its recorded sha256 and nothing unlisted lies beside them, test tensors have the
declared dtype and shapes (the zoo variant's padded output: the valid output centred in zeros);
optionally (``run=True``) model.onnx reproduces test_output.npy and zoo/model.onnx the zoo test output
(zoo/test_output.npy when the bundle has it, else test_output.npy padded in memory)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emzoo.errors import InvalidInput
from emzoo.export.hashes import sha256_file
from emzoo.export.schema import schema_errors

HINT = "re-export the bundle with `emzoo export` (files must not be edited after export)"


def _load_yaml(folder: Path) -> dict[str, Any]:
    path = folder / "bundle.yaml"
    if not path.is_file():
        raise InvalidInput(
            f"{folder} has no bundle.yaml", hint="pass a folder written by `emzoo export`"
        )
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InvalidInput(
            f"{path} is not valid YAML: {str(err).splitlines()[0]}", hint=HINT
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} holds a {type(data).__name__}, not a mapping", hint=HINT)
    return data


def _file_problems(folder: Path, files: dict[str, str]) -> list[str]:
    problems = []
    for name, digest in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name}: sha256 differs from bundle.yaml (file changed after export)")
    present = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    unlisted = sorted(name for name in present if name != "bundle.yaml" and name not in files)
    problems += [f"{name}: present but not listed in bundle.yaml files" for name in unlisted]
    return problems


def _tensor_problems(folder: Path, bundle: dict[str, Any]) -> list[str]:
    problems = []
    tensors = {}
    for side in ("input", "output"):
        tt = bundle[side]["test_tensor"]
        try:
            arr = np.load(folder / tt["file"], allow_pickle=False)
        except Exception as err:
            problems.append(f"{tt['file']}: not a readable .npy ({err.__class__.__name__})")
            continue
        tensors[side] = arr
        if arr.dtype != np.float32:
            problems.append(f"{tt['file']}: dtype {arr.dtype}, declared float32")
        if list(arr.shape) != tt["shape"]:
            problems.append(f"{tt['file']}: shape {list(arr.shape)}, declared {tt['shape']}")
        if len(arr.shape) != len(bundle[side]["axes"]):
            problems.append(f"{tt['file']}: {arr.ndim} dimensions for axes {bundle[side]['axes']}")
    if "input" in tensors:
        x = tensors["input"]
        vmin, vstep = bundle["input"]["valid_size"]["min"], bundle["input"]["valid_size"]["step"]
        ks = {
            (s - m) // st if st else 0 for s, m, st in zip(x.shape[2:], vmin, vstep, strict=False)
        }
        valid = all(
            (s == m) if st == 0 else (s >= m and (s - m) % st == 0)
            for s, m, st in zip(x.shape[2:], vmin, vstep, strict=False)
        )
        if not valid or len(ks - {0}) > 1:
            problems.append(
                f"test_input.npy: spatial shape {list(x.shape[2:])} is not min {vmin} + k·step {vstep}"
            )
        if x.shape[1] != len(bundle["input"]["channel_names"]):
            problems.append(
                f"test_input.npy: {x.shape[1]} channels, {len(bundle['input']['channel_names'])} names"
            )
    if "output" in tensors:
        y = tensors["output"]
        if y.shape[1] != len(bundle["output"]["channel_names"]):
            problems.append(
                f"test_output.npy: {y.shape[1]} channels, {len(bundle['output']['channel_names'])} names"
            )
        if "input" in tensors and "halo" in bundle["output"]:
            want = [
                s - 2 * h
                for s, h in zip(tensors["input"].shape[2:], bundle["output"]["halo"], strict=False)
            ]
            if list(y.shape[2:]) != want:
                problems.append(
                    f"test_output.npy: spatial shape {list(y.shape[2:])}, input minus 2·halo is {want}"
                )
    zoo = bundle.get("zoo_variant", {})
    if "output" in tensors and "input" in tensors and "test_tensor" in zoo:
        problems += _zoo_tensor_problems(folder, bundle, tensors["input"], tensors["output"])
    return problems


def _zoo_tensor_problems(
    folder: Path, bundle: dict[str, Any], x: np.ndarray, y: np.ndarray
) -> list[str]:
    from emzoo.errors import ExportCheckFailed
    from emzoo.export.roundtrip import Tolerance
    from emzoo.export.zoo_variant import check_padded

    tt = bundle["zoo_variant"]["test_tensor"]
    try:
        yz = np.load(folder / tt["file"], allow_pickle=False)
    except Exception as err:
        return [f"{tt['file']}: not a readable .npy ({err.__class__.__name__})"]
    problems = []
    if yz.dtype != np.float32:
        problems.append(f"{tt['file']}: dtype {yz.dtype}, declared float32")
    if list(yz.shape) != tt["shape"]:
        problems.append(f"{tt['file']}: shape {list(yz.shape)}, declared {tt['shape']}")
    try:
        check_padded(yz, y, x.shape, Tolerance.of(bundle["roundtrip"]), tt["file"])
    except ExportCheckFailed as err:
        problems.append(f"{tt['file']}: {err} (must be test_output.npy centred in a zero halo)")
    return problems


def _reproduce(folder: Path, bundle: dict[str, Any]) -> list[str]:
    from emzoo.export.onnx_export import OnnxRunner
    from emzoo.export.roundtrip import Tolerance, compare

    prep = bundle["input"]["preprocessing"]
    raw = np.load(folder / "test_input.npy")
    x = (raw * np.float32(prep["gain"]) + np.float32(prep["offset"])).astype(np.float32)
    tol = Tolerance.of(bundle["roundtrip"])
    pairs = [("model.onnx", "test_output.npy")]
    if "zoo_variant" in bundle:
        zoo = bundle["zoo_variant"]
        stored = zoo.get("test_tensor", {}).get("file")
        pairs.append((zoo["weights"]["onnx"]["file"], stored or "test_output.npy padded"))
    problems = []
    for model, output in pairs:
        if output == "test_output.npy padded":  # older bundles store it in zoo/, newer derive it
            from emzoo.export.zoo_variant import pad_valid

            expected = pad_valid(np.load(folder / "test_output.npy"), x.shape)
        else:
            expected = np.load(folder / output)
        try:
            errors = compare(OnnxRunner(folder / model)(x), expected, model, tol)
        except Exception as err:
            problems.append(f"{model}: does not run on test_input.npy ({err})")
            continue
        if not errors.used <= 1.0:
            problems.append(
                f"{model}: differs from {output} by up to {errors.max_abs:.3g}, beyond "
                f"|a - e| ≤ {errors.atol:.3g} + {errors.rtol:g}·|e|"
            )
    return problems


def validate_bundle(folder: Path, *, run: bool = False, expect_id: bool = True) -> dict[str, Any]:
    """Return the bundle mapping, or raise InvalidInput listing every problem found."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InvalidInput(
            f"{folder} is not a folder", hint="pass a bundle folder such as weights/<id>"
        )
    bundle = _load_yaml(folder)
    problems = [f"bundle.yaml {e}" for e in schema_errors(bundle)]
    files = bundle.get("files")
    if isinstance(files, dict):
        problems += _file_problems(folder, files)
    if not problems:
        if expect_id and bundle["id"] != folder.name:
            problems.append(
                f"bundle.yaml id {bundle['id']!r} differs from the folder name {folder.name!r}"
            )
        problems += _tensor_problems(folder, bundle)
    if not problems and run:
        problems += _reproduce(folder, bundle)
    if problems:
        raise InvalidInput(f"bundle {folder} is invalid:\n  " + "\n  ".join(problems), hint=HINT)
    return bundle
