"""Several training volumes as one: side by side along x, separated by empty gaps.

Training on many volumes matters where one volume holds too few independent objects, e.g.
Synister, whose class belongs to a neuron: a net trained on a few hundred neurons learns the
neurons, not the transmitters. The originals drew from several samples (CREMI A, B, C; many
FAFB neurons) through gunpowder's RandomProvider. Laying the volumes out in one world frame
keeps every task pipeline unchanged: samplers draw world locations, and ``attrs["tiles"]``
names each volume's box so that uniform sampling picks a volume first (by size) and never
centres a box in a gap. Ids are renumbered so that no two volumes share a neuron, annotation
or track id; gaps have raw 0, labels 0 and mask 0 (no loss there).
"""

from __future__ import annotations

import numpy as np

from emzoo.data.volume import EMVolume, Microtubules, Synapses
from emzoo.errors import InvalidInput


def _max_id(*arrays) -> int:
    return max((int(a.max()) for a in arrays if a is not None and a.size), default=0)


def mosaic(volumes: list[EMVolume], gap: int) -> EMVolume:
    """One volume holding ``volumes`` along x with ``gap`` empty voxels between them.

    ``gap`` must exceed the reach of any request (input box plus augmentation margin), so a
    sample centred in one volume never sees another. A single volume is returned unchanged."""
    if not volumes:
        raise InvalidInput("no training volume given", hint="pass --data PATH [PATH ...]")
    if len(volumes) == 1:
        return volumes[0]
    vs = tuple(float(v) for v in volumes[0].voxel_size)
    for i, v in enumerate(volumes[1:], start=1):
        if tuple(float(s) for s in v.voxel_size) != vs:
            raise InvalidInput(
                f"training volume {i} has voxel size {tuple(v.voxel_size)} nm, volume 0 has {vs}",
                hint="train on volumes of one voxel size (resample them first)",
            )
    has = {
        name: all(getattr(v, name) is not None for v in volumes)
        for name in ("neurons", "microtubule_labels")
    }
    depth = max(v.shape[0] for v in volumes)
    height = max(v.shape[1] for v in volumes)
    width = sum(v.shape[2] for v in volumes) + gap * (len(volumes) - 1)
    shape = (depth, height, width)
    raw = np.zeros(shape, np.uint8)
    neurons = np.zeros(shape, np.uint64) if has["neurons"] else None
    mask = np.zeros(shape, np.uint8)  # 0 in the gaps
    tracks = np.zeros(shape, np.uint64) if has["microtubule_labels"] else None
    vs_a = np.asarray(vs)
    base = np.asarray(volumes[0].offset, np.float64)

    syn_rows: list[Synapses] = []
    ids_table, tx_table, tiles, sources = [], [], [], []
    mt_nodes, mt_tracks, mt_edges = [], [], []
    neuron_shift = annotation_shift = track_shift = node_shift = 0
    x0 = 0
    for v in volumes:
        d, h, w = v.shape
        window = (slice(0, d), slice(0, h), slice(x0, x0 + w))
        raw[window] = v.raw
        if neurons is not None:
            labelled = v.neurons != 0
            neurons[window] = np.where(labelled, v.neurons + np.uint64(neuron_shift), 0)
        mask[window] = 1 if v.mask is None else v.mask
        if tracks is not None:
            t = v.microtubule_labels
            tracks[window] = np.where(t != 0, t + np.uint64(track_shift), 0)
        # world position of this volume: its own frame moved to x0
        shift = base + np.array([0.0, 0.0, x0]) * vs_a - np.asarray(v.offset, np.float64)
        s = v.synapses
        syn_rows.append(
            Synapses(
                s.pre_locations + shift,
                s.post_locations + shift,
                s.pre_ids + np.uint64(annotation_shift),
                s.post_ids + np.uint64(annotation_shift),
            )
        )
        ids_table.append(v.neuron_ids.astype(np.uint64) + np.uint64(neuron_shift))
        tx_table.append(v.neuron_transmitters.astype(np.int64))
        if v.microtubules is not None:
            m = v.microtubules
            mt_nodes.append(m.nodes + shift)
            mt_tracks.append(m.node_tracks + np.uint64(track_shift))
            mt_edges.append(m.edges + node_shift)
            node_shift += len(m.nodes)
        lo = base + np.array([0.0, 0.0, x0]) * vs_a
        tiles.append([lo.tolist(), (lo + np.asarray(v.shape) * vs_a).tolist()])
        keys = ("path", "generator", "generator_version", "mode", "seed", "shape")
        sources.append({k: v.attrs.get(k) for k in keys})
        neuron_shift += _max_id(v.neurons, v.neuron_ids)
        annotation_shift += _max_id(s.pre_ids, s.post_ids)
        track_shift += _max_id(
            v.microtubule_labels, None if v.microtubules is None else v.microtubules.node_tracks
        )
        x0 += w + gap

    first = volumes[0].attrs
    same = all(v.attrs.get("generator") == first.get("generator") for v in volumes)
    return EMVolume(
        raw=raw,
        voxel_size=vs,
        offset=tuple(float(o) for o in base),
        neurons=neurons,
        mask=mask,
        synapses=Synapses(
            np.concatenate([r.pre_locations for r in syn_rows]).reshape(-1, 3),
            np.concatenate([r.post_locations for r in syn_rows]).reshape(-1, 3),
            np.concatenate([r.pre_ids for r in syn_rows]).astype(np.uint64),
            np.concatenate([r.post_ids for r in syn_rows]).astype(np.uint64),
        ),
        neuron_ids=np.concatenate(ids_table).astype(np.uint64),
        neuron_transmitters=np.concatenate(tx_table).astype(np.int64),
        microtubules=Microtubules(
            np.concatenate(mt_nodes).reshape(-1, 3),
            np.concatenate(mt_tracks).astype(np.uint64),
            np.concatenate(mt_edges).reshape(-1, 2).astype(np.int64),
        )
        if mt_nodes
        else None,
        microtubule_labels=tracks,
        attrs={
            "generator": first.get("generator") if same else None,
            "mode": first.get("mode") if same else None,
            "mosaic": {"gap_voxels": int(gap), "volumes": sources},
            "tiles": tiles,
        },
    )
