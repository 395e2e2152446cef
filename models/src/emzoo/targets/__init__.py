"""Training targets for the four tasks, each matching its original (lsds / gunpowder / Synful)."""

from emzoo.targets.affinities import (
    LONG_RANGE_3D,
    STANDARD_2D,
    STANDARD_3D,
    affinities,
    affinity_context,
)
from emzoo.targets.balance import balance_labels
from emzoo.targets.lsd import LSD_CHANNELS_2D, LSD_CHANNELS_3D, local_shape_descriptors
from emzoo.targets.micron import MICRON_SIGMA_NM, micron_targets, rasterize_tracks
from emzoo.targets.synful import partner_vectors, post_synaptic_mask
from emzoo.targets.synister import TRANSMITTERS, synapse_classes, transmitter_index
from emzoo.targets.tasks import (
    lsd_task_targets,
    lsd_weights,
    micron_task_targets,
    synful_task_targets,
)

__all__ = [
    "LONG_RANGE_3D",
    "LSD_CHANNELS_2D",
    "LSD_CHANNELS_3D",
    "MICRON_SIGMA_NM",
    "STANDARD_2D",
    "STANDARD_3D",
    "TRANSMITTERS",
    "affinities",
    "affinity_context",
    "balance_labels",
    "local_shape_descriptors",
    "lsd_task_targets",
    "lsd_weights",
    "micron_targets",
    "micron_task_targets",
    "partner_vectors",
    "post_synaptic_mask",
    "rasterize_tracks",
    "synapse_classes",
    "synful_task_targets",
    "transmitter_index",
]
