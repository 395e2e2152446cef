"""The facts of one export → the bundle.yaml mapping (schema: spec/bundle.schema.json)."""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from emzoo.preset import Preset

BUNDLE_FORMAT = 1
TASK_TITLES = {"lsd": "LSD", "synful": "Synful", "synister": "Synister", "micron": "Micron"}


def plain(value: Any) -> Any:
    """Tuples, numpy scalars and nested containers → YAML/JSON-safe builtins."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str):
        return str(value)  # str subclasses (torch.__version__) do not serialise
    return value


def bundle_name(preset: Preset) -> str:
    name = f"{TASK_TITLES.get(preset.task, preset.task)} {preset.variant}"
    return re.sub(r"[^A-Za-z0-9_+\- ()]", "-", name)[:128].ljust(5, "_")


def software_versions() -> dict[str, str]:
    def v(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "absent"

    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnx": v("onnx"),
        "onnxruntime": v("onnxruntime"),
        "onnxscript": v("onnxscript"),
        "numpy": np.__version__,
        "emzoo": v("emzoo"),
    }


@dataclass(frozen=True)
class ExportFacts:
    """What the export measured or decided, beyond the preset itself."""

    bundle_id: str
    authors: list[dict[str, str]]
    license: str
    callable_name: str
    kwargs: dict[str, Any]
    parameter_count: int
    halo: tuple[int, int, int] | None
    test_input_shape: tuple[int, ...]
    test_output_shape: tuple[int, ...]
    opset: int
    exporter: str
    trained: bool
    training: dict[str, Any] | None
    roundtrip: dict[str, Any]
    zoo_variant: dict[str, Any] | None = None  # dense only: zoo/ (see zoo_variant.py)
    input_name: str = "raw"
    output_name: str = "prediction"


def build_bundle(preset: Preset, facts: ExportFacts, files: dict[str, str]) -> dict[str, Any]:
    import torch

    description = preset.description
    if not facts.trained:
        description += " UNTRAINED: random initialisation, for structure and export checks only."
    output: dict[str, Any] = {
        "name": facts.output_name,
        "kind": preset.output_kind,
        "axes": ["b", "c", "z", "y", "x"] if preset.output_kind == "dense" else ["b", "c"],
        "channel_names": list(preset.output_channel_names),
        "dtype": "float32",
    }
    if facts.halo is not None:
        output["halo"] = list(facts.halo)
    output["semantics"] = plain(preset.semantics)
    output["test_tensor"] = {"file": "test_output.npy", "shape": list(facts.test_output_shape)}
    return plain(
        {
            "bundle_format": BUNDLE_FORMAT,
            "id": facts.bundle_id,
            "name": bundle_name(preset),
            "description": description,
            "task": preset.task,
            "variant": preset.variant,
            "preset": preset.name,
            "paper": preset.paper,
            "trained": facts.trained,
            "created": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "authors": facts.authors,
            "citations": [{"text": c.text, "doi": c.doi} for c in preset.citations],
            "license": facts.license,
            "architecture": {
                "class_path": preset.model_class,
                "source": "architecture.py",
                "callable": facts.callable_name,
                "kwargs": plain(facts.kwargs),
                "parameter_count": facts.parameter_count,
            },
            "input": {
                "name": facts.input_name,
                "axes": ["b", "c", "z", "y", "x"],
                "channel_names": list(preset.input_channel_names),
                "dtype": "float32",
                "voxel_size_nm": [float(v) for v in preset.voxel_size_nm],
                "valid_size": {"min": list(preset.valid_min), "step": list(preset.valid_step)},
                "preprocessing": {
                    "kind": "scale_linear",
                    "gain": float(preset.preprocessing.gain),
                    "offset": float(preset.preprocessing.offset),
                },
                "test_tensor": {"file": "test_input.npy", "shape": list(facts.test_input_shape)},
            },
            "output": output,
            "weights": {
                "onnx": {"file": "model.onnx", "opset": facts.opset, "exporter": facts.exporter},
                "torchscript": {"file": "model.torchscript.pt", "torch_version": torch.__version__},
                "state_dict": {
                    "file": "state_dict.pt",
                    "architecture": "architecture.py",
                    "torch_version": torch.__version__,
                },
            },
            "training": plain(facts.training),
            "roundtrip": facts.roundtrip,
            **({"zoo_variant": facts.zoo_variant} if facts.zoo_variant is not None else {}),
            "software": software_versions(),
            "files": files,
        }
    )


class _Dumper(yaml.SafeDumper):
    """Lists of scalars (shapes, offsets, kwargs) on one line; mappings in block style."""


def _represent_list(dumper: yaml.SafeDumper, data: list) -> yaml.Node:
    flat = all(not isinstance(v, dict) for v in data) and len(str(data)) <= 90
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat)


_Dumper.add_representer(list, _represent_list)


def dump(bundle: dict[str, Any], path: Path) -> None:
    path.write_text(
        yaml.dump(bundle, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    )


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())
