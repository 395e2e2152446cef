"""Synister evaluation: synapse- and neuron-level transmitter accuracy (originals §4.3)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emzoo.data.volume import EMVolume
from emzoo.errors import InvalidInput
from emzoo.evaluate.options import EvalOptions
from emzoo.evaluate.predict import Bundle, Model, crops_around, predict_classes


def score_classes(
    probabilities: np.ndarray,
    classes: np.ndarray,
    neurons: np.ndarray,
    class_names: Sequence[str] = (),
) -> dict[str, float]:
    """Synapse accuracy (argmax), class-balanced synapse accuracy, and neuron accuracy (argmax of
    the summed probabilities of the neuron's synapses; every synapse of a neuron has its class).
    With ``class_names``, also ``recall_<name>`` for each class present: which transmitters a
    model confuses, not only how often."""
    predicted = np.argmax(probabilities, axis=1)
    correct = predicted == classes
    present = np.unique(classes)
    per_class = [float(np.mean(correct[classes == k])) for k in present]
    ids, inverse = np.unique(neurons, return_inverse=True)
    summed = np.zeros((len(ids), probabilities.shape[1]))
    np.add.at(summed, inverse.ravel(), probabilities)
    neuron_class = np.zeros(len(ids), np.int64)
    neuron_class[inverse.ravel()] = classes
    return {
        "synapse_accuracy": float(np.mean(correct)) if len(correct) else 0.0,
        "synapse_balanced_accuracy": float(np.mean(per_class)) if per_class else 0.0,
        "neuron_accuracy": float(np.mean(np.argmax(summed, axis=1) == neuron_class))
        if len(ids)
        else 0.0,
        "synapses": float(len(classes)),
        "neurons": float(len(ids)),
        **{
            f"recall_{class_names[k]}": r
            for k, r in zip(present, per_class, strict=True)
            if class_names
        },
    }


def presynaptic_sites(volume: EMVolume) -> np.ndarray:
    """Synapse rows, one per presynaptic site with a known transmitter (a T-bar with k partners
    repeats its row k times)."""
    _, first = np.unique(volume.synapses.pre_ids, return_index=True)
    return first[volume.synapse_transmitters()[first] >= 0]


def presynaptic_crops(
    volume: EMVolume, shape: tuple[int, ...], sites: np.ndarray | None = None
) -> np.ndarray:
    """(N, z, y, x) raw crops centred on the presynaptic sites (default: presynaptic_sites), as
    Synister's inference feeds them to the network."""
    sites = presynaptic_sites(volume) if sites is None else sites
    locations = volume.synapses.pre_locations[sites]
    voxels = np.floor((locations - np.asarray(volume.offset)) / np.asarray(volume.voxel_size))
    return crops_around(volume.raw, voxels.astype(np.int64), tuple(int(s) for s in shape))


def evaluate_synister(bundle: Bundle, volume: EMVolume, opts: EvalOptions) -> dict[str, float]:
    first = presynaptic_sites(volume)
    if len(first) == 0:
        raise InvalidInput(
            "the held-out volume has no synapse with a known transmitter",
            hint="use an emzoo synth volume (it stores the neuron → transmitter table)",
        )
    shape = tuple(int(s) for s in bundle.meta["input"]["valid_size"]["min"])
    crops = presynaptic_crops(volume, shape, first)
    probs = predict_classes(bundle, crops, Model(bundle, opts.threads))
    classes = volume.synapse_transmitters()[first]
    return score_classes(
        probs,
        classes,
        volume.neurons_at(volume.synapses.pre_locations[first]),
        volume.transmitter_names,
    )
