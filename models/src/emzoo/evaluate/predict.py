"""Run a bundle's model.onnx (onnxruntime, CPU) over a volume or a batch of crops.

Dense outputs are tiled: tiles of a valid input size (min + k·step per axis, the largest that
fits the volume and ``max_tile_voxels``), output tiles abut (the last one per axis is shifted
back to end at the border, overlapping its neighbour). There is no padding: the prediction
covers the volume minus the output halo on every side, where the network saw real data.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emzoo.errors import InvalidInput


@dataclass
class Bundle:
    folder: Path
    meta: dict[str, Any]

    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def voxel_size(self) -> tuple[float, float, float]:
        return tuple(float(v) for v in self.meta["input"]["voxel_size_nm"])

    @property
    def halo(self) -> tuple[int, int, int]:
        return tuple(int(h) for h in self.meta["output"].get("halo", (0, 0, 0)))

    @property
    def channel_names(self) -> list[str]:
        return list(self.meta["output"]["channel_names"])

    @property
    def semantics(self) -> dict[str, Any]:
        return self.meta["output"].get("semantics", {})

    def channels(self, names: list[str]) -> list[int]:
        return [self.channel_names.index(n) for n in names]

    def preprocess(self, raw: np.ndarray) -> np.ndarray:
        prep = self.meta["input"]["preprocessing"]
        return (
            raw.astype(np.float32) * np.float32(prep["gain"]) + np.float32(prep["offset"])
        ).astype(np.float32)


def load_bundle(folder: str | Path) -> Bundle:
    """The bundle.yaml of ``folder``, checked against the schema and its files' sha256."""
    from emzoo.export.validate import validate_bundle

    folder = Path(folder)
    return Bundle(folder, validate_bundle(folder, expect_id=False))


_memo: dict[tuple[str, int], np.ndarray] | None = None


@contextmanager
def memoized_predictions() -> Iterator[None]:
    """Within the block, predict_dense returns the stored result for the same bundle and raw
    array (the tuning sweep scores one prediction at many thresholds)."""
    global _memo
    previous, _memo = _memo, {}
    try:
        yield
    finally:
        _memo = previous


class Model:
    """onnxruntime session over a bundle's model.onnx."""

    def __init__(self, bundle: Bundle, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
        path = bundle.folder / bundle.meta["weights"]["onnx"]["file"]
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, np.float32)})[0]


def tile_input_shape(
    bundle: Bundle, volume_shape: tuple[int, ...], max_tile_voxels: int = 2_000_000
) -> tuple[int, int, int]:
    vmin = bundle.meta["input"]["valid_size"]["min"]
    vstep = bundle.meta["input"]["valid_size"]["step"]
    if any(s < m for s, m in zip(volume_shape, vmin, strict=True)):
        raise InvalidInput(
            f"volume {tuple(volume_shape)} is smaller than the model's smallest input {tuple(vmin)}",
            hint="evaluate on a larger volume (emzoo synth --shape)",
        )
    ks = [(s - m) // st if st else 0 for s, m, st in zip(volume_shape, vmin, vstep, strict=True)]
    size = lambda k: [m + kk * st for m, kk, st in zip(vmin, k, vstep, strict=True)]  # noqa: E731
    while np.prod(size(ks)) > max_tile_voxels and any(ks):
        axis = int(np.argmax([s if k else -1 for s, k in zip(size(ks), ks, strict=True)]))
        ks[axis] -= 1
    return tuple(size(ks))


def _starts(total: int, tile: int) -> list[int]:
    starts = list(range(0, max(total - tile, 0) + 1, tile))
    if starts[-1] + tile < total:
        starts.append(total - tile)
    return starts


def predict_dense(
    bundle: Bundle, raw: np.ndarray, model: Model | None = None, max_tile_voxels: int = 2_000_000
) -> np.ndarray:
    """(channels, *(raw.shape - 2·halo)) prediction for the region raw[halo:-halo]."""
    if bundle.meta["output"]["kind"] != "dense":
        raise InvalidInput(f"{bundle.folder} has a class output, not a dense one")
    key = (str(bundle.folder), id(raw))
    if _memo is not None and key in _memo:
        return _memo[key]
    out = _predict_dense(bundle, raw, model, max_tile_voxels)
    if _memo is not None:
        _memo[key] = out
    return out


def _predict_dense(
    bundle: Bundle, raw: np.ndarray, model: Model | None, max_tile_voxels: int
) -> np.ndarray:
    model = model or Model(bundle)
    halo = np.asarray(bundle.halo)
    tile_in = np.asarray(tile_input_shape(bundle, raw.shape, max_tile_voxels))
    tile_out = tile_in - 2 * halo
    out_shape = np.asarray(raw.shape) - 2 * halo
    out = np.zeros((len(bundle.channel_names), *out_shape), np.float32)
    grid = [_starts(int(t), int(o)) for t, o in zip(out_shape, tile_out, strict=True)]
    for start in itertools.product(*grid):
        box = tuple(slice(s, s + int(t)) for s, t in zip(start, tile_in, strict=True))
        y = model(bundle.preprocess(raw[box])[None, None])[0]
        if tuple(y.shape[1:]) != tuple(tile_out):
            raise InvalidInput(
                f"model output {y.shape[1:]} for input {tuple(tile_in)}; bundle.yaml declares halo "
                f"{tuple(halo)}",
                hint="re-export the bundle",
            )
        out[
            (slice(None), *(slice(s, s + int(t)) for s, t in zip(start, tile_out, strict=True)))
        ] = y
    return out


def crops_around(
    raw: np.ndarray, centres_vox: np.ndarray, shape: tuple[int, int, int]
) -> np.ndarray:
    """(N, z, y, x) crops of ``shape`` centred on voxel indices, zero outside the volume (as
    Synister's prediction: zero-filled raw)."""
    shape_a = np.asarray(shape)
    pad = shape_a
    padded = np.pad(raw, [(int(p), int(p)) for p in pad])
    crops = np.zeros((len(centres_vox), *shape), raw.dtype)
    for i, c in enumerate(np.asarray(centres_vox, np.int64).reshape(-1, 3)):
        lo = c - shape_a // 2 + pad
        crops[i] = padded[
            tuple(slice(int(a), int(a + s)) for a, s in zip(lo, shape_a, strict=True))
        ]
    return crops


def predict_classes(
    bundle: Bundle, crops: np.ndarray, model: Model | None = None, batch: int = 8
) -> np.ndarray:
    """Class probabilities (N, classes) for (N, z, y, x) raw crops."""
    model = model or Model(bundle)
    outputs = [
        model(bundle.preprocess(crops[i : i + batch])[:, None]) for i in range(0, len(crops), batch)
    ]
    if not outputs:
        return np.zeros((0, len(bundle.channel_names)), np.float32)
    z = np.concatenate(outputs).astype(np.float64)
    # the exported graph already ends in softmax (channel_activations "softmax"); a model that
    # returns logits instead is normalised here
    if np.allclose(z.sum(axis=1), 1.0, atol=1e-3) and (z >= 0).all():
        return z.astype(np.float32)
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)
