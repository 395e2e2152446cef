"""Evaluation of exported bundles on held-out volumes: post-processing and metrics per task.

``evaluate_bundle(bundle_dir, data, EvalOptions())`` runs model.onnx (onnxruntime, tiled) over
the volume and scores it: LSD — affinity error, watershed + mean agglomeration, VOI and adapted
Rand error; Synful — partner extraction and Hungarian-matched precision/recall/F1; Synister —
synapse and neuron accuracy; Micron — soft-mask precision/recall/F1 within a tolerance.
"""

from emzoo.evaluate.matching import match_pairs, prf
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.record import write_held_out_metrics
from emzoo.evaluate.run import evaluate_bundle, evaluate_volume
from emzoo.evaluate.segmentation_metrics import adapted_rand, segmentation_scores, voi
from emzoo.evaluate.synful_extract import extract_partners
from emzoo.evaluate.watershed import agglomerate_mean, fragments, segment_affinities

__all__ = [
    "EvalOptions",
    "adapted_rand",
    "agglomerate_mean",
    "evaluate_bundle",
    "evaluate_volume",
    "extract_partners",
    "fragments",
    "match_pairs",
    "prf",
    "segment_affinities",
    "segmentation_scores",
    "voi",
    "write_held_out_metrics",
]
