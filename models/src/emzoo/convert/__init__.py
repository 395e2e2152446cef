"""Weights from the originals' checkpoints into the PyTorch ports (TF1 → torch)."""

from emzoo.convert.tf_checkpoint import TfCheckpoint, read_checkpoint
from emzoo.convert.tf_convert import Conversion, convert_tf_checkpoint, load_tf_weights
from emzoo.convert.tf_mapping import MappingPlan, plan_mapping

__all__ = [
    "Conversion",
    "MappingPlan",
    "TfCheckpoint",
    "convert_tf_checkpoint",
    "load_tf_weights",
    "plan_mapping",
    "read_checkpoint",
]
