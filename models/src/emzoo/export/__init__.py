"""Preset (+ checkpoint) → bundle folder (weights/<id>/): ONNX, TorchScript, state dict +
architecture.py, test tensors and bundle.yaml, every artefact checked against PyTorch before the
folder appears. ``validate_bundle`` re-checks a finished bundle."""

from emzoo.export.validate import validate_bundle
from emzoo.export.write_bundle import ExportOptions, export_bundle

__all__ = ["ExportOptions", "export_bundle", "validate_bundle"]
