"""The in-memory EM volume every reader returns and the synthetic generator produces.

All locations are world coordinates in nm, (z, y, x); ``offset`` is the world position of
voxel (0, 0, 0)'s corner, so voxel index = floor((location - offset) / voxel_size).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emzoo.targets.synister import TRANSMITTERS


@dataclass
class Synapses:
    """Synaptic partner pairs, one row per (pre, post) connection. A presynaptic site (T-bar)
    with several partners repeats its id and location over several rows."""

    pre_locations: np.ndarray  # (N, 3) float64 nm
    post_locations: np.ndarray  # (N, 3) float64 nm
    pre_ids: np.ndarray  # (N,) uint64 annotation ids
    post_ids: np.ndarray  # (N,) uint64 annotation ids

    @staticmethod
    def empty() -> Synapses:
        return Synapses(
            np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0, np.uint64), np.zeros(0, np.uint64)
        )

    def __len__(self) -> int:
        return len(self.pre_ids)


@dataclass
class Microtubules:
    """Tracks as a graph: node locations (nm), the track id of every node, and edges between
    node indices (consecutive nodes of a track); ``polylines()`` gives one (K, 3) array each."""

    nodes: np.ndarray  # (K, 3) float64 nm
    node_tracks: np.ndarray  # (K,) uint64 track ids
    edges: np.ndarray  # (E, 2) int64 node indices

    @staticmethod
    def from_polylines(polylines: list[np.ndarray], ids: list[int] | None = None) -> Microtubules:
        ids = list(range(1, len(polylines) + 1)) if ids is None else ids
        nodes, tracks, edges, start = [], [], [], 0
        for track_id, line in zip(ids, polylines, strict=True):
            line = np.asarray(line, np.float64).reshape(-1, 3)
            nodes.append(line)
            tracks.append(np.full(len(line), track_id, np.uint64))
            edges.append(
                np.stack(
                    [
                        np.arange(start, start + len(line) - 1),
                        np.arange(start + 1, start + len(line)),
                    ],
                    1,
                )
            )
            start += len(line)
        if not nodes:
            return Microtubules(
                np.zeros((0, 3)), np.zeros(0, np.uint64), np.zeros((0, 2), np.int64)
            )
        return Microtubules(
            np.concatenate(nodes), np.concatenate(tracks), np.concatenate(edges).astype(np.int64)
        )

    def polylines(self) -> tuple[list[int], list[np.ndarray]]:
        """(track ids, polylines), one per chain of edges; a track cut by the volume border
        can have several chains with the same id."""
        successor = {int(a): int(b) for a, b in self.edges}
        has_pred = {int(b) for _, b in self.edges}
        ids, lines = [], []
        for start in range(len(self.nodes)):
            if start in has_pred:
                continue
            order = [start]
            while order[-1] in successor and len(order) <= len(self.nodes):
                order.append(successor[order[-1]])
            ids.append(int(self.node_tracks[start]))
            lines.append(self.nodes[order])
        return ids, lines


@dataclass
class EMVolume:
    raw: np.ndarray  # (z, y, x) uint8
    voxel_size: tuple[float, float, float]  # nm
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)  # nm
    neurons: np.ndarray | None = None  # (z, y, x) uint64, 0 = no object
    mask: np.ndarray | None = None  # (z, y, x) uint8, 1 where the labels are valid
    synapses: Synapses = field(default_factory=Synapses.empty)
    # neuron → transmitter class index (order of TRANSMITTERS)
    neuron_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    neuron_transmitters: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    microtubules: Microtubules | None = None
    microtubule_labels: np.ndarray | None = None  # (z, y, x) uint64 rasterised tracks
    attrs: dict = field(default_factory=dict)

    transmitter_names: tuple[str, ...] = TRANSMITTERS

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.raw.shape)

    def synapse_transmitters(self) -> np.ndarray:
        """Class index of every synapse row (from the neuron under its pre location); -1 where
        the neuron has no entry in the table or the location is outside the labels."""
        if self.neurons is None or len(self.synapses) == 0:
            return np.full(len(self.synapses), -1, np.int64)
        table = dict(zip(self.neuron_ids.tolist(), self.neuron_transmitters.tolist(), strict=True))
        neurons = self.neurons_at(self.synapses.pre_locations)
        return np.array([table.get(int(n), -1) for n in neurons], np.int64)

    def neurons_at(self, locations: np.ndarray) -> np.ndarray:
        """Neuron id under each location (0 outside the volume)."""
        if self.neurons is None:
            raise ValueError("this volume has no neuron labels")
        voxels = np.floor(
            (np.asarray(locations, np.float64).reshape(-1, 3) - self.offset) / self.voxel_size
        ).astype(np.int64)
        ok = np.all((voxels >= 0) & (voxels < self.neurons.shape), axis=1)
        out = np.zeros(len(voxels), np.uint64)
        out[ok] = self.neurons[tuple(voxels[ok].T)]
        return out
