"""The straightforward Python baseline for bench/inference/predict-efficiency.ts.

PyTorch eager (the bundle's architecture.py + state_dict.pt) over a zarr volume: non-overlapping
output tiles of the block's valid output size; each tile reads its input with the halo (zero
padding outside the volume, in network space, as `predict --padding zero` does), runs the model
and writes the tile into a zarr v2 array (uint8 = round(v·255) or float32; zstd level 3 like predict).

  python_loop.py BUNDLE IN.zarr/volumes/raw OUT.zarr --block 168 --threads 2 [--uint8]
  → one JSON line: {"seconds": wall time of the loop, "tiles": n, ...}
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
import zarr
from numcodecs import Zstd

sys.path.insert(0, str(Path(__file__).parent))
from bundle_model import load_bundle_yaml, load_torch_model


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("bundle", type=Path)
    p.add_argument(
        "input",
        help="zarr container path with the array path, e.g. raw.zarr/volumes/raw",
    )
    p.add_argument("output")
    p.add_argument(
        "--block",
        type=int,
        required=True,
        help="input block edge (a valid model input size)",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--uint8", action="store_true")
    a = p.parse_args()
    t_start = time.perf_counter()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)

    meta = load_bundle_yaml(a.bundle)
    halo = meta["output"]["halo"]
    gain, offset = (
        meta["input"]["preprocessing"]["gain"],
        meta["input"]["preprocessing"]["offset"],
    )
    channels = len(meta["output"]["channel_names"])
    model = load_torch_model(a.bundle)

    container, _, path = a.input.partition(".zarr/")
    raw = zarr.open(container + ".zarr", mode="r")[path]
    shape = raw.shape
    out_tile = [a.block - 2 * h for h in halo]
    shutil.rmtree(a.output, ignore_errors=True)
    out = zarr.open(
        a.output,
        mode="w",
        shape=(channels, *shape),
        chunks=(channels, *out_tile),
        dtype="uint8" if a.uint8 else "float32",
        compressor=Zstd(level=3),
    )
    t_loop = time.perf_counter()
    tiles = 0
    starts = [range(0, n, t) for n, t in zip(shape, out_tile, strict=True)]
    for start in itertools.product(*starts):
        # Read the tile's input with its halo, clipped to the volume; the rest stays 0 (network space).
        lo = [s - h for s, h in zip(start, halo, strict=True)]
        hi = [s + t + h for s, t, h in zip(start, out_tile, halo, strict=True)]
        src = tuple(
            slice(max(0, l_), min(n, h_))
            for l_, h_, n in zip(lo, hi, shape, strict=True)
        )
        dst = tuple(
            slice(s.start - l_, s.stop - l_) for s, l_ in zip(src, lo, strict=True)
        )
        x = np.zeros((1, 1, a.block, a.block, a.block), np.float32)
        x[(0, 0, *dst)] = raw[src].astype(np.float32) * np.float32(gain) + np.float32(
            offset
        )
        with torch.inference_mode():
            y = model(torch.from_numpy(x))[0].numpy()
        stop = [min(n, s + t) for s, t, n in zip(start, out_tile, shape, strict=True)]
        y = y[
            (slice(None), *(slice(0, e - s) for s, e in zip(start, stop, strict=True)))
        ]
        if a.uint8:
            y = np.clip(np.rint(y * 255), 0, 255).astype(np.uint8)
        out[(slice(None), *(slice(s, e) for s, e in zip(start, stop, strict=True)))] = y
        tiles += 1
    t_end = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": t_end - t_start,
                "loop_seconds": t_end - t_loop,
                "tiles": tiles,
                "out_tile": out_tile,
                "threads": a.threads,
            }
        )
    )


if __name__ == "__main__":
    main()
