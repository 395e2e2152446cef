"""Synister training pipeline (originals section 4.2): class-balanced crops around synapses.

Each sample picks a transmitter class uniformly (among the classes present), then one of its
synapses, and centres the input box within input/8 of the synapse; raw only: Normalize →
augmentation profile (originals: ElasticAugment with slips/shifts → SimpleAugment(transpose y,x)
→ IntensityAugment z-section-wise) → *2-1. Loss: unweighted cross-entropy.
Optimiser: Adam lr 1e-4, default betas.
"""

from __future__ import annotations

import gunpowder as gp
import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.losses import SynisterLoss
from emzoo.preset import Preset
from emzoo.train.batches import GunpowderBatches
from emzoo.train.config import ADAM_SYNISTER
from emzoo.train.distributed import DistEnv
from emzoo.train.task import LossTerm, Task
from emzoo.train.tasks import common as c


def build(
    preset: Preset,
    volume: EMVolume,
    env: DistEnv,
    seed: int,
    batch_size: int,
    device,
    augment: str = "kornia-light",
    stage1: str | None = None,
) -> Task:
    """``device``: where TorchAugment warps (the GPU, or the CPU inside data workers);
    ``augment``: profile (emzoo.augment.profiles); ``stage1``: autocontext only (LSD)."""
    c.no_stage1(preset, stage1)
    if len(volume.synapses) == 0:
        raise InvalidInput("the training data has no synapses", hint="write it with `emzoo synth`")
    vs, off = c.grid_of(volume, preset)
    classes = volume.synapse_transmitters()
    known = classes >= 0
    if not known.any():
        raise InvalidInput(
            "no synapse has a known transmitter", hint="store the neuron→transmitter table"
        )
    locations = volume.synapses.pre_locations[known]
    classes = classes[known]
    present = np.unique(classes)
    by_class = {int(k): np.flatnonzero(classes == k) for k in present}
    in_shape = preset.train_input_shape
    jitter = np.asarray(in_shape) * np.asarray(vs) / 8 / 2
    RAW = gp.ArrayKey("RAW")

    def sample(rng):
        k = int(present[rng.integers(len(present))])
        i = by_class[k][rng.integers(len(by_class[k]))]
        return locations[i] + rng.uniform(-jitter, jitter), {"classes": np.int64(k)}

    pipeline = c.source(RAW, volume.raw, off, vs) + gp.Normalize(RAW)
    if augment == "kornia-light":  # the pipeline as before profiles, unchanged
        pipeline += c.torch_augment(RAW, vs, in_shape, device=device)
        pipeline += c.intensity_augment(RAW, vs)
    else:
        pipeline = c.chain(pipeline, c.augmentation(augment, "synister", preset, vs, RAW))
    pipeline += gp.IntensityScaleShift(RAW, 2, -1)
    request = gp.BatchRequest()
    request[RAW] = c.spec(in_shape, vs)
    batches = GunpowderBatches(pipeline, request, {"raw": RAW}, sample, seed, env.rank, batch_size)
    return Task(
        name=preset.name,
        model=preset.build(),
        batches=batches,
        terms=[LossTerm("logits", "classes", SynisterLoss(), name="loss_ce")],
        optimizer=ADAM_SYNISTER,
        record={
            "input_shape": list(in_shape),
            "augment": augment,
            "classes_present": [int(k) for k in present],
            "synapses_per_class": {int(k): len(v) for k, v in by_class.items()},
        },
        close=batches.close,
    )
