"""Synthetic EM volumes with ground truth for all four tasks (``generate_volume``)."""

from emzoo.data.synth.generate import GENERATOR_VERSION, generate_volume
from emzoo.data.synth.modes import MODES, Mode, get_mode
from emzoo.data.synth.synapses import VESICLE_STYLES, VesicleStyle

__all__ = [
    "GENERATOR_VERSION",
    "MODES",
    "VESICLE_STYLES",
    "Mode",
    "VesicleStyle",
    "generate_volume",
    "get_mode",
]
