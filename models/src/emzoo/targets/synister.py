"""Synister targets (originals §4): one class index per synapse from its presynaptic neuron."""

from __future__ import annotations

import numpy as np

from emzoo.errors import InvalidInput

# class order of the originals (synapse_types config)
TRANSMITTERS = ("gaba", "acetylcholine", "glutamate", "serotonin", "octopamine", "dopamine")


def transmitter_index(name: str) -> int:
    try:
        return TRANSMITTERS.index(name)
    except ValueError:
        raise InvalidInput(
            f"unknown neurotransmitter {name!r}", hint=f"use one of {', '.join(TRANSMITTERS)}"
        ) from None


def synapse_classes(pre_neuron_ids, neuron_ids, neuron_transmitters) -> np.ndarray:
    """int64 class per synapse: the transmitter class of the neuron each synapse starts in.

    ``neuron_ids``/``neuron_transmitters`` form the per-neuron table (class indices); a synapse
    whose neuron is missing from the table raises.
    """
    table = dict(
        zip(np.asarray(neuron_ids).tolist(), np.asarray(neuron_transmitters).tolist(), strict=True)
    )
    pre = np.asarray(pre_neuron_ids).tolist()
    missing = sorted({n for n in pre if n not in table})
    if missing:
        raise InvalidInput(
            f"neurons {missing[:5]} have synapses but no transmitter in the table",
            hint="add them to the neuron→transmitter table or drop their synapses",
        )
    return np.array([table[n] for n in pre], dtype=np.int64)
