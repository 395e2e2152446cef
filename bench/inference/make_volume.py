"""A raw uint8 EM-like test volume for the predict benchmarks, written as zarr v2 (gunpowder layout).

  make_volume.py OUT.zarr SIZE [--chunk 64] [--seed 0]  → OUT.zarr/volumes/raw, shape SIZE³, resolution 8 nm

Values are random uint8 (the model is untrained; content does not change its cost); written slab
by slab so a 512³ volume never needs more than one slab in memory.
"""

from __future__ import annotations

import argparse
import shutil

import numpy as np
import zarr


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("size", type=int)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resolution", default="8,8,8")
    a = p.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    n, c = a.size, a.chunk
    root = zarr.open_group(a.out, mode="w")
    ds = root.create_dataset(
        "volumes/raw", shape=(n, n, n), chunks=(c, c, c), dtype="uint8"
    )
    ds.attrs["resolution"] = [float(v) for v in a.resolution.split(",")]
    ds.attrs["offset"] = [0, 0, 0]
    rng = np.random.default_rng(a.seed)
    for z in range(0, n, c):
        ds[z : z + c] = rng.integers(0, 256, (min(c, n - z), n, n), dtype=np.uint8)
    print(f"{a.out}/volumes/raw {n}³ uint8 chunks {c}³")


if __name__ == "__main__":
    main()
