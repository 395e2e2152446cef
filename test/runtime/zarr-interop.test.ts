import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { ndarray } from '../../runtime/tensors/ndarray.js';
import { readNpy } from '../../runtime/tensors/npy-read.js';
import { writeNpy } from '../../runtime/tensors/npy-write.js';
import { createVolume } from '../../runtime/volumes/create-volume.js';
import { openVolume } from '../../runtime/volumes/open-volume.js';
import { FIXTURES, python, withTempDir } from './helpers.js';

// zarr-python 3 + ome-zarr-models live in a throwaway venv (.cache/zarr3-venv), made once by this script.
let zarr3Python: string;
beforeAll(async () => {
  const { stdout } = await promisify(execFile)('bash', [join(FIXTURES, 'zarr3-venv.sh')]);
  zarr3Python = stdout.trim();
}, 180_000);

const PY_READ = `
import json, sys, numpy as np, zarr
from ome_zarr_models.v05 import Image
d = sys.argv[1]
out = {}
for name in ("zstd", "blosc"):
    g = zarr.open_group(f"{d}/{name}.zarr", mode="r")
    img = Image.from_zarr(g)   # validates the OME-NGFF 0.5 metadata (raises if invalid)
    ms = img.attributes.ome.multiscales[0]
    a = g["0"]
    want = np.load(f"{d}/expected.npy")
    out[name] = {
        "equal": bool(np.array_equal(a[:], want)),
        "dtype": str(a.dtype),
        "format": a.metadata.zarr_format,
        "axes": [(ax.name, ax.type, ax.unit) for ax in ms.axes],
        "scale": list(ms.datasets[0].coordinateTransformations[0].scale),
        "translation": list(ms.datasets[0].coordinateTransformations[1].translation),
    }
print(json.dumps(out))
`;

const PY_WRITE = `
import sys, numpy as np, zarr
d = sys.argv[1]
x = (np.arange(5 * 6 * 7, dtype=np.float32).reshape(5, 6, 7) * 0.25 - 3)
a = zarr.create_array(f"{d}/py3.zarr", shape=x.shape, chunks=(2, 4, 3), dtype="float32",
                      compressors=zarr.codecs.ZstdCodec(level=2), dimension_names=["z", "y", "x"])
a[:] = x
g = zarr.create_array(f"{d}/py3_gzip.zarr", shape=(4, 4), chunks=(3, 3), dtype="int32",
                      compressors=zarr.codecs.GzipCodec(level=5))
g[:] = np.arange(16, dtype=np.int32).reshape(4, 4)
s = zarr.create_array(f"{d}/py3_sharded.zarr", shape=x.shape, shards=(4, 6, 6), chunks=(2, 3, 3), dtype="float32")
s[:] = x
np.save(f"{d}/py3.npy", x)
`;

describe('zarr-python 3 interop', () => {
  test('Python zarr 3 reads our v3 arrays (zstd, blosc) and validates their OME-NGFF 0.5 metadata', async () => {
    await withTempDir(async (dir) => {
      const block = ndarray('uint8', [3, 6, 7, 8]);
      block.data.forEach((_, i) => {
        block.data[i] = (i * 7) % 256;
      });
      await writeNpy(join(dir, 'expected.npy'), block);
      for (const compressor of ['zstd', 'blosc'] as const) {
        const w = await createVolume(join(dir, `${compressor}.zarr`), {
          shape: block.shape,
          chunks: [3, 4, 4, 4],
          dtype: 'uint8',
          compressor,
          ome: { channelAxis: true, voxelSize: [40, 4, 4], translation: [80, 8, 8] },
        });
        // Two writes along z (0..3, 3..6) that split chunks, so partial-chunk writes are exercised.
        for (const [z0, z1] of [
          [0, 3],
          [3, 6],
        ] as const) {
          const part = ndarray('uint8', [3, z1 - z0, 7, 8]);
          for (let c = 0; c < 3; c++) {
            part.data.set(block.data.subarray((c * 6 + z0) * 56, (c * 6 + z1) * 56), c * (z1 - z0) * 56);
          }
          await w.write([0, z0, 0, 0], part);
        }
      }
      const report = JSON.parse(await python(PY_READ, [dir], zarr3Python));
      for (const name of ['zstd', 'blosc']) {
        expect(report[name]).toEqual({
          equal: true,
          dtype: 'uint8',
          format: 3,
          axes: [
            ['c', 'channel', null],
            ['z', 'space', 'nanometer'],
            ['y', 'space', 'nanometer'],
            ['x', 'space', 'nanometer'],
          ],
          scale: [1, 40, 4, 4],
          translation: [0, 80, 8, 8],
        });
      }
    });
  });

  test('we read v3 arrays written by Python zarr 3 (zstd, gzip, sharded)', async () => {
    await withTempDir(async (dir) => {
      await python(PY_WRITE, [dir], zarr3Python);
      const want = await readNpy(join(dir, 'py3.npy'));
      const vol = await openVolume(join(dir, 'py3.zarr'));
      expect(vol.shape).toEqual([5, 6, 7]);
      expect((await vol.read({ start: [0, 0, 0], stop: [5, 6, 7] })).data).toEqual(want.data);
      const sharded = await openVolume(join(dir, 'py3_sharded.zarr'));
      expect((await sharded.read({ start: [0, 0, 0], stop: [5, 6, 7] })).data).toEqual(want.data);
      const gz = await openVolume(join(dir, 'py3_gzip.zarr'));
      const got = await gz.read({ start: [1, 1], stop: [4, 3] });
      expect(Array.from(got.data as Int32Array)).toEqual([5, 6, 9, 10, 13, 14]);
    });
  });
});
