"""PyTorch eager model of an emzoo bundle: architecture.py + state_dict.pt + bundle.yaml kwargs.

Loaded the way a bundle consumer would (only the bundle folder, no emzoo import), so the PyTorch
rows of the benchmarks run exactly the weights that model.onnx was exported from.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch
import yaml


def load_bundle_yaml(bundle: Path) -> dict:
    return yaml.safe_load((bundle / "bundle.yaml").read_text())


def load_torch_model(bundle: Path) -> torch.nn.Module:
    meta = load_bundle_yaml(bundle)
    arch = meta["architecture"]
    spec = importlib.util.spec_from_file_location(
        f"bundle_arch_{bundle.name}", bundle / arch["source"]
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot import {bundle / arch['source']}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    model = getattr(module, arch["callable"])(**arch["kwargs"])
    state = torch.load(
        bundle / meta["weights"]["state_dict"]["file"],
        map_location="cpu",
        weights_only=True,
    )
    model.load_state_dict(state)
    return model.eval()
