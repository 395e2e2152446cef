import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { imageDims } from '../../spec/image-dims.js';
import { writePng, writeTiff } from './helpers/image-write.js';
import { seededValues } from './helpers/npy-write.js';

const nonSingleton = (dims: number[]) => dims.filter((d) => d !== 1).length;

describe('imageDims', () => {
  test.each([
    ['one page', writeTiff(1, 24, 16, seededValues(384, 1)), [1, 24, 16, 1]],
    ['12 pages', writeTiff(12, 24, 16, seededValues(12 * 384, 1)), [12, 24, 16, 1]],
    [
      'ImageJ z-stack',
      writeTiff(12, 24, 16, seededValues(12 * 384, 1), { imagej: { slices: 12 } }),
      [1, 12, 1, 24, 16, 1],
    ],
    [
      'ImageJ channels × slices',
      writeTiff(12, 24, 16, seededValues(12 * 384, 1), { imagej: { channels: 3, slices: 4 } }),
      [1, 4, 3, 24, 16, 1],
    ],
  ])('TIFF %s', (_name, bytes, dims) => {
    expect(imageDims('s.tif', bytes)).toEqual({ dims });
  });

  test.each([
    [1, [24, 16, 1]],
    [3, [24, 16, 3]],
    [4, [24, 16, 4]],
  ] as const)('PNG with %i channels', (channels, dims) => {
    expect(imageDims('s.png', writePng(24, 16, channels))).toEqual({ dims });
  });

  test('the non-singleton rank matches what imageio decodes (tifffile-written TIFFs too)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'img-'));
    try {
      const py = spawnSync(
        join(process.cwd(), '.venv/bin/python'),
        [
          '-c',
          `import sys, json, numpy as np, tifffile
from imageio.v3 import imread
d = sys.argv[1]
tifffile.imwrite(d + '/shaped.tif', np.ones((2, 5, 24, 16), np.float32))
tifffile.imwrite(d + '/ij.tif', np.ones((6, 2, 24, 16), np.float32), imagej=True, metadata={'axes': 'ZCYX'})
tifffile.imwrite(d + '/rgb.tif', np.ones((24, 16, 3), np.uint8), photometric='rgb')
print(json.dumps({n: imread(open(d + '/' + n, 'rb').read(), extension='.tif').squeeze().ndim for n in ['shaped.tif', 'ij.tif', 'rgb.tif']}))`,
          dir,
        ],
        { encoding: 'utf8' },
      );
      expect(py.status, py.stderr).toBe(0);
      const expected = JSON.parse(py.stdout) as Record<string, number>;
      for (const [name, ndim] of Object.entries(expected)) {
        const read = imageDims(name, new Uint8Array(readFileSync(join(dir, name))));
        expect(read && 'dims' in read ? nonSingleton(read.dims) : undefined, name).toBe(ndim);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['text as TIFF', 's.tif', new TextEncoder().encode('not a tiff at all')],
    ['BigTIFF', 's.tif', Uint8Array.from([0x49, 0x49, 43, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['truncated TIFF', 's.tif', writeTiff(1, 24, 16, seededValues(384, 1)).subarray(0, 100)],
    ['text as PNG', 's.png', new TextEncoder().encode('not a png, no, not at all')],
  ])('%s is a problem, not a throw', (_name, file, bytes) => {
    const read = imageDims(file, bytes);
    expect(read && 'problem' in read && read.problem.length > 0).toBe(true);
  });

  test('other formats are not read', () => {
    expect(imageDims('s.h5', new Uint8Array(10))).toBeUndefined();
  });
});
