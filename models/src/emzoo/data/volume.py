"""The in-memory EM volume every reader returns and the synthetic generator produces.

All locations are world coordinates in nm, (z, y, x); ``offset`` is the world position of
voxel (0, 0, 0)'s corner, so voxel index = floor((location - offset) / voxel_size).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from emzoo.errors import InvalidInput
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

    def crop(self, start: tuple[int, int, int], shape: tuple[int, int, int]) -> EMVolume:
        """The sub-volume of ``shape`` voxels at voxel ``start``: arrays cropped, offset moved,
        synapse rows kept when both partners lie inside, track pieces kept inside."""
        start_a, shape_a = np.asarray(start, np.int64), np.asarray(shape, np.int64)
        if (
            len(start_a) != 3
            or np.any(start_a < 0)
            or np.any(start_a + shape_a > self.shape)
            or np.any(shape_a < 1)
        ):
            raise InvalidInput(
                f"crop at {tuple(start)} of size {tuple(shape)} does not fit the volume {self.shape}",
                hint="choose start >= 0 and start + shape <= the volume's shape",
            )
        window = tuple(slice(int(a), int(a + s)) for a, s in zip(start_a, shape_a, strict=True))
        vs = np.asarray(self.voxel_size, np.float64)
        lo = np.asarray(self.offset, np.float64) + start_a * vs
        hi = lo + shape_a * vs

        def inside(points):
            return np.all((points >= lo) & (points < hi), axis=1)

        syn = self.synapses
        keep = inside(syn.pre_locations) & inside(syn.post_locations)
        microtubules = None
        if self.microtubules is not None:
            pieces, ids = [], []
            for track_id, line in zip(*self.microtubules.polylines(), strict=True):
                ok = inside(line)
                # split at nodes outside the crop into runs of >= 2 nodes
                breaks = np.flatnonzero(~ok)
                for run in np.split(np.arange(len(line)), breaks):
                    run = run[ok[run]]
                    if len(run) >= 2:
                        pieces.append(line[run])
                        ids.append(track_id)
            microtubules = Microtubules.from_polylines(pieces, ids)

        def cut(array):
            return None if array is None else array[window].copy()

        neurons = cut(self.neurons)
        present = (
            np.isin(self.neuron_ids, np.unique(neurons)) if neurons is not None else slice(None)
        )
        return replace(
            self,
            raw=self.raw[window].copy(),
            offset=tuple(float(v) for v in lo),
            neurons=neurons,
            mask=cut(self.mask),
            synapses=Synapses(
                syn.pre_locations[keep],
                syn.post_locations[keep],
                syn.pre_ids[keep],
                syn.post_ids[keep],
            ),
            neuron_ids=self.neuron_ids[present],
            neuron_transmitters=self.neuron_transmitters[present],
            microtubules=microtubules,
            microtubule_labels=cut(self.microtubule_labels),
            attrs={**self.attrs, "crop_start": [int(a) for a in start_a]},
        )

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
